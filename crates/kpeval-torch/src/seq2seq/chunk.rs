//! Long sources: split on sentence boundaries (then words, then characters) into model inputs
//! that fit the context, with one sentence of overlap.
use super::model::Seq2SeqSummarizer;
use kpeval::backend::LongMerge;
use kpeval::error::{Error, Result};
use kpeval::keypoints::split_sentences;
use rust_bert::pipelines::common::TokenizerOption;

/// A source split into model inputs that fit the context (see [`Seq2SeqSummarizer::plan`]).
pub(super) struct Plan {
    pub(super) texts: Vec<String>,
    pub(super) ids: Vec<Vec<i64>>,
    /// Tokens of the whole (normalized) text with the prefix and special tokens.
    pub(super) tokens: usize,
    /// Sentences longer than the context, split at words.
    pub(super) split_long: usize,
}

impl Seq2SeqSummarizer {
    /// The model inputs a source becomes (see `Self::plan`): (chunk text, token ids) pairs and
    /// the notes.
    #[allow(clippy::type_complexity)]
    pub fn chunks(&self, text: &str) -> Result<(Vec<(String, Vec<i64>)>, Vec<String>)> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        let plan = self.plan(g.tokenizer(), text);
        let notes = self.plan_notes(&plan, 1, self.settings.long_merge == LongMerge::Concat);
        Ok((plan.texts.into_iter().zip(plan.ids).collect(), notes))
    }

    /// What a pass did with its text: nothing when it fit the context in the first pass.
    /// `last`: the chunk summaries of this pass are concatenated (no further pass).
    pub(super) fn plan_notes(&self, plan: &Plan, pass: usize, last: bool) -> Vec<String> {
        let mut notes = Vec::new();
        let n = plan.ids.len();
        let what = if last { "summaries concatenated" } else { "their summaries summarized again" };
        if pass == 1 {
            if n > 1 {
                notes.push(format!(
                    "source is {} tokens, over the {}-token context: {n} chunks, {what}",
                    plan.tokens, self.max_input_tokens
                ));
            }
        } else if n > 1 {
            notes.push(format!("pass {pass}: the chunk summaries are {} tokens, over the context: {n} chunks, {what}", plan.tokens));
        } else {
            notes.push(format!(
                "pass {pass}: the chunk summaries ({} tokens) summarized into one",
                plan.tokens
            ));
        }
        if plan.split_long > 0 {
            let at = if pass > 1 { format!("pass {pass}: ") } else { String::new() };
            notes.push(format!("{at}{} sentence(s) longer than the context were split at word boundaries (characters where a word alone is too long)", plan.split_long));
        }
        notes
    }

    /// Splits a source into model inputs that fit the context: the whole text when it fits, else
    /// sentence chunks with one sentence of overlap. Returns the chunk texts, their token ids and
    /// the notes.
    pub(super) fn plan(&self, tok: &TokenizerOption, text: &str) -> Plan {
        let text = self.normalize(text);
        let enc = |s: &str| Self::encode_with(tok, &format!("{}{}", self.prefix, s));
        let whole = enc(&text);
        if whole.len() <= self.max_input_tokens {
            let tokens = whole.len();
            return Plan { texts: vec![text], ids: vec![whole], tokens, split_long: 0 };
        }
        let fits = |s: &str| enc(s).len() <= self.max_input_tokens;
        // Units (byte spans of the text) that fit alone: sentences, with any too-long sentence
        // split at words (and a too-long word at characters). Chunks are spans of the text
        // itself, so separators (spaces, line breaks) are kept.
        let mut units: Vec<(usize, usize)> = Vec::new();
        let mut split_long = 0usize;
        let mut pos = 0usize;
        for sent in split_sentences(&text) {
            let (a, b) = match text[pos..].find(sent.as_str()) {
                Some(k) => (pos + k, pos + k + sent.len()),
                None => continue, // the splitter only trims; unreachable in practice
            };
            pos = b;
            if fits(&text[a..b]) {
                units.push((a, b));
                continue;
            }
            split_long += 1;
            let mut words: Vec<(usize, usize)> = Vec::new();
            for w in text[a..b].split_whitespace() {
                let wa = w.as_ptr() as usize - text.as_ptr() as usize;
                if fits(w) {
                    words.push((wa, wa + w.len()));
                } else {
                    words.extend(split_chars(&text, (wa, wa + w.len()), &fits));
                }
            }
            units.extend(pack(&text, &words, &fits, false));
        }
        let chunks: Vec<String> = pack(&text, &units, &fits, true)
            .into_iter()
            .map(|(a, b)| text[a..b].to_string())
            .collect();
        let inputs: Vec<Vec<i64>> = chunks.iter().map(|c| enc(c)).collect();
        Plan { texts: chunks, ids: inputs, tokens: whole.len(), split_long }
    }
}

/// Packs units (byte spans of `text`, in order) into the fewest spans that fit; with
/// `overlap`, each span after the first starts with the last unit of the one before (when that
/// one has more than one unit, so that every span makes progress).
fn pack(
    text: &str,
    units: &[(usize, usize)],
    fits: &dyn Fn(&str) -> bool,
    overlap: bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let mut j = i + 1; // units[i..j] fit (a unit always fits alone)
        while j < units.len() && fits(&text[units[i].0..units[j].1]) {
            j += 1;
        }
        out.push((units[i].0, units[j - 1].1));
        if j >= units.len() {
            break;
        }
        i = if overlap && j - i > 1 { j - 1 } else { j };
    }
    out
}

/// Splits a word (a span of `text`) that does not fit into character spans that do.
fn split_chars(
    text: &str,
    span: (usize, usize),
    fits: &dyn Fn(&str) -> bool,
) -> Vec<(usize, usize)> {
    let bounds: Vec<usize> = text[span.0..span.1]
        .char_indices()
        .map(|(k, _)| span.0 + k)
        .chain(std::iter::once(span.1))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bounds.len() {
        let mut j = i + 1;
        while j + 1 < bounds.len() && fits(&text[bounds[i]..bounds[j + 1]]) {
            j += 1;
        }
        out.push((bounds[i], bounds[j]));
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_overlaps_one_sentence() {
        let text = "a a b b\nc c d d";
        let units = [(0, 3), (4, 7), (8, 11), (12, 15)];
        let spans = |v: Vec<(usize, usize)>| {
            v.into_iter().map(|(a, b)| text[a..b].to_string()).collect::<Vec<_>>()
        };
        let fits = |s: &str| s.len() <= 7;
        assert_eq!(spans(pack(text, &units, &fits, true)), vec!["a a b b", "b b\nc c", "c c d d"]);
        assert_eq!(spans(pack(text, &units, &fits, false)), vec!["a a b b", "c c d d"]);
        let fits1 = |s: &str| s.len() <= 3;
        assert_eq!(spans(pack(text, &units, &fits1, true)), vec!["a a", "b b", "c c", "d d"]);
        let word = "abcdefg";
        assert_eq!(spans_of(word, split_chars(word, (0, 7), &fits1)), vec!["abc", "def", "g"]);
    }

    fn spans_of(text: &str, v: Vec<(usize, usize)>) -> Vec<String> {
        v.into_iter().map(|(a, b)| text[a..b].to_string()).collect()
    }
}
