//! ROUGE with exact parity to Google's Python `rouge-score` 0.1.2 (`rouge_score.rouge_scorer`).
//!
//! * Tokenization is `rouge_score.tokenize.tokenize`: Python `str.lower()`, every run of
//!   characters outside `[a-z0-9]` becomes a separator, and (with the stemmer) tokens longer
//!   than 3 characters go through NLTK's Porter stemmer ([`super::porter`]). Of all non-ASCII
//!   characters only two survive Python's lowercasing as ASCII letters: U+0130 `İ` (lowercases
//!   to `i` + U+0307, so it acts as `i` followed by a separator) and U+212A KELVIN SIGN (`k`);
//!   everything else non-ASCII is a separator. This is what Python does for any input.
//! * `rougeN`: clipped n-gram overlap; precision = overlap / max(#prediction n-grams, 1),
//!   recall = overlap / max(#target n-grams, 1).
//! * `rougeL`: LCS of the two token sequences; 0/0/0 when either side has no tokens.
//! * `rougeLsum`: summary-level union LCS (`_summary_level_lcs` / `_union_lcs`), with the
//!   exact backtracking tie-break of rouge-score's `_backtrack_norec` (which decides *which*
//!   LCS enters the union) and its token-count clipping against double counting. Sentences are
//!   the `"\n"`-separated lines of each text.
//! * F1 is `scoring.fmeasure`: `2*p*r/(p+r)` if `p+r > 0`, else 0.
//!
//! `split_summaries = true`: rouge-score then splits sentences with `nltk.sent_tokenize`
//! (Punkt with its trained English model), which cannot be reproduced exactly without the
//! Punkt model data. In that mode this module instead uses a documented, punkt-free rule (see
//! [`split_sentence_starts`]): a sentence ends after `.`, `!` or `?` (optionally followed by
//! closing quotes or brackets) when whitespace follows. Only `rougeLsum` is affected, and that
//! mode is **not** covered by the parity fixture.
//!
//! Implementation: each text is tokenized (and each distinct word stemmed) once per call,
//! tokens are interned to dense `u32` ids, n-grams are packed into `u64` keys and counted by
//! sorting, rougeL uses a bit-parallel LCS (Hyyrö 2004; a rolling-row DP for huge inputs), and
//! rougeLsum stores each sentence pair's LCS table as bit rows ((|r|+1)·⌈|c|/64⌉ words instead
//! of rouge-score's |r|·|c| cells) and backtracks through it with rouge-score's tie-break.
//!
//! Parity is proven by `tests/rouge_parity.rs` against `tests/fixtures/rouge_parity.jsonl.gz`
//! (generated with rouge-score 0.1.2 by `eval/reference/gen_rouge_fixtures.py`).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::porter;

/// Precision, recall and F1 of one ROUGE type (rouge-score's `Score`, with `fmeasure` → `f1`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prf {
    /// Matches over the prediction's n-grams (or LCS length over its tokens), 0..1.
    pub precision: f64,
    /// Matches over the target's n-grams (or LCS length over its tokens), 0..1.
    pub recall: f64,
    /// rouge-score's `fmeasure`: harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

impl Prf {
    /// All zeros (what rouge-score reports for an empty prediction or target).
    pub const ZERO: Prf = Prf { precision: 0.0, recall: 0.0, f1: 0.0 };

    /// Builds a score from precision and recall with rouge-score's `fmeasure`.
    pub fn from_pr(precision: f64, recall: f64) -> Prf {
        Prf { precision, recall, f1: fmeasure(precision, recall) }
    }
}

/// `rouge_score.scoring.fmeasure`.
#[inline]
pub fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// A ROUGE variant: `rouge1`..`rouge9`, `rougeL`, `rougeLsum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RougeType {
    /// n-gram overlap, n in 1..=9.
    N(usize),
    /// Longest common subsequence over the whole texts.
    L,
    /// Summary-level (union) LCS over `"\n"`-separated sentences.
    Lsum,
}

impl RougeType {
    /// The rouge-score name: `"rouge1"`, `"rougeL"`, `"rougeLsum"`.
    pub fn name(&self) -> String {
        match self {
            RougeType::N(n) => format!("rouge{n}"),
            RougeType::L => "rougeL".to_string(),
            RougeType::Lsum => "rougeLsum".to_string(),
        }
    }

    fn is_valid(&self) -> bool {
        !matches!(self, RougeType::N(n) if !(1..=9).contains(n))
    }
}

impl fmt::Display for RougeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RougeError {
    /// A type name or n-gram order that is not a ROUGE type (the name given).
    #[error("invalid rouge type {0:?} (expected rouge1..rouge9, rougeL or rougeLsum)")]
    InvalidType(String),
}

impl FromStr for RougeType {
    type Err = RougeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rougeL" => Ok(RougeType::L),
            "rougeLsum" => Ok(RougeType::Lsum),
            _ => {
                let b = s.as_bytes();
                if b.len() == 6 && s.starts_with("rouge") && (b'1'..=b'9').contains(&b[5]) {
                    Ok(RougeType::N((b[5] - b'0') as usize))
                } else {
                    Err(RougeError::InvalidType(s.to_string()))
                }
            }
        }
    }
}

impl Serialize for RougeType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for RougeType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Scorer configuration (rouge-score's `RougeScorer(rouge_types, use_stemmer, split_summaries)`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RougeConfig {
    /// Serialized as names (`"rouge1"`, `"rougeL"`, ...).
    pub types: Vec<RougeType>,
    /// Porter-stem tokens longer than three characters (rouge-score's `use_stemmer`).
    pub use_stemmer: bool,
    /// See the module docs: not rouge-score's Punkt splitting, a documented approximation.
    pub split_summaries: bool,
}

impl Default for RougeConfig {
    fn default() -> Self {
        RougeConfig {
            types: vec![RougeType::N(1), RougeType::N(2), RougeType::L, RougeType::Lsum],
            use_stemmer: true,
            split_summaries: false,
        }
    }
}

