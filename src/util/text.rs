//! Text measures: one binary sniff, with the two probe sizes the tools we follow use, and the entropy
//! the detectors and redaction rules share.

/// git's rule (`buffer_is_binary`): a NUL in the first 8000 bytes makes a blob binary. Findings in
/// binary blobs get no line numbers, and hooks report no lines for them, as git shows no diff lines.
pub const GIT_BINARY_PROBE: usize = 8000;

/// git-filter-repo's own rule: a NUL in the first 8192 bytes and it applies no `--replace-text`
/// expression to that blob at all (to spare binary files). Not git's size: the rewrite must predict
/// what filter-repo will skip, not what git would diff.
pub const FILTER_REPO_BINARY_PROBE: usize = 8192;

/// Whether a NUL byte occurs within the first `probe` bytes of `data`.
pub fn has_nul_within(data: &[u8], probe: usize) -> bool {
    data[..data.len().min(probe)].contains(&0)
}

/// Bits per character of the value's own character distribution.
pub fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_probe_counts() {
        let mut data = vec![b'a'; GIT_BINARY_PROBE];
        data.push(0);
        assert!(!has_nul_within(&data, GIT_BINARY_PROBE));
        assert!(has_nul_within(&data, FILTER_REPO_BINARY_PROBE));
        assert!(!has_nul_within(b"", GIT_BINARY_PROBE));
    }
}
