//! The judge's lexical view of a text (stemmed tokens, content words, names and numbers,
//! acronyms) and the lexical features of a Key Development against a window.
use crate::metrics::rouge::tokenize;
use std::collections::HashMap;

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
pub(super) fn bare_word(raw: &str) -> &str {
    let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
    for suffix in ["\u{2019}s", "'s", "\u{2019}", "'"] {
        if let Some(x) = w.strip_suffix(suffix) {
            return x;
        }
    }
    w
}

/// `U.S.`, `U.S.A.` (letters with dots) or `CIA`, `NATO` (2–6 capitals): its letters, lowercased.
pub(super) fn acronym(word: &str) -> Option<String> {
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
pub(super) fn acronym_found(a: &str, words: &[&String]) -> bool {
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