/// How [`RougeScorer::score_multi`] combines the scores against several targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultiRef {
    /// rouge-score's `score_multi`: per type, the target with the highest F1 (the first one
    /// on ties, like `np.argmax`).
    Best,
    /// Per type, the arithmetic mean of each field (precision, recall, F1 separately) over the
    /// targets.
    Mean,
}

/// Tokenizes exactly as `rouge_score.tokenize.tokenize(text, PorterStemmer() if use_stemmer
/// else None)`.
pub fn tokenize(text: &str, use_stemmer: bool) -> Vec<String> {
    with_ctx(use_stemmer, |ctx| {
        let seq = ctx.tokenize(text, &SentMode::None);
        seq.ids
            .iter()
            .map(|&id| String::from_utf8_lossy(ctx.final_bytes(id)).into_owned())
            .collect()
    })
}

/// rouge-score's `RougeScorer` with its `DefaultTokenizer`.
#[derive(Clone, Debug)]
pub struct RougeScorer {
    cfg: RougeConfig,
}

impl RougeScorer {
    /// Panics if `cfg.types` holds `N(n)` with `n` outside 1..=9 (use [`RougeScorer::try_new`]
    /// to get an error instead).
    pub fn new(cfg: RougeConfig) -> Self {
        match Self::try_new(cfg) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// A scorer for `cfg`, or [`RougeError::InvalidType`] if a type is out of range.
    pub fn try_new(cfg: RougeConfig) -> Result<Self, RougeError> {
        if let Some(t) = cfg.types.iter().find(|t| !t.is_valid()) {
            return Err(RougeError::InvalidType(t.name()));
        }
        Ok(RougeScorer { cfg })
    }

    /// The configuration this scorer was built with.
    pub fn config(&self) -> &RougeConfig {
        &self.cfg
    }

    /// rouge-score's `score(target, prediction)`, in the order of `cfg.types`.
    pub fn score(&self, target: &str, prediction: &str) -> Vec<(RougeType, Prf)> {
        let mode_t = self.sent_mode(target);
        let mode_p = self.sent_mode(prediction);
        let (t, p, vocab) = with_ctx(self.cfg.use_stemmer, |ctx| {
            let t = ctx.tokenize(target, &mode_t);
            let p = ctx.tokenize(prediction, &mode_p);
            (t, p, ctx.vocab())
        });
        let mut prep = PredPrep::new(&self.cfg.types, &p, vocab);
        let scores = prep.score_target(&self.cfg.types, &t, &p);
        self.cfg.types.iter().copied().zip(scores).collect()
    }

    /// Scores `prediction` against several targets. `Best` is rouge-score's `score_multi`;
    /// `Mean` averages each field. With no targets every score is 0.
    pub fn score_multi(
        &self,
        targets: &[&str],
        prediction: &str,
        agg: MultiRef,
    ) -> Vec<(RougeType, Prf)> {
        let types = &self.cfg.types;
        if targets.is_empty() {
            return types.iter().map(|&t| (t, Prf::ZERO)).collect();
        }
        let (p, ts, vocab) = with_ctx(self.cfg.use_stemmer, |ctx| {
            let p = ctx.tokenize(prediction, &self.sent_mode(prediction));
            let ts: Vec<TokSeq> =
                targets.iter().map(|t| ctx.tokenize(t, &self.sent_mode(t))).collect();
            (p, ts, ctx.vocab())
        });
        let mut prep = PredPrep::new(types, &p, vocab);
        let mut acc: Vec<Prf> = vec![Prf::ZERO; types.len()];
        let mut best_f: Vec<f64> = vec![f64::NEG_INFINITY; types.len()];
        for t in &ts {
            let scores = prep.score_target(types, t, &p);
            for (k, s) in scores.into_iter().enumerate() {
                match agg {
                    MultiRef::Best => {
                        // np.argmax: the first maximum wins.
                        if s.f1 > best_f[k] {
                            best_f[k] = s.f1;
                            acc[k] = s;
                        }
                    }
                    MultiRef::Mean => {
                        acc[k].precision += s.precision;
                        acc[k].recall += s.recall;
                        acc[k].f1 += s.f1;
                    }
                }
            }
        }
        if agg == MultiRef::Mean {
            let n = ts.len() as f64;
            for a in &mut acc {
                a.precision /= n;
                a.recall /= n;
                a.f1 /= n;
            }
        }
        types.iter().copied().zip(acc).collect()
    }

    fn sent_mode(&self, text: &str) -> SentMode {
        if !self.cfg.types.contains(&RougeType::Lsum) {
            SentMode::None
        } else if self.cfg.split_summaries {
            SentMode::Starts(split_sentence_starts(text))
        } else {
            SentMode::Newline
        }
    }
}

/// The punkt-free sentence rule used when `split_summaries` is set (NOT nltk's
/// `sent_tokenize`): returns the byte offsets at which a new sentence starts. A sentence ends
/// after a run of `.`, `!`, `?` that is optionally followed by closing quotes/brackets
/// (`"'’”»)]}`) and then by whitespace; the boundary is that whitespace character.
pub fn split_sentence_starts(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut state = 0u8; // 0: normal, 1: after terminator (and closers)
    for (i, c) in text.char_indices() {
        match c {
            '.' | '!' | '?' => state = 1,
            '"' | '\'' | '’' | '”' | '»' | ')' | ']' | '}' if state == 1 => {}
            c if c.is_whitespace() => {
                if state == 1 {
                    out.push(i);
                }
                state = 0;
            }
            _ => state = 0,
        }
    }
    out
}

// -------------------------------------------------------------------------------------------
// Tokenization and interning
// -------------------------------------------------------------------------------------------

enum SentMode {
    /// No sentence structure needed.
    None,
    /// Sentences are `"\n"`-separated lines (rouge-score's default for rougeLsum).
    Newline,
    /// Sentences start at these byte offsets (sorted).
    Starts(Vec<usize>),
}

/// Token ids of one text plus its non-empty sentences as ranges of `ids`.
struct TokSeq {
    ids: Vec<u32>,
    sents: Vec<(u32, u32)>,
}

const HASH_K: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn hash_bytes(s: &[u8]) -> u64 {
    let mut h: u64 = s.len() as u64;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(HASH_K);
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut b = [0u8; 8];
        b[..rem.len()].copy_from_slice(rem);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(HASH_K);
    }
    // Final avalanche so that the high bits (used for the slot) depend on every input bit.
    h ^= h >> 29;
    h.wrapping_mul(HASH_K)
}

