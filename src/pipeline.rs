//! Streaming orchestration: articles are read one at a time, processed in batches, and written
//! as JSONL records in input order (so results do not depend on the thread count). Supports
//! resume (skip records already in the output, repair a torn last line) and deterministic shards.
use crate::article::{Article, Failed, SourceSelection};
use crate::error::{Error, RecordError, Result};
use crate::keypoints::split_sentences;
use crate::record::Record;
use crate::records::RecordSink;
use crate::reporter::Reporter;
use crate::scoring::{ScoreInput, Scorer};
use crate::summarize::{SourceText, Summarizer, Summary};
use serde_json::Map;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// `--shard i/N`: this process handles the records whose id hashes to `i` modulo `N` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// This shard (0-based).
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("'{s}': expected i/N, e.g. 0/4"))?;
        let index: u32 =
            i.trim().parse().map_err(|_| format!("'{s}': shard index is not a number"))?;
        let count: u32 =
            n.trim().parse().map_err(|_| format!("'{s}': shard count is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("'{s}': need 0 <= i < N (shards are numbered from 0)"));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// FNV-1a 64 of the id: stable across platforms, versions and runs.
    pub fn owns(&self, id: &str) -> bool {
        let mut h: u64 = 0xcbf29ce484222325;
        for b in id.as_bytes() {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        (h % self.count as u64) as u32 == self.index
    }
}

/// Where summaries come from.
pub enum SummarySource<'a> {
    /// Generate with a summarizer.
    Generate(&'a dyn Summarizer),
    /// Use the summaries given in the input (`summary` / `systems`); `None` = every system.
    Given(Option<Vec<String>>),
}

/// One pass of the stages over an input: where summaries come from and how they are scored.
pub struct Job<'a> {
    /// Generated or given summaries.
    pub summaries: SummarySource<'a>,
    /// None: summarize only (no scores, reference key points optional).
    pub scorer: Option<&'a Scorer>,
    /// Metrics asked for but unavailable, with the reason: written into every record.
    pub not_computed: Map<String, serde_json::Value>,
    /// Sections summarized and scored against.
    pub selection: SourceSelection,
    /// Inputs per chunk.
    pub batch_size: usize,
    /// Only the inputs of this shard.
    pub shard: Option<Shard>,
    /// Written into every record.
    pub signature: String,
}

/// A hash of what an article gives a summarizer and a scorer (sections and key points).
fn article_hash(a: &Article) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for s in &a.sections {
        s.heading.hash(&mut h);
        s.text.hash(&mut h);
    }
    a.key_points.hash(&mut h);
    a.title.hash(&mut h);
    h.finish()
}

/// Counts of one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunCounts {
    /// Records written.
    pub written: usize,
    /// Failed records, and inputs not processed for a conflicting id.
    pub errors: usize,
    /// Inputs whose records were already in a resumed output.
    pub skipped_resume: usize,
    /// Inputs of other shards.
    pub skipped_shard: usize,
    /// Inputs whose (id, system) was already produced in this run (e.g. one article repeated
    /// on several lines of a per-system dataset, or a file given twice): processed once.
    pub skipped_duplicate: usize,
    /// Inputs whose id was already used in this run by a different article (reported on stderr
    /// with both places; counted as errors: the record would have the other article's key).
    pub conflicting_ids: usize,
}

/// What a run keeps of the records it writes, besides writing them: the aggregate's
/// accumulator, and every record's aggregate row when asked for (paired comparisons need them).
#[derive(Default)]
pub struct Tally {
    /// The aggregate of every record seen, accumulated as records stream out.
    pub acc: Option<crate::accumulate::Accumulator>,
    /// Every record's aggregate row.
    pub rows: Option<Vec<crate::aggregate::AggRow>>,
}

impl Tally {
    /// A tally accumulating the aggregate with `stats` (none without), keeping rows if asked.
    pub fn new(stats: Option<&crate::stats::StatsConfig>, keep_rows: bool) -> Self {
        Tally {
            acc: stats.map(crate::accumulate::Accumulator::new),
            rows: keep_rows.then(Vec::new),
        }
    }

    /// Counts one record.
    pub fn keep(&mut self, r: &Record) {
        if let Some(acc) = &mut self.acc {
            acc.add_record(r);
        }
        if let Some(rows) = &mut self.rows {
            rows.push(crate::aggregate::AggRow::from_record(r));
        }
    }
}

