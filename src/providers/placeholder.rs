//! Whether a provider pattern matched a stand-in (`hf_xxxxxxxx…`, `AKIA…EXAMPLE`) rather than a real
//! token: issuer knowledge about what real token bodies look like.

use crate::util::text::shannon_entropy;

/// Whether the random part of a token a provider pattern matched (what follows the fixed prefix, such as
/// the 34 letters after `hf_`) is a stand-in rather than a real token: a long stand-in word, a run of one
/// character, or too little variety.
///
/// Stricter than [`crate::tokens::is_placeholder`] about what counts: a real token's random part
/// contains a short word such as `your` or `todo` by chance often enough that only words of five
/// letters or more count. Runs count in token-sized bodies only (key material has real ones: OpenSSH
/// keys hold `AAAAAAAA`), and the entropy bar is lower for short bodies, whose entropy cannot be high
/// (16 random characters of an AWS key id fall below 3 bits one time in five hundred, below 2.5
/// practically never).
pub fn is_placeholder_body(body: &str) -> bool {
    const WORDS: &[&str] = &[
        "example",
        "placeholder",
        "changeme",
        "change_me",
        "redacted",
        "dummy",
        "your_",
        "yourtoken",
        "yourkey",
        "token_here",
        "tokenhere",
        "insert",
        "replace",
        "sample",
    ];
    /// Eight of one character in a row: about one chance in ten million for a random token of
    /// letters, but the whole of `xxxxxxxx`, `00000000`, `********` and `........`.
    const RUN: usize = 8;
    let lower = body.to_ascii_lowercase();
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    /// Bodies longer than this are key material, not tokens: runs are no sign there.
    const TOKEN_SIZED: usize = 128;
    let bytes = body.as_bytes();
    if bytes.len() <= TOKEN_SIZED {
        let mut run = 1;
        for pair in bytes.windows(2) {
            run = if pair[0] == pair[1] { run + 1 } else { 1 };
            if run >= RUN {
                return true;
            }
        }
    }
    let distinct: std::collections::HashSet<u8> = bytes.iter().copied().collect();
    let bar = ((bytes.len().max(2) as f64).log2() - 1.5).min(3.0);
    distinct.len() < 6 || shannon_entropy(body) < bar
}

/// Stand-ins people put where a token goes (`your_token_here`, `xxxx…`, `changeme`, `${VAR}`): a whole
/// value, where [`is_placeholder_body`] judges what follows a provider prefix.
pub fn is_stand_in(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "your",
        "token_here",
        "changeme",
        "change_me",
        "placeholder",
        "example",
        "dummy",
        "redacted",
        "removed",
        "insert",
        "replace",
        "<",
        "${",
        "todo",
        "xxxx",
        "****",
        "....",
        "0000",
    ];
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let distinct: std::collections::HashSet<char> = value.chars().collect();
    distinct.len() < 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_bodies() {
        for body in [
            "x".repeat(34),
            "Ab".repeat(17),
            "0".repeat(16),
            format!("IOSFODNN7{}", "EXAMPLE"),
            "your_token_here_please_1234".to_string(),
            "abc".repeat(12),
            format!("Qw3rTy{}Ui0p", "*".repeat(10)),
        ] {
            assert!(is_placeholder_body(&body), "{body}");
        }
        for body in [
            "AbCdEfGhIj".repeat(3) + "Klmn",
            "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi".to_string(),
            "K7PQ2ZXM4TBA9WRC".to_string(),
            // Low for 16 characters, but random ones come out this way.
            "K7PQK7PQK7PQ2ZXM".to_string(),
            // OpenSSH key material has runs of `A`.
            format!(
                "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAA{}",
                "Zx9/Qk3+Lm2Wp7Rt".repeat(8)
            ),
            // Short stand-in words occur in real tokens by chance.
            "QwErTyourUiOpAsDfGhJkLzXcVbNmtodo".to_string(),
        ] {
            assert!(!is_placeholder_body(&body), "{body}");
        }
    }
}
