//! Format-preserving `.env` reading and editing, and crash-safe private writes.
//!
//! STUB: the API below is what the rest of unleak uses; the implementation is being completed
//! (lossless round-trip, python-dotenv-compatible values, atomic 0600 writes).

use anyhow::{Context, Result};
use std::fmt;
use std::path::Path;

/// A parsed `.env` file that can be written back byte-for-byte.
#[derive(Clone, Default)]
pub struct DotEnv {
    raw: Vec<u8>,
    entries: Vec<(String, String)>,
}

impl fmt::Debug for DotEnv {
    /// Values are secrets: show keys only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DotEnv")
            .field("keys", &self.keys())
            .finish()
    }
}

impl DotEnv {
    /// Parses any bytes; never fails (lines it cannot read as `KEY=value` are kept verbatim).
    pub fn parse(bytes: &[u8]) -> DotEnv {
        let text = String::from_utf8_lossy(bytes);
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            if line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(v);
                entries.push((k.trim().to_string(), v.to_string()));
            }
        }
        DotEnv {
            raw: bytes.to_vec(),
            entries,
        }
    }

    /// The bytes to write back.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.raw.clone()
    }

    /// The value a loader sees for `key` (the last assignment wins, as in python-dotenv).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every key with the value a loader sees, in order of first appearance.
    pub fn entries(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, _) in &self.entries {
            if !out.iter().any(|(seen, _)| seen == k) {
                out.push((k.clone(), self.get(k).unwrap_or_default().to_string()));
            }
        }
        out
    }

    /// Keys, in order of first appearance.
    pub fn keys(&self) -> Vec<String> {
        self.entries().into_iter().map(|(k, _)| k).collect()
    }

    /// Keys assigned more than once (the last one wins; callers warn).
    pub fn duplicate_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if self.entries[..i].iter().any(|(seen, _)| seen == k) && !out.contains(k) {
                out.push(k.clone());
            }
        }
        out
    }
}

/// Reads and parses a `.env` file.
pub fn read(path: &Path) -> Result<DotEnv> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(DotEnv::parse(&bytes))
}
