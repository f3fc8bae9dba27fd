//! Tokenization (rouge-score's `tokenize`) and per-thread token interning to dense ids.

use crate::metrics::porter;

pub(super) enum SentMode {
    /// No sentence structure needed.
    None,
    /// Sentences are `"\n"`-separated lines (rouge-score's default for rougeLsum).
    Newline,
    /// Sentences start at these byte offsets (sorted).
    Starts(Vec<usize>),
}

/// Token ids of one text plus its non-empty sentences as ranges of `ids`.
pub(super) struct TokSeq {
    pub(super) ids: Vec<u32>,
    pub(super) sents: Vec<(u32, u32)>,
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
pub(super) struct Ctx {
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
pub(super) fn with_ctx<R>(use_stemmer: bool, f: impl FnOnce(&mut Ctx) -> R) -> R {
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
    pub(super) fn vocab(&self) -> usize {
        self.locals.len()
    }

    pub(super) fn final_bytes(&self, id: u32) -> &[u8] {
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

    pub(super) fn tokenize(&mut self, text: &str, mode: &SentMode) -> TokSeq {
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