/// Runs a job over the input stream, in three stages that overlap: a reader thread parses the
/// input into chunks, this thread runs each chunk (summaries and scores, in parallel on the
/// rayon pool; models stay on the thread that loaded them), a writer thread serializes and
/// writes the records. Chunks pass through bounded queues in input order, so the output is the
/// same as a sequential run and memory stays flat (at most a few chunks in flight).
pub fn run(
    job: &Job,
    input: impl Iterator<Item = std::result::Result<Article, Failed>> + Send,
    sink: &mut dyn RecordSink,
    tally: &mut Tally,
    progress: &dyn Reporter,
) -> Result<RunCounts> {
    use std::sync::mpsc::sync_channel;
    type Chunk = Vec<std::result::Result<Article, Failed>>;
    // Resume keys are fixed for the run; the reader and the workers read them while the writer
    // owns the sink.
    let done = sink.done();
    let (to_score, scoring) = sync_channel::<Chunk>(2);
    let (to_write, writing) = sync_channel::<(usize, Vec<Record>)>(2);
    let result = std::thread::scope(|scope| -> Result<RunCounts> {
        let done = &done;
        let reader = scope.spawn(move || {
            let mut counts = RunCounts::default();
            // (id, system) -> (content hash, where it was read)
            let mut queued: HashMap<(String, String), (u64, String)> = HashMap::new();
            let mut chunk: Chunk = Vec::with_capacity(job.batch_size);
            for item in input {
                let id = match &item {
                    Ok(a) => a.id.as_str(),
                    Err((id, _, _)) => id.as_str(),
                };
                if let Some(sh) = &job.shard {
                    if !sh.owns(id) {
                        counts.skipped_shard += 1;
                        progress.advance(1);
                        continue;
                    }
                }
                if let Ok(a) = &item {
                    // the records this input makes: (id, system) -> content hash
                    let base = article_hash(a);
                    let keys: Vec<((String, String), u64)> = match &job.summaries {
                        SummarySource::Generate(s) => vec![((a.id.clone(), s.name()), base)],
                        SummarySource::Given(_) => a
                            .summaries
                            .iter()
                            .map(|(sys, g)| {
                                use std::hash::{Hash, Hasher};
                                let mut h = std::collections::hash_map::DefaultHasher::new();
                                base.hash(&mut h);
                                g.text.hash(&mut h);
                                g.sentences.hash(&mut h);
                                ((a.id.clone(), sys.clone()), h.finish())
                            })
                            .collect(),
                    };
                    let conflict = keys.iter().find_map(|(k, h)| queued.get(k).filter(|(h0, _)| h0 != h).map(|(_, first)| (k, first.clone())));
                    if let Some(((id, sys), first)) = conflict {
                        progress.error(&format!(
                            "{}: id '{id}'{} is already used by different content at {first}; this input is not processed \
                             (ids must be unique per system: give JSONL records distinct ids, or pick the fields with --id-field / --system-field; \
                             a text file's id is its file name without extension)",
                            a.source,
                            if sys.is_empty() { String::new() } else { format!(" (system '{sys}')") }
                        ));
                        counts.conflicting_ids += 1;
                        progress.advance(1);
                        continue;
                    }
                    if !keys.is_empty() && keys.iter().all(|(k, _)| queued.contains_key(k)) {
                        // the same input again (e.g. an article repeated once per system line)
                        counts.skipped_duplicate += 1;
                        progress.advance(1);
                        continue;
                    }
                    for (k, h) in keys {
                        queued.entry(k).or_insert_with(|| (h, a.source.to_string()));
                    }
                }
                if fully_done(job, &item, done) {
                    counts.skipped_resume += 1;
                    progress.advance(1);
                    continue;
                }
                chunk.push(item);
                if chunk.len() >= job.batch_size.max(1) && to_score.send(std::mem::replace(&mut chunk, Vec::with_capacity(job.batch_size))).is_err() {
                    return counts; // the run stopped on an error; it is reported there
                }
            }
            if !chunk.is_empty() {
                let _ = to_score.send(chunk);
            }
            counts
        });
        let writer = scope.spawn(move || -> Result<(usize, usize)> {
            let (mut errors, mut written) = (0, 0);
            for (n_inputs, records) in writing {
                errors += records.iter().filter(|r| r.error.is_some()).count();
                written += records.len();
                for r in &records {
                    tally.keep(r);
                }
                sink.write(&records)?;
                progress.advance(n_inputs as u64);
            }
            Ok((errors, written))
        });
        for chunk in scoring {
            let n_inputs = chunk.len();
            let records = process_chunk(job, chunk, done);
            if to_write.send((n_inputs, records)).is_err() {
                break; // the writer stopped on an error; it reports it below
            }
        }
        drop(to_write);
        let written =
            writer.join().map_err(|_| Error::config("internal error: the writing stage panicked"));
        let mut counts = reader
            .join()
            .map_err(|_| Error::config("internal error: the reading stage panicked"))?;
        let (errors, written) = written??;
        counts.errors += errors + counts.conflicting_ids;
        counts.written += written;
        Ok(counts)
    });
    result
}

fn system_names(job: &Job, article: &Article) -> Vec<String> {
    match &job.summaries {
        SummarySource::Generate(s) => vec![s.name()],
        SummarySource::Given(None) => article.summaries.keys().cloned().collect(),
        SummarySource::Given(Some(list)) => {
            list.iter().filter(|s| article.summaries.contains_key(*s)).cloned().collect()
        }
    }
}

fn fully_done(
    job: &Job,
    item: &std::result::Result<Article, Failed>,
    done: &HashSet<(String, String)>,
) -> bool {
    if done.is_empty() {
        return false;
    }
    match item {
        Err((id, _, _)) => done.contains(&(id.clone(), String::new())),
        Ok(a) => {
            let names = system_names(job, a);
            if names.is_empty() {
                return done.contains(&(a.id.clone(), String::new()));
            }
            names.iter().all(|s| done.contains(&(a.id.clone(), s.clone())))
        }
    }
}