/// Byte-string interner: open addressing over an arena, dense ids from 0. Each slot keeps the
/// string's first 8 bytes and a tag (hash bits and length), so a lookup of a token of up to 8
/// bytes (most words) touches one slot and nothing else; longer ones compare the arena copy.
struct Interner {
    arena: Vec<u8>,
    spans: Vec<(u32, u32)>,
    table: Vec<Slot>,
    shift: u32,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    head: u64,
    tag: u32,
    /// 0 = empty, else id + 1.
    id1: u32,
}

/// First 8 bytes, zero-padded, little-endian.
#[inline]
fn head_of(s: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let k = s.len().min(8);
    b[..k].copy_from_slice(&s[..k]);
    u64::from_le_bytes(b)
}

#[inline]
fn tag_of(h: u64, len: usize) -> u32 {
    ((h as u32) & !0xFF) | len.min(0xFF) as u32
}

impl Interner {
    fn new(expected: usize) -> Self {
        let cap = (expected.max(8) * 2).next_power_of_two();
        Interner {
            arena: Vec::with_capacity(expected * 6),
            spans: Vec::with_capacity(expected),
            table: vec![Slot::default(); cap],
            shift: 64 - cap.trailing_zeros(),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.spans.len()
    }

    #[inline]
    fn get(&self, id: u32) -> &[u8] {
        let (s, l) = self.spans[id as usize];
        &self.arena[s as usize..(s + l) as usize]
    }

    /// Returns `(id, newly_inserted)`.
    #[inline]
    fn intern(&mut self, s: &[u8]) -> (u32, bool) {
        self.intern_hashed(s, hash_bytes(s))
    }

    /// [`Interner::intern`] with `h == hash_bytes(s)` already computed.
    #[inline]
    fn intern_hashed(&mut self, s: &[u8], h: u64) -> (u32, bool) {
        let mask = self.table.len() - 1;
        let head = head_of(s);
        let tag = tag_of(h, s.len());
        let mut slot = (h >> self.shift) as usize;
        loop {
            let e = self.table[slot];
            if e.id1 == 0 {
                break;
            }
            if e.tag == tag && e.head == head && (s.len() <= 8 || self.get(e.id1 - 1) == s) {
                return (e.id1 - 1, false);
            }
            slot = (slot + 1) & mask;
        }
        let id = self.spans.len() as u32;
        self.spans.push((self.arena.len() as u32, s.len() as u32));
        self.arena.extend_from_slice(s);
        self.table[slot] = Slot { head, tag, id1: id + 1 };
        if self.spans.len() * 2 > self.table.len() {
            self.grow();
        }
        (id, true)
    }

    fn grow(&mut self) {
        let cap = self.table.len() * 2;
        self.table = vec![Slot::default(); cap];
        self.shift = 64 - cap.trailing_zeros();
        let mask = cap - 1;
        for id in 0..self.spans.len() as u32 {
            let s = self.get(id);
            let h = hash_bytes(s);
            let new = Slot { head: head_of(s), tag: tag_of(h, s.len()), id1: id + 1 };
            let mut slot = (h >> self.shift) as usize;
            while self.table[slot].id1 != 0 {
                slot = (slot + 1) & mask;
            }
            self.table[slot] = new;
        }
    }
}

const NO_TOKEN: u32 = u32::MAX;

/// Per-thread tokenization state shared across calls (corpus vocabularies repeat, so each
/// word is interned and stemmed about once per thread): raw token → final (stemmed) token,
/// plus a per-call renumbering of final tokens to dense ids 0.. (what the scorer indexes by).
/// Bounded: everything is cleared past 1M distinct raw tokens.
struct Ctx {
    use_stemmer: bool,
    raw: Interner,
    /// Stemming mode: raw id → final id (NO_TOKEN when rouge-score drops the token).
    raw2fin: Vec<u32>,
    fin: Interner,
    /// Per-call dense ids: `stamp[g] == epoch` when global final id g has local id `lid[g]`.
    epoch: u32,
    stamp: Vec<u32>,
    lid: Vec<u32>,
    /// Local id → global final id.
    locals: Vec<u32>,
    cur: Vec<u8>,
    sbuf: Vec<u8>,
    /// Direct-mapped cache in front of `raw` + `raw2fin` for tokens of up to 16 bytes (all
    /// but a few): raw token → final id without touching the large tables.
    front: Vec<FrontSlot>,
}

#[derive(Clone, Copy, Default)]
struct FrontSlot {
    head: u64,
    /// Bytes 8..16, zero-padded.
    head2: u64,
    /// `tag_of` of the token; 0 = empty (a tag's low byte is the length, at least 1).
    tag: u32,
    fin: u32,
}

const FRONT_BITS: u32 = 12;

thread_local! {
    static CTX_STEM: std::cell::RefCell<Ctx> = std::cell::RefCell::new(Ctx::new(true));
    static CTX_PLAIN: std::cell::RefCell<Ctx> = std::cell::RefCell::new(Ctx::new(false));
}

/// Runs `f` with this thread's tokenization state, started for a new call.
fn with_ctx<R>(use_stemmer: bool, f: impl FnOnce(&mut Ctx) -> R) -> R {
    let key = if use_stemmer { &CTX_STEM } else { &CTX_PLAIN };
    key.with(|c| {
        let mut c = c.borrow_mut();
        c.begin();
        f(&mut c)
    })
}

impl Ctx {
    fn new(use_stemmer: bool) -> Self {
        Ctx {
            use_stemmer,
            raw: Interner::new(1 << 12),
            raw2fin: Vec::new(),
            fin: Interner::new(if use_stemmer { 1 << 12 } else { 0 }),
            epoch: 0,
            stamp: Vec::new(),
            lid: Vec::new(),
            locals: Vec::new(),
            cur: Vec::with_capacity(32),
            sbuf: Vec::with_capacity(32),
            front: vec![FrontSlot::default(); 1 << FRONT_BITS],
        }
    }

