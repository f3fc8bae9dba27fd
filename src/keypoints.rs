//! Sentence splitting: the one splitter used wherever sentences are needed (summaries into key
//! points, articles into sentences for extractive summarizers and for chunking).
//!
//! Rule-based: a sentence ends at `.`, `!` or `?` (plus closing quotes/brackets) followed by
//! whitespace, unless the word before is a known abbreviation, a single initial, or a number
//! continues. In cased text the next sentence must start with an uppercase letter, a digit or
//! an opening quote; in lowercased/tokenized text (` . ` style) any start is accepted.
//! Newlines that separate paragraphs (or lines in a summary) always end a sentence. Chinese and
//! Japanese full-width terminators (`。！？`, with closing brackets such as `」`) end a sentence
//! whether or not whitespace follows.

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt",
    "cmdr", "adm", "gov", "sen", "rep", "rev", "hon", "pres", "supt", "insp", "det", "co", "corp",
    "inc", "ltd", "bros", "no", "nos", "vs", "etc", "al", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
    "approx", "dept", "est", "fig", "ft", "mph", "vol", "ave", "blvd", "rd", "ph.d", "d.c", "ariz",
    "calif", "fla", "ga", "ill", "mass", "mich", "minn", "pa", "tenn", "tex", "va", "wash", "wis",
];

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | '’' | '”' | ')' | ']' | '»' | '」' | '』' | '）' | '】' | '〕')
}

/// Full-width terminators of Chinese and Japanese text: a sentence ends there, with or without
/// whitespace after it.
fn is_cjk_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡')
}

fn is_opening(c: char) -> bool {
    matches!(c, '"' | '\'' | '‘' | '“' | '(' | '[' | '«' | '`')
}

/// Splits text into sentences (trimmed, non-empty).
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        split_paragraph(para, &mut out);
    }
    out
}

fn split_paragraph(text: &str, out: &mut Vec<String>) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    if text.is_ascii() {
        // Characters are bytes: index them directly, and jump between terminators with memchr.
        let bytes = text.as_bytes();
        let cased = bytes.iter().any(|b| b.is_ascii_uppercase());
        let next_term = |i: usize| {
            memchr::memchr3(b'.', b'!', b'?', &bytes[i..]).map_or(bytes.len(), |k| i + k)
        };
        split_chars(text, cased, bytes.len(), |i| (i, bytes[i] as char), next_term, out);
    } else {
        let cased = text.chars().any(|c| c.is_uppercase());
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let next_term = |mut i: usize| {
            while i < chars.len()
                && !matches!(chars[i].1, '.' | '!' | '?' | '…')
                && !is_cjk_terminator(chars[i].1)
            {
                i += 1;
            }
            i
        };
        split_chars(text, cased, chars.len(), |i| chars[i], next_term, out);
    }
}