fn base_record(a: &Article, signature: &str) -> Record {
    Record {
        id: a.id.clone(),
        system: None,
        source: a.source.clone(),
        title: a.title.clone(),
        sections: a.section_kinds(),
        key_points: a.key_points.clone(),
        summary: None,
        scores: None,
        not_computed: Map::new(),
        meta: a.extra.clone(),
        error: None,
        signature: signature.to_string(),
    }
}

/// One chunk: summaries (generated in one batch call), then scores (one batch call per metric).
fn process_chunk(
    job: &Job,
    chunk: Vec<std::result::Result<Article, Failed>>,
    done: &HashSet<(String, String)>,
) -> Vec<Record> {
    // Each slot: the record being built, plus the article's source text for scoring.
    let mut slots: Vec<(Record, String)> = Vec::new();
    let mut pending: Vec<(usize, SourceText)> = Vec::new();
    for item in chunk {
        let a = match item {
            Err((id, source, err)) => {
                slots.push((Record::failed(id, source, err, &job.signature), String::new()));
                continue;
            }
            Ok(a) => a,
        };
        let text = job.selection.source_text(&a);
        if job.scorer.is_some() {
            if let Err(e) = a.require_key_points() {
                let mut r = base_record(&a, &job.signature);
                r.error = Some(e);
                if let SummarySource::Generate(s) = &job.summaries {
                    r.system = Some(s.name());
                }
                slots.push((r, text));
                continue;
            }
        }
        match &job.summaries {
            SummarySource::Generate(s) => {
                let mut r = base_record(&a, &job.signature);
                r.system = Some(s.name());
                if text.trim().is_empty() {
                    r.error = Some(RecordError::new(
                        "empty_article",
                        format!(
                            "{} (record '{}'): the selected sections ({}) hold no text",
                            a.source,
                            a.id,
                            job.selection.name()
                        ),
                    ));
                    slots.push((r, text));
                    continue;
                }
                pending.push((slots.len(), SourceText { id: a.id.clone(), text: text.clone() }));
                slots.push((r, text));
            }
            SummarySource::Given(_) => {
                let names = system_names(job, &a);
                if names.is_empty() {
                    let mut r = base_record(&a, &job.signature);
                    r.error = Some(RecordError::new(
                        "no_summary",
                        format!(
                            "{} (record '{}'): no summary given (fields 'summary' or 'systems'){}",
                            a.source,
                            a.id,
                            match &job.summaries {
                                SummarySource::Given(Some(l)) =>
                                    format!(" for system(s) {}", l.join(", ")),
                                _ => String::new(),
                            }
                        ),
                    ));
                    slots.push((r, text));
                    continue;
                }
                for name in names {
                    if done.contains(&(a.id.clone(), name.clone())) {
                        continue;
                    }
                    let g = &a.summaries[&name];
                    let mut r = base_record(&a, &job.signature);
                    r.system = Some(name.clone());
                    let key_points = match &g.sentences {
                        Some(s) => s.clone(),
                        None => split_sentences(&g.text),
                    };
                    for (k, v) in &g.extra {
                        r.meta.insert(k.clone(), v.clone());
                    }
                    r.summary = Some(Summary {
                        system: name,
                        text: g.text.clone(),
                        key_points,
                        notes: Vec::new(),
                    });
                    slots.push((r, text.clone()));
                }
            }
        }
    }
    if let SummarySource::Generate(s) = &job.summaries {
        if !pending.is_empty() {
            let batch: Vec<SourceText> = pending.iter().map(|(_, t)| t.clone()).collect();
            let results = s.summarize(&batch);
            for ((slot, _), res) in pending.iter().zip(results) {
                match res {
                    Ok(sum) => slots[*slot].0.summary = Some(sum),
                    Err(e) => slots[*slot].0.error = Some(e),
                }
            }
        }
    }
    if let Some(scorer) = job.scorer {
        let idx: Vec<usize> = (0..slots.len())
            .filter(|&i| slots[i].0.error.is_none() && slots[i].0.summary.is_some())
            .collect();
        let inputs: Vec<ScoreInput> = idx
            .iter()
            .map(|&i| {
                let (r, text) = &slots[i];
                let s = r.summary.as_ref().unwrap();
                ScoreInput {
                    generated: &s.key_points,
                    summary: &s.text,
                    references: &r.key_points,
                    article: text,
                }
            })
            .collect();
        let results = scorer.score_batch(&inputs);
        for (i, res) in idx.into_iter().zip(results) {
            let r = &mut slots[i].0;
            match res {
                Ok(scores) => {
                    r.scores = Some(scores);
                    r.not_computed = job.not_computed.clone();
                }
                Err(e) => {
                    r.error = Some(RecordError::new(
                        "score",
                        format!("{} (record '{}'): {e}", r.source, r.id),
                    ))
                }
            }
        }
    }
    slots.into_iter().map(|(r, _)| r).collect()
}