    /// Starts a call: fresh local ids (and a fresh vocabulary when it has grown too large).
    fn begin(&mut self) {
        if self.raw.len() > 1 << 20 {
            *self = Ctx::new(self.use_stemmer);
        }
        self.locals.clear();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
    }

    /// Number of distinct final token ids in this call.
    fn vocab(&self) -> usize {
        self.locals.len()
    }

    fn final_bytes(&self, id: u32) -> &[u8] {
        let g = self.locals[id as usize];
        if self.use_stemmer {
            self.fin.get(g)
        } else {
            self.raw.get(g)
        }
    }

    /// Interns the token in `self.cur` (then clears it) and appends its local id to `ids`.
    #[inline]
    fn flush(&mut self, ids: &mut Vec<u32>) {
        if self.cur.is_empty() {
            return;
        }
        let h = hash_bytes(&self.cur);
        let g = if self.cur.len() <= 16 {
            let head = head_of(&self.cur);
            let head2 = if self.cur.len() > 8 { head_of(&self.cur[8..]) } else { 0 };
            let tag = tag_of(h, self.cur.len());
            let slot = (h >> (64 - FRONT_BITS)) as usize;
            let e = self.front[slot];
            if e.tag == tag && e.head == head && e.head2 == head2 {
                e.fin
            } else {
                let g = self.final_id(h);
                self.front[slot] = FrontSlot { head, head2, tag, fin: g };
                g
            }
        } else {
            self.final_id(h)
        };
        self.cur.clear();
        if g == NO_TOKEN {
            return;
        }
        let gi = g as usize;
        if gi >= self.stamp.len() {
            let n = (gi + 1).next_power_of_two().max(1 << 12);
            self.stamp.resize(n, 0);
            self.lid.resize(n, 0);
        }
        if self.stamp[gi] != self.epoch {
            self.stamp[gi] = self.epoch;
            self.lid[gi] = self.locals.len() as u32;
            self.locals.push(g);
        }
        ids.push(self.lid[gi]);
    }

    /// Global final id of the token in `self.cur` (hash `h`): interned, stemmed when new;
    /// NO_TOKEN when rouge-score drops it.
    #[inline]
    fn final_id(&mut self, h: u64) -> u32 {
        let (rid, new) = self.raw.intern_hashed(&self.cur, h);
        if !self.use_stemmer {
            rid
        } else {
            if new {
                let fid = if self.cur.len() > 3 {
                    self.sbuf.clear();
                    self.sbuf.extend_from_slice(&self.cur);
                    porter::stem_lower_ascii_in_place(&mut self.sbuf);
                    // rouge-score drops tokens that are not ^[a-z0-9]+$ after stemming.
                    if self.sbuf.is_empty()
                        || !self.sbuf.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    {
                        NO_TOKEN
                    } else {
                        self.fin.intern(&self.sbuf).0
                    }
                } else {
                    self.fin.intern(&self.cur).0
                };
                self.raw2fin.push(fid);
            }
            self.raw2fin[rid as usize]
        }
    }