/// The sentence splitter over a paragraph's characters: `at(i)` is the i-th character with its
/// byte offset, `next_term(i)` the index of the first terminator at or after i.
fn split_chars(
    text: &str,
    cased: bool,
    len: usize,
    at: impl Fn(usize) -> (usize, char),
    next_term: impl Fn(usize) -> usize,
    out: &mut Vec<String>,
) {
    let chars = at;
    let mut start = 0usize; // byte offset
    let mut i = 0usize;
    while i < len {
        i = next_term(i);
        if i >= len {
            break;
        }
        let (_, c) = chars(i);
        if is_cjk_terminator(c) {
            let mut j = i + 1;
            while j < len && (is_cjk_terminator(chars(j).1) || is_closing(chars(j).1)) {
                j += 1;
            }
            let end = if j < len { chars(j).0 } else { text.len() };
            let s = text[start..end].trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
            while j < len && chars(j).1.is_whitespace() {
                j += 1;
            }
            start = if j < len { chars(j).0 } else { text.len() };
            i = j;
            continue;
        }
        // Extend over repeated terminators and closing quotes/brackets.
        let mut j = i + 1;
        while j < len && matches!(chars(j).1, '.' | '!' | '?' | '…') {
            j += 1;
        }
        while j < len && is_closing(chars(j).1) {
            j += 1;
        }
        if j >= len {
            break;
        }
        if !chars(j).1.is_whitespace() {
            i = j;
            continue;
        }
        let mut k = j;
        while k < len && chars(k).1.is_whitespace() {
            k += 1;
        }
        if k >= len {
            break;
        }
        let next = chars(k).1;
        let tokenized = i > 0 && chars(i - 1).1 == ' ';
        // (a letter of an uncased script, such as CJK, may start a sentence too)
        let ok_start = next.is_uppercase()
            || next.is_ascii_digit()
            || is_opening(next)
            || (next.is_alphabetic() && !next.is_lowercase());
        let boundary = if c == '.' && !tokenized {
            // The word before the period.
            let wend = chars(i).0;
            let wstart = text[..wend]
                .char_indices()
                .rev()
                .find(|(_, ch)| ch.is_whitespace() || is_opening(*ch))
                .map(|(p, ch)| p + ch.len_utf8())
                .unwrap_or(0);
            let word = text[wstart..wend].to_lowercase();
            let word = word.trim_start_matches(|ch: char| !ch.is_alphanumeric());
            let abbrev = ABBREVIATIONS.contains(&word)
                || (word.chars().count() == 1
                    && word.chars().all(|ch| ch.is_alphabetic())
                    && cased)
                || (word.contains('.') && word.split('.').all(|p| p.chars().count() <= 2));
            !abbrev && (ok_start || !cased)
        } else {
            ok_start || !cased || tokenized
        };
        if boundary {
            let s = text[start..chars(j).0].trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
            start = chars(k).0;
        }
        i = k;
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII fast path (bytes, memchr) splits exactly as the character path.
    #[test]
    fn ascii_fast_path_equals_the_character_path() {
        let parts = [
            "Mr.", "A.", "U.S.", "he", "said", ".", "!", "?", "\"", ")", "(", "2", "x", "Hello",
            "world.", "e.g.", "ok!", "No?", "'", "...", "i.e.", "Dr.", "The",
        ];
        let mut x: u64 = 7;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(x % 23 + 1) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(parts[(x >> 33) as usize % parts.len()]);
                if !(x >> 20).is_multiple_of(5) {
                    text.push(' ');
                }
            }
            let text = text.trim();
            let mut fast = Vec::new();
            split_paragraph(text, &mut fast);
            let chars: Vec<(usize, char)> = text.char_indices().collect();
            let next_term = |mut i: usize| {
                while i < chars.len() && !matches!(chars[i].1, '.' | '!' | '?' | '…') {
                    i += 1;
                }
                i
            };
            let mut slow = Vec::new();
            if !text.is_empty() {
                split_chars(
                    text,
                    text.chars().any(|c| c.is_uppercase()),
                    chars.len(),
                    |i| chars[i],
                    next_term,
                    &mut slow,
                );
            }
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn basic_and_abbreviations() {
        let s = split_sentences("Mr. Smith went to Washington, D.C. on Monday. He met U.S. officials. \"It was good,\" he said. Then 3.5 percent rose!");
        assert_eq!(
            s,
            vec![
                "Mr. Smith went to Washington, D.C. on Monday.",
                "He met U.S. officials.",
                "\"It was good,\" he said.",
                "Then 3.5 percent rose!"
            ]
        );
    }

    #[test]
    fn tokenized_lowercase() {
        let s =
            split_sentences("obama says he is committed . his comments came on sunday . the end");
        assert_eq!(
            s,
            vec!["obama says he is committed .", "his comments came on sunday .", "the end"]
        );
    }

    #[test]
    fn quotes_close_sentences_and_newlines_split() {
        let s = split_sentences("He said: “We will win.” The crowd cheered.\nSecond line");
        assert_eq!(s, vec!["He said: “We will win.”", "The crowd cheered.", "Second line"]);
    }

    #[test]
    fn multibyte_opening_quotes_before_a_period() {
        // Regression: the word before a period started after a 3-byte opening quote.
        let s = split_sentences("He said ‘No. Then ‘U.S. officials. “Mr. Smith.” Done");
        assert_eq!(
            s.concat().replace(' ', ""),
            "He said ‘No. Then ‘U.S. officials. “Mr. Smith.” Done".replace(' ', "")
        );
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        let alphabet: Vec<char> = "aZ .!?…\"'‘’“”()[]«»\n\t3.é漢字İß-".chars().collect();
        let mut seed = 42u64;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (seed >> 58) as usize;
            let mut t = String::new();
            let mut x = seed;
            for _ in 0..len {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                t.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            let out = split_sentences(&t);
            let joined: String = out.concat().chars().filter(|c| !c.is_whitespace()).collect();
            let orig: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            assert_eq!(joined, orig, "sentences must cover the text: {t:?}");
        }
    }

    #[test]
    fn no_split_inside_lowercase_continuation_of_cased_text() {
        let s = split_sentences("The U.S. economy grew. about 3 percent is expected.");
        assert_eq!(s, vec!["The U.S. economy grew. about 3 percent is expected."]);
    }

    /// Chinese and Japanese sentences end at full-width terminators, without spaces after them.
    #[test]
    fn cjk_terminators_end_sentences() {
        assert_eq!(
            split_sentences("今天天气很好。我们去公园散步！然后回家吃饭？好的"),
            vec!["今天天气很好。", "我们去公园散步！", "然后回家吃饭？", "好的"]
        );
        assert_eq!(
            split_sentences("彼は「行く。」と言った。 次の文です。"),
            vec!["彼は「行く。」", "と言った。", "次の文です。"]
        );
        assert_eq!(
            split_sentences("Mixed text. 中文句子。English again."),
            vec!["Mixed text.", "中文句子。", "English again."]
        );
    }
}
