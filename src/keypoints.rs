//! Sentence splitting: the one splitter used wherever sentences are needed (summaries into key
//! points, articles into sentences for extractive summarizers and for chunking).
//!
//! Rule-based: a sentence ends at `.`, `!` or `?` (plus closing quotes/brackets) followed by
//! whitespace, unless the word before is a known abbreviation, a single initial, or a number
//! continues. In cased text the next sentence must start with an uppercase letter, a digit or
//! an opening quote; in lowercased/tokenized text (` . ` style) any start is accepted.
//! Newlines that separate paragraphs (or lines in a summary) always end a sentence.

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "gov", "sen",
    "rep", "rev", "hon", "pres", "supt", "insp", "det", "co", "corp", "inc", "ltd", "bros", "no", "nos", "vs", "etc", "al",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e",
    "a.m", "p.m", "approx", "dept", "est", "fig", "ft", "mph", "vol", "ave", "blvd", "rd", "ph.d", "d.c", "ariz", "calif",
    "fla", "ga", "ill", "mass", "mich", "minn", "pa", "tenn", "tex", "va", "wash", "wis",
];

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | '’' | '”' | ')' | ']' | '»')
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
    let cased = text.chars().any(|c| c.is_uppercase());
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut start = 0usize; // byte offset
    let mut i = 0usize;
    while i < chars.len() {
        let (_, c) = chars[i];
        if !matches!(c, '.' | '!' | '?' | '…') {
            i += 1;
            continue;
        }
        // Extend over repeated terminators and closing quotes/brackets.
        let mut j = i + 1;
        while j < chars.len() && matches!(chars[j].1, '.' | '!' | '?' | '…') {
            j += 1;
        }
        while j < chars.len() && is_closing(chars[j].1) {
            j += 1;
        }
        if j >= chars.len() {
            break;
        }
        if !chars[j].1.is_whitespace() {
            i = j;
            continue;
        }
        let mut k = j;
        while k < chars.len() && chars[k].1.is_whitespace() {
            k += 1;
        }
        if k >= chars.len() {
            break;
        }
        let next = chars[k].1;
        let tokenized = i > 0 && chars[i - 1].1 == ' ';
        let ok_start = next.is_uppercase() || next.is_ascii_digit() || is_opening(next);
        let boundary = if c == '.' && !tokenized {
            // The word before the period.
            let wend = chars[i].0;
            let wstart = text[..wend]
                .char_indices()
                .rev()
                .find(|(_, ch)| ch.is_whitespace() || is_opening(*ch))
                .map(|(p, ch)| p + ch.len_utf8())
                .unwrap_or(0);
            let word = text[wstart..wend].to_lowercase();
            let word = word.trim_start_matches(|ch: char| !ch.is_alphanumeric());
            let abbrev = ABBREVIATIONS.contains(&word)
                || (word.chars().count() == 1 && word.chars().all(|ch| ch.is_alphabetic()) && cased)
                || (word.contains('.') && word.split('.').all(|p| p.chars().count() <= 2));
            !abbrev && (ok_start || !cased)
        } else {
            ok_start || !cased || tokenized
        };
        if boundary {
            let s = text[start..chars[j].0].trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
            start = chars[k].0;
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

    #[test]
    fn basic_and_abbreviations() {
        let s = split_sentences("Mr. Smith went to Washington, D.C. on Monday. He met U.S. officials. \"It was good,\" he said. Then 3.5 percent rose!");
        assert_eq!(s, vec!["Mr. Smith went to Washington, D.C. on Monday.", "He met U.S. officials.", "\"It was good,\" he said.", "Then 3.5 percent rose!"]);
    }

    #[test]
    fn tokenized_lowercase() {
        let s = split_sentences("obama says he is committed . his comments came on sunday . the end");
        assert_eq!(s, vec!["obama says he is committed .", "his comments came on sunday .", "the end"]);
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
        assert_eq!(s.concat().replace(' ', ""), "He said ‘No. Then ‘U.S. officials. “Mr. Smith.” Done".replace(' ', ""));
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
}
