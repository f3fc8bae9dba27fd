//! The coverage judge (`kp-cover`): for each Key Development, the probability that the summary
//! states it, from several views of the evidence, combined by a small fitted logistic model.
//!
//! Each Key Development k is judged against every window of consecutive summary sentences
//! (generated key points; windows of up to [`MAX_WINDOW`] sentences). For a window W the judge
//! computes the features below, and `P(covered | k, W) = σ(bias + Σ wᵢ·featureᵢ)` with the
//! weights of a preset ([`CoverPreset`], fitted by `eval/coverage/fit_kp_cover.py` with
//! cross-validation by document on people's verdicts). The verdict is the best window: its
//! probability is the score, and the Key Development is covered when the score reaches the
//! preset's threshold; the evidence is the shortest window that scores within
//! [`EVIDENCE_TOLERANCE`] of it, less the sentences it does not need to. Many-to-one by construction: one sentence can
//! cover every Key Development it states.
//!
//! Features of (k, W), all in 0..1:
//! - `rec1`: stemmed unigram recall of k in W (rouge-score tokenization, Porter stemmer,
//!   clipped counts);
//! - `rec1_content`: the same over k's content words (stop words left out);
//! - `rec2`: stemmed bigram recall;
//! - `recl`: longest-common-subsequence recall (ROUGE-L recall of k in W);
//! - `ent`: share of k's names and numbers (capitalized non-stop words, words with digits) found
//!   in W (1 when k has none);
//! - `tok_rec`: BERTScore recall of k against W's tokens (MiniLM contextual token vectors, each
//!   sentence encoded on its own; mean over k's tokens of the best cosine);
//! - `tok_min`: the weakest of those best cosines (a name or a number the summary does not
//!   state);
//! - `cos`: the best sentence cosine between k and a sentence of W (MiniLM sentence vectors);
//! - `tok_frac50`, `tok_frac70`: share of k's tokens whose best cosine reaches 0.5 / 0.7;
//! - `tok_low2`: mean of the two weakest best cosines;
//! - `ent_all`: 1 when every name and number of k is in W (also when k has none);
//! - `miss_content`: k's content words missing from W, min(count, 4) / 4;
//! - `len`: k's length, min(tokens, 30) / 30;
//! - `tok_q10`, `tok_q20`: the 10th / 20th percentile of the best cosines (nearest rank below:
//!   the weakest for a short k, and not the single weakest word of a long one).
use crate::metrics::alignment::Verdict;
use crate::metrics::rouge::tokenize;
use crate::metrics::{Metric, ScoreInput};
use crate::runtime::{Embedder, TokenVectors};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Longest window of consecutive summary sentences a Key Development is judged against.
pub const MAX_WINDOW: usize = 3;

/// The features the judge computes, in this order.
pub const FEATURES: [&str; 16] = [
    "rec1",
    "rec1_content",
    "rec2",
    "recl",
    "ent",
    "tok_rec",
    "tok_min",
    "cos",
    "tok_frac50",
    "tok_frac70",
    "tok_low2",
    "ent_all",
    "miss_content",
    "len",
    "tok_q10",
    "tok_q20",
];

/// A fitted combination of the features: `σ(bias + Σ weights[i]·feature(features[i]))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverPreset {
    /// Preset name (`kp-cover`).
    pub name: String,
    /// Incremented whenever the features or the weights change; part of the signature.
    pub version: u32,
    /// Feature names (a subset of [`FEATURES`]).
    pub features: Vec<String>,
    /// One weight per feature, on the raw feature scale.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
    /// Probability at which a Key Development counts as covered.
    pub threshold: f64,
    /// Where the weights come from (data, labels, script, command).
    #[serde(default)]
    pub fitted_on: Value,
    /// Cross-validated agreement with people on the fitting data.
    #[serde(default)]
    pub cross_validated: Value,
}

/// The bundled preset (`models/kp-cover.json`).
pub const BUNDLED_PRESET: &str = include_str!("../models/kp-cover.json");