    fn tokenize(&mut self, text: &str, mode: &SentMode) -> TokSeq {
        let b = text.as_bytes();
        let mut ids: Vec<u32> = Vec::with_capacity(b.len() / 5 + 4);
        // Token index at which each sentence (including empty ones) ends.
        let mut ends: Vec<u32> = Vec::new();
        let (starts, track_nl): (&[usize], bool) = match mode {
            SentMode::None => (&[], false),
            SentMode::Newline => (&[], true),
            SentMode::Starts(v) => (v.as_slice(), false),
        };
        let mut next_start = 0usize;
        let mut i = 0usize;
        while i < b.len() {
            while next_start < starts.len() && starts[next_start] <= i {
                self.flush(&mut ids);
                ends.push(ids.len() as u32);
                next_start += 1;
            }
            let c = b[i];
            if c < 0x80 {
                if c.is_ascii_alphanumeric() {
                    self.cur.push(c.to_ascii_lowercase());
                } else {
                    self.flush(&mut ids);
                    if c == b'\n' && track_nl {
                        ends.push(ids.len() as u32);
                    }
                }
                i += 1;
            } else if c == 0xC4 && b.get(i + 1) == Some(&0xB0) {
                // U+0130 'İ'.lower() == 'i' + U+0307 (a separator).
                self.cur.push(b'i');
                self.flush(&mut ids);
                i += 2;
            } else if c == 0xE2 && b.get(i + 1) == Some(&0x84) && b.get(i + 2) == Some(&0xAA) {
                // U+212A KELVIN SIGN lowercases to ASCII 'k'.
                self.cur.push(b'k');
                i += 3;
            } else {
                self.flush(&mut ids);
                i += 1;
            }
        }
        self.flush(&mut ids);
        ends.push(ids.len() as u32);
        let mut sents = Vec::with_capacity(ends.len());
        let mut s = 0u32;
        for e in ends {
            if e > s {
                sents.push((s, e));
            }
            s = e;
        }
        TokSeq { ids, sents }
    }
}

// -------------------------------------------------------------------------------------------
// Scoring
// -------------------------------------------------------------------------------------------

/// Prediction-side data shared by all targets of one call.
struct PredPrep {
    vocab: usize,
    /// Sorted n-gram keys of the prediction, per entry of `types` (empty for non-N types).
    ngram_keys: Vec<Vec<u64>>,
    /// Bit-parallel LCS match masks of the prediction: `lcs_slot[id]` (`u32::MAX` = absent
    /// from the prediction) indexes `words`-word masks in `lcs_masks`.
    lcs_slot: Vec<u32>,
    lcs_masks: Vec<u64>,
    lcs_words: usize,
    /// The prediction's tokens, when the masks would be too large (huge inputs) and rougeL
    /// falls back to the O(n) memory DP.
    lcs_dp: Option<Vec<u32>>,
    /// Fallback n-gram ids when packing does not fit in 64 bits.
    fallback: HashMap<u64, u32>,
    /// Lsum scratch.
    union: Vec<bool>,
    cnt_r: Vec<u32>,
    cnt_c: Vec<u32>,
    /// token id → index of its match mask in `sent_masks` for the current candidate
    /// sentence (`u32::MAX` = absent); `vocab` entries, reset after each sentence.
    slot: Vec<u32>,
    sent_masks: Vec<u64>,
    rows: Vec<u64>,
}

impl PredPrep {
    fn new(types: &[RougeType], p: &TokSeq, vocab: usize) -> Self {
        let mut prep = PredPrep {
            vocab,
            ngram_keys: Vec::with_capacity(types.len()),
            lcs_slot: Vec::new(),
            lcs_masks: Vec::new(),
            lcs_words: 0,
            lcs_dp: None,
            fallback: HashMap::new(),
            union: Vec::new(),
            cnt_r: Vec::new(),
            cnt_c: Vec::new(),
            slot: Vec::new(),
            sent_masks: Vec::new(),
            rows: Vec::new(),
        };
        for t in types {
            let keys = match *t {
                RougeType::N(n) => prep.ngram_keys_of(&p.ids, n),
                _ => Vec::new(),
            };
            prep.ngram_keys.push(keys);
        }
        if types.contains(&RougeType::L) && !p.ids.is_empty() {
            let words = p.ids.len().div_ceil(64);
            let mut slot = vec![u32::MAX; vocab];
            let mut distinct = 0usize;
            for &id in &p.ids {
                if slot[id as usize] == u32::MAX {
                    slot[id as usize] = distinct as u32;
                    distinct += 1;
                }
            }
            if distinct.saturating_mul(words) <= LCS_MASK_CAP_WORDS {
                let mut masks = vec![0u64; distinct * words];
                for (j, &id) in p.ids.iter().enumerate() {
                    masks[slot[id as usize] as usize * words + j / 64] |= 1u64 << (j % 64);
                }
                prep.lcs_slot = slot;
                prep.lcs_masks = masks;
                prep.lcs_words = words;
            } else {
                prep.lcs_dp = Some(p.ids.clone());
            }
        }
        prep
    }

    /// Sorted keys identifying the n-grams of `ids` (equal keys ⇔ equal n-grams).
    fn ngram_keys_of(&mut self, ids: &[u32], n: usize) -> Vec<u64> {
        if ids.len() < n {
            return Vec::new();
        }
        let count = ids.len() - n + 1;
        let bits = (usize::BITS - self.vocab.max(2).leading_zeros()) as usize;
        let mut keys: Vec<u64> = Vec::with_capacity(count);
        if n * bits <= 64 {
            for w in ids.windows(n) {
                let mut k = 0u64;
                for &id in w {
                    k = (k << bits) | id as u64;
                }
                keys.push(k);
            }
        } else {
            // Compress (n-1)-gram ids and the next token pairwise into fresh dense ids.
            let mut cur: Vec<u64> = ids.iter().map(|&x| x as u64).collect();
            for k in 2..=n {
                let next_len = ids.len() - k + 1;
                let mut next = Vec::with_capacity(next_len);
                for i in 0..next_len {
                    // (prefix id, next token) → dense id; injective within each level, which
                    // is all that comparisons of same-n keys need.
                    let pair = (cur[i] << 32) | ids[i + k - 1] as u64;
                    let len = self.fallback.len() as u32;
                    let id = *self.fallback.entry(pair).or_insert(len);
                    next.push(id as u64);
                }
                cur = next;
            }
            keys = cur;
        }
        keys.sort_unstable();
        keys
    }

    fn score_target(&mut self, types: &[RougeType], t: &TokSeq, p: &TokSeq) -> Vec<Prf> {
        let mut out = Vec::with_capacity(types.len());
        for (k, ty) in types.iter().enumerate() {
            let s = match *ty {
                RougeType::N(n) => {
                    let tk = self.ngram_keys_of(&t.ids, n);
                    let pk = &self.ngram_keys[k];
                    let inter = sorted_overlap(&tk, pk);
                    let precision = inter as f64 / pk.len().max(1) as f64;
                    let recall = inter as f64 / tk.len().max(1) as f64;
                    Prf::from_pr(precision, recall)
                }
                RougeType::L => {
                    if t.ids.is_empty() || p.ids.is_empty() {
                        Prf::ZERO
                    } else {
                        let lcs = self.lcs_len(&t.ids);
                        Prf::from_pr(
                            lcs as f64 / p.ids.len() as f64,
                            lcs as f64 / t.ids.len() as f64,
                        )
                    }
                }
                RougeType::Lsum => self.summary_level_lcs(t, p),
            };
            out.push(s);
        }
        out
    }

