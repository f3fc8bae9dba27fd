//! sacreBLEU's `13a` tokenizer (mteval-v13a) as byte-level passes.

use std::borrow::Cow;

use super::py_split;

/// sacreBLEU's first `TokenizerRegexp` rule character class
/// `[\{-\~\[-\` -\&\(-\+\:-\@\/]`: all ASCII punctuation except `' , - .`
/// (and the space itself, which is harmless).
#[inline]
fn re1_class(b: u8) -> bool {
    matches!(b, b'{'..=b'~' | b'['..=b'`' | b' '..=b'&' | b'('..=b'+' | b':'..=b'@' | b'/')
}

/// The `13a` tokenizer exactly as sacreBLEU's `Tokenizer13a.__call__`
/// (no lowercasing and no `rstrip`: see [`preprocess`](super::preprocess) for the full pipeline).
///
/// The four regex substitutions of `TokenizerRegexp` are fixed-width
/// two-character patterns whose special characters are ASCII, so they are
/// reproduced by left-to-right, non-overlapping byte scans on the UTF-8
/// buffer (a multi-byte character can never be a `[.,]`, `[0-9]` or `-`, and
/// its final byte stands for it in `[^0-9]`).
pub fn tokenize_13a(line: &str) -> String {
    let mut s: Cow<str> = Cow::Borrowed(line);
    if s.contains("<skipped>") {
        s = Cow::Owned(s.replace("<skipped>", ""));
    }
    if s.contains("-\n") {
        s = Cow::Owned(s.replace("-\n", ""));
    }
    if s.contains('\n') {
        s = Cow::Owned(s.replace('\n', " "));
    }
    if s.contains('&') {
        let t = s
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        s = Cow::Owned(t);
    }
    let b = s.as_bytes();

    // f' {line} ' + rule 1: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> ' \1 '
    let mut v1: Vec<u8> = Vec::with_capacity(b.len() + b.len() / 2 + 8);
    v1.push(b' ');
    for &c in b {
        if re1_class(c) {
            v1.extend_from_slice(&[b' ', c, b' ']);
        } else {
            v1.push(c);
        }
    }
    v1.push(b' ');

    // rule 2: ([^0-9])([\.,]) -> '\1 \2 ' (left to right, non-overlapping). Only the byte
    // before each '.' or ',' can start a match, so the text between them is copied in bulk.
    let mut v2: Vec<u8> = Vec::with_capacity(v1.len() + v1.len() / 8 + 8);
    let n = v1.len();
    let (mut i, mut search) = (0usize, 1usize);
    while search < n {
        let Some(off) = memchr::memchr2(b'.', b',', &v1[search..]) else { break };
        let j = search + off;
        let k = j - 1; // >= i: a match never starts before the unprocessed part
        if !v1[k].is_ascii_digit() {
            v2.extend_from_slice(&v1[i..k]);
            v2.extend_from_slice(&[v1[k], b' ', v1[j], b' ']);
            i = j + 1;
            search = i + 1;
        } else {
            search = j + 1;
        }
    }
    v2.extend_from_slice(&v1[i..]);

    // rule 3: ([\.,])([^0-9]) -> ' \1 \2' (left to right, non-overlapping), the same way.
    v1.clear();
    let n = v2.len();
    let (mut i, mut search) = (0usize, 0usize);
    while search < n {
        let Some(off) = memchr::memchr2(b'.', b',', &v2[search..]) else { break };
        let j = search + off;
        if j + 1 < n && !v2[j + 1].is_ascii_digit() {
            v1.extend_from_slice(&v2[i..j]);
            v1.extend_from_slice(&[b' ', v2[j], b' ', v2[j + 1]]);
            i = j + 2;
            search = i;
        } else {
            search = j + 1;
        }
    }
    v1.extend_from_slice(&v2[i..]);

    // rule 4: ([0-9])(-) -> '\1 \2 ' (nothing to do without a '-')
    if !v1.contains(&b'-') {
        std::mem::swap(&mut v1, &mut v2);
    } else {
        v2.clear();
        let n = v1.len();
        let mut i = 0;
        while i < n {
            let c = v1[i];
            if i + 1 < n && c.is_ascii_digit() && v1[i + 1] == b'-' {
                v2.extend_from_slice(&[c, b' ', b'-', b' ']);
                i += 2;
            } else {
                v2.push(c);
                i += 1;
            }
        }
    }

    // ' '.join(line.split())
    // SAFETY: `v2` is the valid UTF-8 input with ASCII bytes inserted only next to ASCII
    // bytes (every rule matches and inserts ASCII only), so it is still valid UTF-8.
    let t = unsafe { String::from_utf8_unchecked(v2) };
    let mut out = String::with_capacity(t.len());
    if t.is_ascii() {
        // Byte-level version of the loop below for the common all-ASCII line.
        let mut o: Vec<u8> = out.into_bytes();
        let mut pending = false;
        for &c in t.as_bytes() {
            if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f) {
                pending = !o.is_empty();
            } else {
                if pending {
                    o.push(b' ');
                    pending = false;
                }
                o.push(c);
            }
        }
        // SAFETY: only ASCII bytes were written.
        return unsafe { String::from_utf8_unchecked(o) };
    }
    for tok in py_split(&t) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(tok);
    }
    out
}