impl CoverPreset {
    /// The preset shipped with kpeval.
    pub fn bundled() -> CoverPreset {
        CoverPreset::from_json(BUNDLED_PRESET).expect("the bundled kp-cover preset is valid")
    }

    /// Reads and checks a preset.
    pub fn from_json(text: &str) -> Result<CoverPreset, String> {
        let p: CoverPreset =
            serde_json::from_str(text).map_err(|e| format!("kp-cover preset: {e}"))?;
        if p.features.len() != p.weights.len() {
            return Err(format!(
                "kp-cover preset: {} features but {} weights",
                p.features.len(),
                p.weights.len()
            ));
        }
        if let Some(f) = p.features.iter().find(|f| !FEATURES.contains(&f.as_str())) {
            return Err(format!(
                "kp-cover preset: unknown feature '{f}' (known: {})",
                FEATURES.join(", ")
            ));
        }
        if !(p.threshold.is_finite() && (0.0..=1.0).contains(&p.threshold) && p.bias.is_finite())
            || p.weights.iter().any(|w| !w.is_finite())
        {
            return Err("kp-cover preset: weights, bias and threshold must be finite, the threshold within [0, 1]".into());
        }
        Ok(p)
    }

    /// `name-vVERSION`, as the signature names it.
    pub fn id(&self) -> String {
        format!("{}-v{}", self.name, self.version)
    }

    /// Whether the preset uses one of the named features.
    pub fn uses(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// The probability for one feature vector (in [`FEATURES`] order).
    pub fn probability(&self, x: &[f64; FEATURES.len()]) -> f64 {
        let mut z = self.bias;
        for (f, w) in self.features.iter().zip(&self.weights) {
            let i = FEATURES.iter().position(|n| n == f).unwrap_or(0);
            z += w * x[i];
        }
        1.0 / (1.0 + (-z).exp())
    }
}

/// English stop words (NLTK's list): left out of `rec1_content` and never names.
const STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
    "d",
    "ll",
    "m",
    "o",
    "re",
    "ve",
    "y",
    "ain",
    "aren",
    "couldn",
    "didn",
    "doesn",
    "hadn",
    "hasn",
    "haven",
    "isn",
    "ma",
    "mightn",
    "mustn",
    "needn",
    "shan",
    "shouldn",
    "wasn",
    "weren",
    "won",
    "wouldn",
    "also",
    "said",
    "says",
    "would",
    "could",
    "may",
    "might",
    "must",
    "shall",
];

fn is_stop(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// A name or number that the summary must state for a Key Development to be covered.
#[derive(Debug, Clone, PartialEq)]
enum Entity {
    /// A capitalized word or a number, as its stemmed tokens (all must be found; a stem of 5+
    /// letters also matches a word that extends or shortens it by up to 3 letters: Venezuela /
    /// Venezuelan).
    Word(Vec<String>),
    /// An acronym's letters (`U.S.`, `CIA`): found as the acronym, or as the initials of
    /// consecutive words (United States, Central Intelligence Agency).
    Acronym(String),
}

/// A text's lexical view: stemmed tokens, which are content words, its names/numbers, and its
/// words (letters and digits only, lowercased) for acronyms.
#[derive(Debug, Clone, Default)]
pub struct Lexical {
    tokens: Vec<String>,
    content: Vec<bool>,
    entities: Vec<Entity>,
    words: Vec<String>,
}

/// Strips surrounding punctuation and a possessive `'s`.
fn bare_word(raw: &str) -> &str {
    let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
    for suffix in ["\u{2019}s", "'s", "\u{2019}", "'"] {
        if let Some(x) = w.strip_suffix(suffix) {
            return x;
        }
    }
    w
}

/// `U.S.`, `U.S.A.` (letters with dots) or `CIA`, `NATO` (2–6 capitals): its letters, lowercased.
fn acronym(word: &str) -> Option<String> {
    let letters: String = word.chars().filter(|c| *c != '.').collect();
    let dotted = word.contains('.')
        && word
            .split('.')
            .filter(|p| !p.is_empty())
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_uppercase));
    let caps = !word.contains('.')
        && (2..=6).contains(&letters.chars().count())
        && letters.chars().all(|c| c.is_uppercase());
    ((dotted && letters.chars().count() >= 2) || caps).then(|| letters.to_lowercase())
}