    /// LCS length of `a` and the prediction (bit-parallel, Hyyrö 2004).
    fn lcs_len(&self, a: &[u32]) -> usize {
        if let Some(b) = &self.lcs_dp {
            return lcs_len_dp(a, b);
        }
        let w = self.lcs_words;
        let mut v = vec![!0u64; w];
        for &c in a {
            let s = self.lcs_slot[c as usize];
            if s == u32::MAX {
                continue; // no match anywhere: the row is unchanged
            }
            let m = &self.lcs_masks[s as usize * w..(s as usize + 1) * w];
            let mut carry = 0u64;
            for k in 0..w {
                let vk = v[k];
                let u = vk & m[k];
                let (s1, c1) = vk.overflowing_add(u);
                let (s2, c2) = s1.overflowing_add(carry);
                carry = (c1 | c2) as u64;
                v[k] = s2 | (vk & !m[k]);
            }
        }
        // Bits beyond the prediction length stay 1, so counting all zeros is exact.
        v.iter().map(|x| x.count_zeros() as usize).sum()
    }

    /// `_summary_level_lcs(ref_sent=target sentences, can_sent=prediction sentences)`.
    fn summary_level_lcs(&mut self, t: &TokSeq, p: &TokSeq) -> Prf {
        // Empty sentences are dropped already; they contribute nothing to rouge-score's sums.
        let m = t.ids.len();
        let n = p.ids.len();
        if m == 0 || n == 0 {
            return Prf::ZERO;
        }
        self.cnt_r.clear();
        self.cnt_r.resize(self.vocab, 0);
        self.cnt_c.clear();
        self.cnt_c.resize(self.vocab, 0);
        for &x in &t.ids {
            self.cnt_r[x as usize] += 1;
        }
        for &x in &p.ids {
            self.cnt_c[x as usize] += 1;
        }
        // rouge-score loops `for r in ref_sent: union over c in can_sent`, then counts hits over
        // each r's union indices in increasing order. The union of one r does not depend on
        // the order of the candidates, so we loop candidates outside (building each one's
        // match masks once) and record unions by global target position; walking positions
        // in order then reproduces Python's hit order exactly.
        self.union.clear();
        self.union.resize(m, false);
        if self.slot.len() < self.vocab {
            self.slot.resize(self.vocab, u32::MAX);
        }
        for &(cs, ce) in &p.sents {
            let c = &p.ids[cs as usize..ce as usize];
            let words = c.len().div_ceil(64);
            self.sent_masks.clear();
            let mut nslots = 0u32;
            for (j, &id) in c.iter().enumerate() {
                let mut s = self.slot[id as usize];
                if s == u32::MAX {
                    s = nslots;
                    nslots += 1;
                    self.slot[id as usize] = s;
                    self.sent_masks.resize(self.sent_masks.len() + words, 0);
                }
                self.sent_masks[s as usize * words + j / 64] |= 1u64 << (j % 64);
            }
            for &(rs, re) in &t.sents {
                let r = &t.ids[rs as usize..re as usize];
                lcs_union_bits(
                    r,
                    c,
                    words,
                    &self.slot,
                    &self.sent_masks,
                    &mut self.rows,
                    &mut self.union[rs as usize..re as usize],
                );
            }
            for &id in c {
                self.slot[id as usize] = u32::MAX;
            }
        }
        let mut hits = 0usize;
        for (&tok, &inu) in t.ids.iter().zip(&self.union) {
            if inu {
                let tok = tok as usize;
                if self.cnt_c[tok] > 0 && self.cnt_r[tok] > 0 {
                    hits += 1;
                    self.cnt_c[tok] -= 1;
                    self.cnt_r[tok] -= 1;
                }
            }
        }
        Prf::from_pr(hits as f64 / n as f64, hits as f64 / m as f64)
    }
}

/// Number of zero bits among the lowest `j` bits of the bit row `v`.
#[inline]
fn zeros_below(v: &[u64], j: usize) -> u32 {
    let full = j / 64;
    let mut z: u32 = v[..full].iter().map(|x| x.count_zeros()).sum();
    let rem = j % 64;
    if rem > 0 {
        z += (!v[full] & ((1u64 << rem) - 1)).count_ones();
    }
    z
}

/// `lcs_ind(r, c)` of rouge-score (`_lcs_table` + `_backtrack_norec`), marking the chosen
/// indices of `r` in `union`, with the LCS table held as bit rows: after `i` tokens of `r`,
/// row `V_i` (Hyyrö's bit-parallel LCS over the positions of `c`) satisfies
/// `table[i][j] == zeros among the lowest j bits of V_i`. The backtrack queries exactly the
/// cells Python's does, so the same LCS is picked.
fn lcs_union_bits(
    r: &[u32],
    c: &[u32],
    words: usize,
    slot: &[u32],
    masks: &[u64],
    rows: &mut Vec<u64>,
    union: &mut [bool],
) {
    if r.is_empty() || c.is_empty() {
        return;
    }
    rows.clear();
    rows.resize((r.len() + 1) * words, !0u64);
    for (i, &tok) in r.iter().enumerate() {
        let s = slot[tok as usize];
        let (prev, cur) = rows[i * words..(i + 2) * words].split_at_mut(words);
        if s == u32::MAX {
            cur.copy_from_slice(prev);
            continue;
        }
        let m = &masks[s as usize * words..(s as usize + 1) * words];
        let mut carry = 0u64;
        for k in 0..words {
            let vk = prev[k];
            let u = vk & m[k];
            let (s1, c1) = vk.overflowing_add(u);
            let (s2, c2) = s1.overflowing_add(carry);
            carry = (c1 | c2) as u64;
            cur[k] = s2 | (vk & !m[k]);
        }
    }
    let row = |i: usize| &rows[i * words..(i + 1) * words];
    if zeros_below(row(r.len()), c.len()) == 0 {
        return;
    }
    let (mut i, mut j) = (r.len(), c.len());
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            union[i - 1] = true;
            i -= 1;
            j -= 1;
        } else if zeros_below(row(i), j - 1) > zeros_below(row(i - 1), j) {
            j -= 1;
        } else {
            i -= 1;
        }
    }
}

/// Above this many mask words (64 MiB) rougeL uses the rolling-row DP instead.
const LCS_MASK_CAP_WORDS: usize = 1 << 23;

