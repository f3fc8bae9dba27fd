//! The signature every record and results file carries: `kpeval:<version>|key:value|…`, one
//! part per setting that can change a number (summarizer, sections, each metric's settings,
//! the aggregate's statistics). Built here and parsed here; nowhere else assembles one.
use crate::error::{Error, Result};
use crate::stats::StatsConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A results signature. Two results files can be merged or resumed into each other only when
/// their signatures are equal; [`Signature::check_metric_settings`] says whether they can be
/// compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Signature(String);

impl Default for Signature {
    fn default() -> Self {
        Self::new()
    }
}

impl Signature {
    /// A signature with only the tool part, `kpeval:<version>`.
    pub fn new() -> Self {
        Signature(format!("kpeval:{}", crate::VERSION))
    }

    /// Appends a part (`key:value`, or several joined with `|`); empty parts are skipped.
    #[must_use]
    pub fn with(mut self, part: impl AsRef<str>) -> Self {
        let part = part.as_ref();
        if !part.is_empty() {
            self.0.push('|');
            self.0.push_str(part);
        }
        self
    }

    /// Appends a `key:value` part.
    #[must_use]
    pub fn with_kv(self, key: &str, value: impl fmt::Display) -> Self {
        self.with(format!("{key}:{value}"))
    }

    /// Reads a signature from a record or file; it must start with the tool part `kpeval:`.
    pub fn parse(s: &str) -> Result<Self> {
        if !s.starts_with("kpeval:") {
            return Err(Error::input(format!(
                "'{s}': not a kpeval signature (it starts with `kpeval:<version>`)"
            )));
        }
        Ok(Signature(s.to_string()))
    }

    /// The signature as written into records.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kpeval version that wrote it.
    pub fn version(&self) -> &str {
        self.get("kpeval").unwrap_or("")
    }

    /// Its parts as (key, value), in order, the tool part (`kpeval`, version) first; a part
    /// without `:` has an empty value.
    pub fn parts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.split('|').map(|p| p.split_once(':').unwrap_or((p, "")))
    }

    /// The value of the first part named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.parts().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The aggregate's statistics settings recorded in it (`bootstrap:`, `seed:`, `ci:`), with
    /// `defaults` for those it lacks, so a merge reproduces the single run's aggregate.
    pub fn stats(&self, defaults: StatsConfig) -> StatsConfig {
        let mut cfg = defaults;
        if let Some(n) = self.get("bootstrap").and_then(|v| v.parse().ok()) {
            cfg.bootstrap_samples = n;
        }
        if let Some(n) = self.get("seed").and_then(|v| v.parse().ok()) {
            cfg.seed = n;
        }
        if let Some(n) = self.get("ci").and_then(|v| v.parse().ok()) {
            cfg.confidence = n;
        }
        cfg
    }

    /// Checks that results files were scored with the same metric settings: every part that two
    /// files both have must agree, apart from [`Signature::SYSTEM_KEYS`]. `files` are (file name,
    /// signature). Returns a warning when the files come from different kpeval versions.
    pub fn check_metric_settings(files: &[(String, Signature)]) -> Result<Option<String>> {
        let mut first: BTreeMap<&str, (&str, &str)> = BTreeMap::new(); // key -> (value, file)
        let mut versions: BTreeMap<&str, &str> = BTreeMap::new();
        for (file, sig) in files {
            for (key, value) in sig.parts() {
                if key == "kpeval" {
                    versions.entry(value).or_insert(file);
                }
                if Self::SYSTEM_KEYS.contains(&key) {
                    continue;
                }
                match first.get(key) {
                    None => {
                        first.insert(key, (value, file));
                    }
                    Some((v, f)) if *v != value => {
                        return Err(Error::input(format!(
                            "{file}: records scored with '{key}:{value}', but {f}'s with '{key}:{v}'; \
                             compare needs the same metric settings for every system (rescore one of them)"
                        )))
                    }
                    _ => {}
                }
            }
        }
        Ok((versions.len() > 1).then(|| {
            let list: Vec<String> = versions.iter().map(|(v, f)| format!("{v} ({f})")).collect();
            format!("the results files come from different kpeval versions: {}", list.join(", "))
        }))
    }

    /// Parts that describe how a system's summaries were made, or the aggregate's own
    /// statistics: they may differ between the results files that `compare` puts side by side.
    pub const SYSTEM_KEYS: [&'static str; 8] =
        ["kpeval", "summarizer", "summaries", "sections", "bootstrap", "resampling", "ci", "seed"];
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Signature {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_and_parsed_in_one_place() {
        let stats = StatsConfig { bootstrap_samples: 200, seed: 7, ..StatsConfig::default() };
        let sig = Signature::new()
            .with_kv("summarizer", "lead-3")
            .with("")
            .with_kv("sections", "default")
            .with(stats.signature());
        assert_eq!(
            sig.as_str(),
            format!(
                "kpeval:{}|summarizer:lead-3|sections:default|bootstrap:200|resampling:poisson-by-id|ci:0.95|seed:7",
                crate::VERSION
            )
        );
        let back = Signature::parse(sig.as_str()).unwrap();
        assert_eq!(back, sig);
        assert_eq!(back.version(), crate::VERSION);
        assert_eq!(back.get("summarizer"), Some("lead-3"));
        assert_eq!(back.stats(StatsConfig::default()), stats);
        assert!(Signature::parse("rouge|x").is_err());
    }

    #[test]
    fn metric_settings_must_agree() {
        let a = Signature::new().with_kv("summarizer", "lead-3").with_kv("rouge", "stem");
        let b = Signature::new().with_kv("summarizer", "lead-2").with_kv("rouge", "stem");
        let c = Signature::new().with_kv("summarizer", "lead-2").with_kv("rouge", "nostem");
        let files = |s: &[&Signature]| -> Vec<(String, Signature)> {
            s.iter().enumerate().map(|(i, s)| (format!("f{i}"), (*s).clone())).collect()
        };
        assert_eq!(Signature::check_metric_settings(&files(&[&a, &b])).unwrap(), None);
        let e = Signature::check_metric_settings(&files(&[&a, &c])).unwrap_err().to_string();
        assert!(e.contains("rouge:nostem") && e.contains("rouge:stem"), "{e}");
    }
}