impl Lexical {
    /// Builds the view of one text.
    pub fn new(text: &str) -> Lexical {
        let tokens = tokenize(text, true);
        let plain = tokenize(text, false);
        // tokenize keeps token order and count with or without stemming
        let content = if plain.len() == tokens.len() {
            plain.iter().map(|w| !is_stop(w)).collect()
        } else {
            tokens.iter().map(|w| !is_stop(w)).collect()
        };
        let mut entities: Vec<Entity> = Vec::new();
        let mut words = Vec::new();
        for raw in text.split_whitespace() {
            let word = bare_word(raw);
            if word.is_empty() {
                continue;
            }
            words.push(
                word.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase(),
            );
            if let Some(a) = acronym(word) {
                let e = Entity::Acronym(a);
                if !entities.contains(&e) {
                    entities.push(e);
                }
                continue;
            }
            for part in word.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                let first = part.chars().next().unwrap_or(' ');
                let has_digit = part.chars().any(|c| c.is_ascii_digit());
                let name = first.is_uppercase()
                    && part.chars().count() >= 2
                    && !is_stop(&part.to_lowercase());
                if has_digit || name {
                    let toks = tokenize(part, true);
                    let e = Entity::Word(toks);
                    if !matches!(&e, Entity::Word(t) if t.is_empty()) && !entities.contains(&e) {
                        entities.push(e);
                    }
                }
            }
        }
        Lexical { tokens, content, entities, words }
    }
}

/// Whether a stemmed entity token is among the window's tokens (or a 5+ letter stem within 3
/// letters of one: demonyms and plurals the stemmer leaves apart).
fn token_found(t: &str, set: &std::collections::HashSet<&str>) -> bool {
    if set.contains(t) {
        return true;
    }
    if t.len() < 5 || t.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    set.iter().any(|w| {
        w.len() >= 5 && w.len().abs_diff(t.len()) <= 3 && (w.starts_with(t) || t.starts_with(*w))
    })
}

/// Whether an acronym is in the window: as itself, or as the initials of consecutive words
/// (a stop word such as "of" may give its letter or sit between them).
fn acronym_found(a: &str, words: &[&String]) -> bool {
    if words.iter().any(|w| w.as_str() == a) {
        return true;
    }
    let letters: Vec<char> = a.chars().collect();
    'start: for i in 0..words.len() {
        let (mut j, mut k) = (i, 0);
        while k < letters.len() {
            let Some(w) = words.get(j) else { continue 'start };
            if w.starts_with(letters[k]) {
                k += 1;
            } else if k == 0 || !is_stop(w) {
                continue 'start;
            }
            j += 1;
        }
        return true;
    }
    false
}