/// LCS length with one rolling DP row (`_lcs_table(ref, can)[-1][-1]`).
fn lcs_len_dp(a: &[u32], b: &[u32]) -> usize {
    let mut row = vec![0u32; b.len() + 1];
    for &x in a {
        let mut diag = 0u32;
        for j in 1..=b.len() {
            let up = row[j];
            row[j] = if x == b[j - 1] { diag + 1 } else { up.max(row[j - 1]) };
            diag = up;
        }
    }
    row[b.len()] as usize
}

/// Σ over distinct keys of min(count in a, count in b), for sorted `a` and `b`.
fn sorted_overlap(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut inter) = (0usize, 0usize, 0usize);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x < y {
            i += 1;
        } else if y < x {
            j += 1;
        } else {
            let i0 = i;
            while i < a.len() && a[i] == x {
                i += 1;
            }
            let j0 = j;
            while j < b.len() && b[j] == x {
                j += 1;
            }
            inter += (i - i0).min(j - j0);
        }
    }
    inter
}

/// Direct port of `lcs_ind(ref, can)` (`_lcs_table` + `_backtrack_norec`) with a full DP
/// table: the test oracle for [`lcs_union_bits`].
#[cfg(test)]
fn lcs_union_into(r: &[u32], c: &[u32], table: &mut Vec<u32>, union: &mut [bool]) {
    let rows = r.len();
    let cols = c.len();
    if rows == 0 || cols == 0 {
        return;
    }
    let w = cols + 1;
    table.clear();
    table.resize((rows + 1) * w, 0);
    for i in 1..=rows {
        let ri = r[i - 1];
        let (prev, cur) = table[(i - 1) * w..(i + 1) * w].split_at_mut(w);
        for j in 1..=cols {
            cur[j] = if ri == c[j - 1] { prev[j - 1] + 1 } else { prev[j].max(cur[j - 1]) };
        }
    }
    if table[rows * w + cols] == 0 {
        return;
    }
    let (mut i, mut j) = (rows, cols);
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            union[i - 1] = true;
            i -= 1;
            j -= 1;
        } else if table[i * w + j - 1] > table[(i - 1) * w + j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scorer(types: &[&str], stem: bool) -> RougeScorer {
        RougeScorer::new(RougeConfig {
            types: types.iter().map(|t| t.parse().unwrap()).collect(),
            use_stemmer: stem,
            split_summaries: false,
        })
    }

    fn close(a: Prf, p: f64, r: f64, f: f64) {
        assert!(
            (a.precision - p).abs() < 1e-12
                && (a.recall - r).abs() < 1e-12
                && (a.f1 - f).abs() < 1e-12,
            "{a:?} vs {p} {r} {f}"
        );
    }

    #[test]
    fn names_roundtrip() {
        for n in ["rouge1", "rouge2", "rouge9", "rougeL", "rougeLsum"] {
            assert_eq!(n.parse::<RougeType>().unwrap().name(), n);
        }
        for bad in ["rouge0", "rouge10", "rougel", "rougeLSum", "", "rouge"] {
            assert!(bad.parse::<RougeType>().is_err(), "{bad}");
        }
        let cfg = RougeConfig::default();
        let js = serde_json::to_string(&cfg).unwrap();
        assert_eq!(
            js,
            r#"{"types":["rouge1","rouge2","rougeL","rougeLsum"],"use_stemmer":true,"split_summaries":false}"#
        );
        let back: RougeConfig = serde_json::from_str(&js).unwrap();
        assert_eq!(back.types, cfg.types);
        assert!(RougeScorer::try_new(RougeConfig {
            types: vec![RougeType::N(0)],
            ..Default::default()
        })
        .is_err());
    }

    #[test]
    fn tokenizer_matches_python_rules() {
        assert_eq!(
            tokenize("The quick-brown FOX, 3.5 times!", false),
            ["the", "quick", "brown", "fox", "3", "5", "times"]
        );
        assert_eq!(tokenize("Running dogs", true), ["run", "dog"]);
        // İ lowercases to "i" + combining dot (a separator); Kelvin sign to 'k'; others vanish.
        assert_eq!(
            tokenize("İstanbul \u{212A}elvin straße café 東京 “quoted”", false),
            ["i", "stanbul", "kelvin", "stra", "e", "caf", "quoted"]
        );
        assert!(tokenize("   \n\t ", true).is_empty());
        assert!(tokenize("", true).is_empty());
    }

    #[test]
    fn hand_checked_rouge_scorer_examples() {
        // From rouge-score's own docstring / tests.
        let s = scorer(&["rouge1", "rouge2", "rougeL"], false);
        let r = s.score(
            "The quick brown fox jumps over the lazy dog",
            "The quick brown dog jumps on the log.",
        );
        // rouge1: 6 overlapping unigrams (the x2, quick, brown, dog, jumps), 8 pred, 9 target.
        close(r[0].1, 6.0 / 8.0, 6.0 / 9.0, fmeasure(6.0 / 8.0, 6.0 / 9.0));
        // rouge2: "the quick", "quick brown" → 2 of 7 / 8.
        close(r[1].1, 2.0 / 7.0, 2.0 / 8.0, fmeasure(2.0 / 7.0, 2.0 / 8.0));
        // rougeL: the quick brown jumps the → 5.
        close(r[2].1, 5.0 / 8.0, 5.0 / 9.0, fmeasure(5.0 / 8.0, 5.0 / 9.0));
    }

    #[test]
    fn empty_and_zero_semantics() {
        let s = scorer(&["rouge1", "rouge2", "rougeL", "rougeLsum"], true);
        for (t, p) in [("", "a b"), ("a b", ""), ("", ""), ("  ", "\n")] {
            for (_, prf) in s.score(t, p) {
                assert_eq!(prf, Prf::ZERO);
            }
        }
        // One-token texts: rouge2 has no bigrams on either side → 0/max(0,1).
        let r = s.score("cat", "cat");
        close(r[0].1, 1.0, 1.0, 1.0);
        close(r[1].1, 0.0, 0.0, 0.0);
        close(r[2].1, 1.0, 1.0, 1.0);
        close(r[3].1, 1.0, 1.0, 1.0);
    }

    #[test]
    fn lsum_union_and_duplicates() {
        // Example from the ROUGE paper (section 3.2): r = w1 w2 w3 w4 w5, c1 = w1 w2 w6 w7 w8,
        // c2 = w1 w3 w8 w9 w5 → union LCS = w1 w2 w3 w5 → recall 4/5, precision 4/10.
        let s = scorer(&["rougeLsum"], false);
        let r = s.score("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5");
        close(r[0].1, 4.0 / 10.0, 4.0 / 5.0, fmeasure(0.4, 0.8));
        // Token-count clipping: the target has "a" once, the prediction twice.
        let r = s.score("a b", "a\na");
        close(r[0].1, 1.0 / 2.0, 1.0 / 2.0, 0.5);
    }

    #[test]
    fn bit_parallel_lcs_matches_dp() {
        let mut seed = 12345u64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..300 {
            let la = rnd(150) as usize;
            let lb = rnd(150) as usize + 1;
            let alpha = rnd(12) + 1;
            let a: Vec<u32> = (0..la).map(|_| rnd(alpha) as u32).collect();
            let b: Vec<u32> = (0..lb).map(|_| rnd(alpha) as u32).collect();
            let p = TokSeq { ids: b.clone(), sents: vec![(0, lb as u32)] };
            let prep = PredPrep::new(&[RougeType::L], &p, alpha as usize);
            assert_eq!(lcs_len_dp(&a, &b), lcs_len_dp(&b, &a));
            let mut row = vec![0usize; lb + 1];
            for &x in &a {
                let mut diag = 0;
                for j in 1..=lb {
                    let up = row[j];
                    row[j] = if x == b[j - 1] { diag + 1 } else { up.max(row[j - 1]) };
                    diag = up;
                }
            }
            assert_eq!(prep.lcs_len(&a), row[lb]);
            assert_eq!(lcs_len_dp(&a, &b), row[lb]);
        }
    }

    #[test]
    fn bit_row_backtrack_matches_dp_backtrack() {
        let mut seed = 987654321u64;
        let mut rnd = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        let mut table = Vec::new();
        let mut rows = Vec::new();
        for _ in 0..2000 {
            let lr = rnd(90) as usize;
            let lc = rnd(160) as usize;
            let alpha = rnd(10) + 1;
            let r: Vec<u32> = (0..lr).map(|_| rnd(alpha) as u32).collect();
            let c: Vec<u32> = (0..lc).map(|_| rnd(alpha) as u32).collect();
            let mut want = vec![false; lr];
            lcs_union_into(&r, &c, &mut table, &mut want);
            let words = lc.div_ceil(64);
            let mut slot = vec![u32::MAX; alpha as usize];
            let mut masks = Vec::new();
            let mut n = 0;
            for (j, &id) in c.iter().enumerate() {
                if slot[id as usize] == u32::MAX {
                    slot[id as usize] = n;
                    n += 1;
                    masks.resize(masks.len() + words, 0u64);
                }
                masks[slot[id as usize] as usize * words + j / 64] |= 1 << (j % 64);
            }
            let mut got = vec![false; lr];
            lcs_union_bits(&r, &c, words, &slot, &masks, &mut rows, &mut got);
            assert_eq!(got, want, "r={r:?} c={c:?}");
        }
    }

    #[test]
    fn ngram_fallback_path_is_exact() {
        let ids: Vec<u32> = vec![1, 2, 3, 1, 2, 3, 1, 2, 4];
        let mut a = PredPrep::new(&[], &TokSeq { ids: vec![], sents: vec![] }, 5);
        let packed = a.ngram_keys_of(&ids, 3);
        let mut b = PredPrep::new(&[], &TokSeq { ids: vec![], sents: vec![] }, 1 << 30);
        let fb = b.ngram_keys_of(&ids, 3);
        // Same multiset structure: run lengths of equal keys.
        let runs = |k: &[u64]| {
            let mut v = Vec::new();
            let mut i = 0;
            while i < k.len() {
                let j = k[i..].iter().take_while(|&&x| x == k[i]).count();
                v.push(j);
                i += j;
            }
            v.sort();
            v
        };
        assert_eq!(runs(&packed), runs(&fb));
        assert_eq!(sorted_overlap(&packed, &packed), 7);
    }

    #[test]
    fn multi_best_and_mean() {
        let s = scorer(&["rouge1"], false);
        let targets = ["a b c d", "a b x y", "a b c d"];
        let best = s.score_multi(&targets, "a b c", MultiRef::Best);
        close(best[0].1, 1.0, 0.75, fmeasure(1.0, 0.75));
        let mean = s.score_multi(&targets, "a b c", MultiRef::Mean);
        let singles: Vec<Prf> = targets.iter().map(|t| s.score(t, "a b c")[0].1).collect();
        let m = |f: fn(&Prf) -> f64| singles.iter().map(f).sum::<f64>() / 3.0;
        close(mean[0].1, m(|x| x.precision), m(|x| x.recall), m(|x| x.f1));
        assert_eq!(s.score_multi(&[], "a", MultiRef::Best)[0].1, Prf::ZERO);
    }

    #[test]
    fn split_rule() {
        let text = "Hello there. How are you?\" I am fine! ok";
        let starts = split_sentence_starts(text);
        assert_eq!(starts.len(), 3);
        let s = RougeScorer::new(RougeConfig {
            types: vec![RougeType::Lsum],
            use_stemmer: false,
            split_summaries: true,
        });
        let r = s.score("a b. c d.", "c d. a b.");
        close(r[0].1, 1.0, 1.0, 1.0);
    }
}