fn counts<T: std::hash::Hash + Eq>(items: impl Iterator<Item = T>) -> HashMap<T, usize> {
    let mut m = HashMap::new();
    for t in items {
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

/// Clipped recall of `k`'s items in `w`'s.
fn clipped_recall<T: std::hash::Hash + Eq + Clone>(k: &[T], w: &[T]) -> f64 {
    if k.is_empty() {
        return 0.0;
    }
    let wc = counts(w.iter().cloned());
    let kc = counts(k.iter().cloned());
    let hit: usize = kc.iter().map(|(t, &n)| n.min(*wc.get(t).unwrap_or(&0))).sum();
    hit as f64 / k.len() as f64
}

fn lcs_len(a: &[String], b: &[String]) -> usize {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The lexical features of k against the window's sentences: (rec1, rec1_content, rec2, recl,
/// ent, ent_all, miss_content, len).
pub fn lexical_features(k: &Lexical, window: &[&Lexical]) -> [f64; 8] {
    let w: Vec<String> = window.iter().flat_map(|l| l.tokens.iter().cloned()).collect();
    let rec1 = clipped_recall(&k.tokens, &w);
    let kc: Vec<String> =
        k.tokens.iter().zip(&k.content).filter(|(_, &c)| c).map(|(t, _)| t.clone()).collect();
    let rec1c = if kc.is_empty() { rec1 } else { clipped_recall(&kc, &w) };
    let bigrams = |t: &[String]| -> Vec<(String, String)> {
        t.windows(2).map(|p| (p[0].clone(), p[1].clone())).collect()
    };
    let rec2 = if k.tokens.len() < 2 {
        rec1
    } else {
        // bigrams within each sentence of the window
        let wb: Vec<(String, String)> = window.iter().flat_map(|l| bigrams(&l.tokens)).collect();
        clipped_recall(&bigrams(&k.tokens), &wb)
    };
    let recl = if k.tokens.is_empty() {
        0.0
    } else {
        lcs_len(&k.tokens, &w) as f64 / k.tokens.len() as f64
    };
    let set: std::collections::HashSet<&str> = w.iter().map(String::as_str).collect();
    let words: Vec<&String> = window.iter().flat_map(|l| l.words.iter()).collect();
    let found = |e: &Entity| match e {
        Entity::Word(toks) => toks.iter().all(|t| token_found(t, &set)),
        Entity::Acronym(a) => acronym_found(a, &words),
    };
    let ent = if k.entities.is_empty() {
        1.0
    } else {
        k.entities.iter().filter(|e| found(e)).count() as f64 / k.entities.len() as f64
    };
    let ent_all = if ent == 1.0 { 1.0 } else { 0.0 };
    let missing = kc.iter().filter(|t| !set.contains(t.as_str())).count();
    let miss_content = missing.min(4) as f64 / 4.0;
    let len = k.tokens.len().min(30) as f64 / 30.0;
    [rec1, rec1c, rec2, recl, ent, ent_all, miss_content, len]
}

/// Dot product of two unit vectors in f32 with eight fixed lanes (the same order of operations
/// on every CPU), summed in f64.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(p, q)| *p as f64 * *q as f64).sum();
    acc.iter().map(|&v| v as f64).sum::<f64>() + tail
}

/// For each token of k, its best cosine (floored at 0) to any token of each sentence:
/// `best[s][t]`.
fn best_token_matches(k: &TokenVectors, sentences: &[Arc<TokenVectors>]) -> Vec<Vec<f64>> {
    sentences
        .iter()
        .map(|s| {
            k.vectors
                .iter()
                .map(|x| s.vectors.iter().map(|y| dot(x, y)).fold(0.0f64, f64::max))
                .collect()
        })
        .collect()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The windows of `n` sentences judged: every run of 1..=[`MAX_WINDOW`] consecutive sentences,
/// shorter ones first (ties go to the shorter, earlier window).
pub fn windows(n: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for len in 1..=MAX_WINDOW.min(n) {
        for start in 0..=n - len {
            out.push(start..start + len);
        }
    }
    out
}

/// How far below the best window's probability the evidence may score: the judge's features
/// grow with the window, so a longer window often scores a little higher only because it holds
/// more words.
pub const EVIDENCE_TOLERANCE: f64 = 0.05;

/// A judge's view of one Key Development against one summary's sentences: the best window's
/// probability and features, and as evidence the shortest (then earliest) window whose
/// probability is within [`EVIDENCE_TOLERANCE`] of the best, less any of its sentences without
/// which it still is (sentences that add nothing).
pub fn judge(
    preset: &CoverPreset,
    feats_of: impl Fn(&[usize]) -> [f64; FEATURES.len()],
    n_sentences: usize,
) -> (f64, Vec<usize>, [f64; FEATURES.len()]) {
    let prob = |idx: &[usize]| round6(preset.probability(&feats_of(idx)));
    let scored: Vec<(f64, Vec<usize>)> = windows(n_sentences)
        .into_iter()
        .map(|w| {
            let idx: Vec<usize> = w.collect();
            (prob(&idx), idx)
        })
        .collect();
    let Some(best) = scored.iter().fold(None::<&(f64, Vec<usize>)>, |b, c| {
        if b.is_none_or(|b| c.0 > b.0) {
            Some(c)
        } else {
            b
        }
    }) else {
        return (0.0, Vec::new(), [0.0; FEATURES.len()]);
    };
    let floor = best.0 - EVIDENCE_TOLERANCE;
    let mut evidence = scored.iter().find(|c| c.0 >= floor).map_or(best.1.clone(), |c| c.1.clone());
    let mut i = 0;
    while evidence.len() > 1 && i < evidence.len() {
        let without: Vec<usize> =
            evidence.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, &s)| s).collect();
        if prob(&without) >= floor {
            evidence = without;
        } else {
            i += 1;
        }
    }
    (best.0, evidence, feats_of(&best.1))
}

/// Memoized per-text model outputs (each text encoded on its own: no padding, so a text's
/// vectors do not depend on the batch it came in), emptied when they reach `limit` entries.
struct Memo<T> {
    map: Mutex<HashMap<String, Arc<T>>>,
    limit: usize,
}

impl<T> Memo<T> {
    fn new(limit: usize) -> Self {
        Memo { map: Mutex::new(HashMap::new()), limit }
    }

    fn get_or(
        &self,
        text: &str,
        compute: impl FnOnce() -> Result<T, String>,
    ) -> Result<Arc<T>, String> {
        if let Some(v) = self.map.lock().map_err(|_| "memo lock poisoned".to_string())?.get(text) {
            return Ok(v.clone());
        }
        let v = Arc::new(compute()?);
        let mut map = self.map.lock().map_err(|_| "memo lock poisoned".to_string())?;
        if map.len() >= self.limit {
            map.clear();
        }
        map.insert(text.to_string(), v.clone());
        Ok(v)
    }
}

/// The `kp_cover` metric: one verdict per Key Development from the judge, coverage = mean
/// score, coverage_at_t = share covered.
pub struct KpCoverMetric {
    /// The embedding model (MiniLM) for the token and sentence views.
    pub embedder: Box<dyn Embedder>,
    /// The fitted combination.
    pub preset: CoverPreset,
    /// Write each verdict's features (for refitting).
    pub with_features: bool,
    tokens: Memo<TokenVectors>,
    sentences: Memo<Vec<f32>>,
}

impl KpCoverMetric {
    /// The judge on an embedding model with a preset.
    pub fn new(embedder: Box<dyn Embedder>, preset: CoverPreset, with_features: bool) -> Self {
        KpCoverMetric {
            embedder,
            preset,
            with_features,
            tokens: Memo::new(100_000),
            sentences: Memo::new(200_000),
        }
    }

    fn token_vectors(&self, text: &str) -> Result<Arc<TokenVectors>, String> {
        self.tokens.get_or(text, || {
            Ok(self
                .embedder
                .token_vectors(&[text.to_string()])
                .map_err(|e| e.to_string())?
                .pop()
                .unwrap_or_default())
        })
    }

    fn sentence_vector(&self, text: &str) -> Result<Arc<Vec<f32>>, String> {
        self.sentences.get_or(text, || {
            Ok(self
                .embedder
                .embed(&[text.to_string()])
                .map_err(|e| e.to_string())?
                .pop()
                .unwrap_or_default())
        })
    }

    fn needs_tokens(&self) -> bool {
        self.with_features || self.preset.features.iter().any(|f| f.starts_with("tok_"))
    }

    fn needs_sentences(&self) -> bool {
        self.with_features || self.preset.uses("cos")
    }

    /// The verdicts on one record's Key Developments.
    pub fn verdicts(
        &self,
        references: &[String],
        generated: &[String],
    ) -> Result<Vec<Verdict>, String> {
        let gl: Vec<Lexical> = generated.iter().map(|g| Lexical::new(g)).collect();
        let gt: Vec<Arc<TokenVectors>> = if self.needs_tokens() {
            generated.iter().map(|g| self.token_vectors(g)).collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let gs: Vec<Arc<Vec<f32>>> = if self.needs_sentences() {
            generated.iter().map(|g| self.sentence_vector(g)).collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let mut out = Vec::with_capacity(references.len());
        for k in references {
            let kl = Lexical::new(k);
            let (best, special): (Vec<Vec<f64>>, Vec<bool>) = if self.needs_tokens() {
                let kt = self.token_vectors(k)?;
                (best_token_matches(&kt, &gt), kt.special.clone())
            } else {
                (Vec::new(), Vec::new())
            };
            let cos: Vec<f64> = if self.needs_sentences() {
                let kv = self.sentence_vector(k)?;
                gs.iter().map(|g| round6(crate::summarize::cos(&kv, g))).collect()
            } else {
                Vec::new()
            };
            let feats = |w: &[usize]| -> [f64; FEATURES.len()] {
                let lex = lexical_features(&kl, &w.iter().map(|&s| &gl[s]).collect::<Vec<_>>());
                let (mut tok_rec, mut tok_min, mut f50, mut f70, mut low2, mut q10, mut q20) =
                    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
                if !best.is_empty() {
                    let mut b: Vec<f64> = special
                        .iter()
                        .enumerate()
                        .filter(|(_, sp)| !**sp)
                        .map(|(t, _)| w.iter().map(|&s| best[s][t]).fold(0.0f64, f64::max))
                        .collect();
                    if !b.is_empty() {
                        let n = b.len() as f64;
                        tok_rec = b.iter().sum::<f64>() / n;
                        f50 = b.iter().filter(|&&x| x >= 0.5).count() as f64 / n;
                        f70 = b.iter().filter(|&&x| x >= 0.7).count() as f64 / n;
                        b.sort_by(f64::total_cmp);
                        tok_min = b[0];
                        low2 = b.iter().take(2).sum::<f64>() / b.len().min(2) as f64;
                        let q = |p: f64| b[((b.len() - 1) as f64 * p).floor() as usize];
                        q10 = q(0.1);
                        q20 = q(0.2);
                    }
                }
                let c = if cos.is_empty() {
                    0.0
                } else {
                    w.iter().map(|&s| cos[s]).fold(0.0f64, f64::max)
                };
                [
                    lex[0], lex[1], lex[2], lex[3], lex[4], tok_rec, tok_min, c, f50, f70, low2,
                    lex[5], lex[6], lex[7], q10, q20,
                ]
                .map(round6)
            };
            let (score, evidence, x) = judge(&self.preset, feats, generated.len());
            let features = self.with_features.then(|| {
                FEATURES
                    .iter()
                    .zip(x)
                    .map(|(n, v)| (n.to_string(), json!(v)))
                    .collect::<Map<String, Value>>()
            });
            out.push(Verdict {
                score,
                covered: score >= self.preset.threshold && !evidence.is_empty(),
                evidence,
                features,
            });
        }
        Ok(out)
    }
}

impl Metric for KpCoverMetric {
    fn name(&self) -> &'static str {
        "kp_cover"
    }
    fn signature(&self) -> String {
        format!(
            "kp_cover:judge={},t={},windows<={MAX_WINDOW},emb={}",
            self.preset.id(),
            self.preset.threshold,
            self.embedder.name()
        )
    }
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String> {
        let key_points = self.verdicts(input.references, input.generated)?;
        let n = key_points.len().max(1) as f64;
        let coverage = round6(key_points.iter().map(|v| v.score).sum::<f64>() / n);
        let at_t = key_points.iter().filter(|v| v.covered).count() as f64 / n;
        let mut v = json!({"coverage": coverage, "coverage_at_t": at_t, "key_points": key_points});
        if self.needs_tokens() || self.needs_sentences() {
            let texts: Vec<String> =
                input.references.iter().chain(input.generated.iter()).cloned().collect();
            let (cut, _) = self.embedder.truncation(&texts).map_err(|e| e.to_string())?;
            let cut = cut.iter().filter(|&&c| c > 0).count();
            if cut > 0 {
                v["truncated_points"] = Value::from(cut);
            }
        }
        Ok(vec![("kp_cover".to_string(), v)])
    }
    fn score_batch(&self, inputs: &[ScoreInput]) -> Vec<Result<Vec<(String, Value)>, String>> {
        // Sequential: the model runs one forward pass at a time and parallelizes inside it.
        inputs.iter().map(|i| self.score(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &str) -> Lexical {
        Lexical::new(s)
    }

    #[test]
    fn names_and_numbers_must_match() {
        let k = lex("Wesley Sneijder has joined Nice on a 2-year deal.");
        let w =
            lex("former netherlands midfielder johan sneijder has joined french champions nice .");
        let f = lexical_features(&k, &[&w]);
        // Wesley, Sneijder, Nice, 2: sneijder and nice found
        assert!((f[4] - 0.5).abs() < 1e-12, "{f:?}");
        assert_eq!(f[5], 0.0);
        // wesley, 2, year, deal
        assert_eq!(f[6], 1.0);
        // sneijder, ha(s), join(ed), nice of 10 tokens
        assert!((f[0] - 0.4).abs() < 1e-12, "{f:?}");
        let same = lexical_features(&k, &[&k]);
        assert_eq!(same[..6], [1.0; 6]);
        assert_eq!(same[6], 0.0);
    }

    #[test]
    fn acronyms_demonyms_and_possessives_match() {
        let k =
            lex("Maduro indicated Venezuela\u{2019}s readiness to talk with the U.S. and the CIA.");
        let w = lex("Venezuelan President Maduro will negotiate with the United States and the Central Intelligence Agency.");
        assert_eq!(lexical_features(&k, &[&w])[4], 1.0);
        let other = lex("Venezuelan President Maduro will negotiate with Spain.");
        // U.S. and CIA missing: Maduro and Venezuela found
        assert!((lexical_features(&k, &[&other])[4] - 0.5).abs() < 1e-12);
        assert!(acronym_found("us", &[&"u".to_string(), &"s".to_string(), &"us".to_string()]));
        assert!(!acronym_found("cia", &[&"central".to_string(), &"agency".to_string()]));
        assert!(acronym_found(
            "boe",
            &[&"bank".to_string(), &"of".to_string(), &"england".to_string()]
        ));
        assert_eq!(acronym("U.S."), Some("us".into()));
        assert_eq!(acronym(bare_word("U.S.")), Some("us".into()));
        assert_eq!(acronym("NATO"), Some("nato".into()));
        assert_eq!(acronym("Nato"), None);
    }

    #[test]
    fn windows_are_short_first() {
        let w = windows(4);
        assert_eq!(w.len(), 4 + 3 + 2);
        assert_eq!(w[0], 0..1);
        assert_eq!(w[4], 0..2);
        assert_eq!(windows(1), vec![0..1]);
        assert!(windows(0).is_empty());
    }

    #[test]
    fn bundled_preset_is_valid_and_monotone_in_evidence() {
        let p = CoverPreset::bundled();
        assert!(!p.features.is_empty());
        let none = p.probability(&[0.0; FEATURES.len()]);
        let all = p.probability(&[1.0; FEATURES.len()]);
        assert!(all > none, "{all} vs {none}");
        assert!(all >= p.threshold && none < p.threshold);
    }

    #[test]
    fn bad_presets_are_refused() {
        let ok = r#"{"name":"x","version":1,"features":["rec1"],"weights":[1.0],"bias":0.0,"threshold":0.5}"#;
        assert!(CoverPreset::from_json(ok).is_ok());
        assert!(CoverPreset::from_json(&ok.replace("rec1", "nope"))
            .unwrap_err()
            .contains("unknown feature"));
        assert!(CoverPreset::from_json(&ok.replace("[1.0]", "[1.0, 2.0]")).is_err());
        assert!(CoverPreset::from_json(&ok.replace("0.5}", "1.5}")).is_err());
    }
}
