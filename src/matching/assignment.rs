//! A value assigned to a name, read around one of the assignment keywords (`KEY`, `token`, `Secret`,
//! `PASSWORD`) wherever it occurs: what context rules (a 40-hex-digit value is a Weights & Biases key
//! only under `WANDB_API_KEY`) and the generic rule look at.
//!
//! One hand-written reader covers the syntaxes people keep keys in, because they differ only in the
//! few bytes between the name and the value:
//!
//! | syntax | between name and value |
//! |---|---|
//! | `.env`, shell `export`, compose list `- K=v`, Dockerfile `ENV K=v` | `=` |
//! | YAML, workflow `env:`, JSON, notebook JSON (`\"K\": \"v\"`) | `:` after an optional (escaped) quote |
//! | TOML, INI (`~/.aws/credentials`), Python `K = "v"`, keyword arguments `api_key="v"` | `=` with spaces |
//! | `os.environ["K"] = "v"`, `os.environ.setdefault("K", "v")` | `"]` then `=`, or `",` |
//! | Go `k := "v"`, Ruby/PHP `=>` | `:=`, `=>` |
//! | Dockerfile `ENV K v`, `.netrc` `password v` | whitespace only (context rules only) |
//!
//! The value is quoted (`"`, `'`, a backtick, or a JSON-escaped `\"`) up to its closing quote, or bare up
//! to whitespace or punctuation that ends a value. Everything is bounded: a name is at most
//! [`MAX_NAME`] bytes, a value at most [`MAX_VALUE`].

use std::ops::Range;

/// Longest name read around a keyword.
pub(crate) const MAX_NAME: usize = 64;
/// Longest value read: keys are far shorter; a longer run is data, not a key.
pub(crate) const MAX_VALUE: usize = 512;
/// Spaces allowed on either side of the operator.
const MAX_PAD: usize = 8;

/// The words a secret's name ends in, as the scanner looks for them: each in lower, upper and title
/// case (`key`, `KEY`, `Key`), so `OPENAI_API_KEY`, `api_key`, `apiKey` and `SecretAccessKey` all lead
/// here. `pass` stands for `password` and `passwd` too: the name is read whole around it.
pub(crate) const KEYWORDS: &[&str] = &["key", "token", "secret", "pass"];

/// How the name and the value are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Joint {
    /// An operator: `=`, `:`, `:=`, `=>`, or `,` between call arguments.
    Operator,
    /// Whitespace only (`ENV NAME value`, `.netrc`'s `password value`): too loose for the generic rule.
    Whitespace,
}

/// A name and the value assigned to it, as byte ranges of the haystack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub(crate) name: Range<usize>,
    pub(crate) value: Range<usize>,
    pub(crate) joint: Joint,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_pad(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whether a bare value ends at this byte.
fn ends_bare(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\'' | b'`' | b',' | b';' | b')' | b'}' | b']' | b'\\' | b'<' | b'>' | b'&'
        )
}

/// The assignment around the keyword at `keyword` (`len` bytes), if the keyword is part of a name that
/// is assigned a value there.
pub(crate) fn around(haystack: &[u8], keyword: usize, len: usize) -> Option<Assignment> {
    // The name: the run of name bytes holding the keyword, bounded on both sides.
    let mut end = keyword + len;
    while end < haystack.len() && end - keyword < MAX_NAME && is_name_byte(haystack[end]) {
        end += 1;
    }
    if haystack.get(end).is_some_and(|&b| is_name_byte(b)) {
        return None;
    }
    let mut start = keyword;
    while start > 0 && end - start < MAX_NAME && is_name_byte(haystack[start - 1]) {
        start -= 1;
    }
    if start > 0 && is_name_byte(haystack[start - 1]) {
        return None;
    }
    // `--api-key=v` and `- KEY=v`: the name does not start with a dash.
    while start < keyword && haystack[start] == b'-' {
        start += 1;
    }
    // A reference to the name (`$API_KEY`, `${API_KEY}`, `%API_KEY%`) is a use, not an assignment.
    let before = start.checked_sub(1).map(|i| haystack[i]);
    let before2 = start.checked_sub(2).map(|i| haystack[i]);
    if before == Some(b'$')
        || before == Some(b'%')
        || (before == Some(b'{') && before2 == Some(b'$'))
    {
        return None;
    }

    let mut at = end;
    // The name's closing quote (JSON, `os.environ["K"]`), escaped in notebook JSON, and a subscript's `]`.
    let name_quoted =
        if haystack.get(at) == Some(&b'\\') && matches!(haystack.get(at + 1), Some(b'"' | b'\'')) {
            at += 2;
            true
        } else if matches!(haystack.get(at), Some(b'"' | b'\'' | b'`')) {
            at += 1;
            true
        } else {
            false
        };
    if haystack.get(at) == Some(&b']') {
        at += 1;
    }
    let pad_start = at;
    while at < haystack.len() && at - pad_start < MAX_PAD && is_pad(haystack[at]) {
        at += 1;
    }
    let padded = at > pad_start;
    let rest = &haystack[at..];
    let operator = if rest.starts_with(b"==") || rest.starts_with(b"::") {
        return None;
    } else if rest.starts_with(b":=") || rest.starts_with(b"=>") || rest.starts_with(b"?=") {
        2
    } else if matches!(rest.first(), Some(b'=' | b':' | b',')) {
        1
    } else {
        0
    };
    // A comma joins a quoted name to a quoted value (`setdefault("K", "v")`); between other arguments
    // (`check(token, "app.py:2")`) or in prose ("the value of DB_PASSWORD, base64-encoded") it assigns
    // nothing.
    let comma = rest.first() == Some(&b',');
    if comma && !name_quoted {
        return None;
    }
    let joint = if operator > 0 {
        at += operator;
        let pad_start = at;
        while at < haystack.len() && at - pad_start < MAX_PAD && is_pad(haystack[at]) {
            at += 1;
        }
        Joint::Operator
    } else if padded {
        Joint::Whitespace
    } else {
        return None;
    };

    // The value: quoted up to its closing quote, or bare.
    let quoted = matches!(haystack.get(at), Some(b'"' | b'\'' | b'`' | b'\\'));
    if comma && !quoted {
        return None;
    }
    let value = if haystack.get(at) == Some(&b'\\') && matches!(haystack.get(at + 1), Some(b'"')) {
        let from = at + 2;
        let close = find_within(&haystack[from..], b"\\\"")?;
        from..from + close
    } else if let Some(&quote @ (b'"' | b'\'' | b'`')) = haystack.get(at) {
        let from = at + 1;
        let close = haystack[from..haystack.len().min(from + MAX_VALUE + 1)]
            .iter()
            .position(|&b| b == quote || b == b'\n' || b == b'\\')?;
        if haystack[from + close] != quote {
            return None;
        }
        from..from + close
    } else {
        let from = at;
        let mut to = from;
        while to < haystack.len() && to - from <= MAX_VALUE && !ends_bare(haystack[to]) {
            to += 1;
        }
        from..to
    };
    if value.is_empty() || value.len() > MAX_VALUE {
        return None;
    }
    Some(Assignment {
        name: start..end,
        value,
        joint,
    })
}

/// Where `needle` starts within the first [`MAX_VALUE`] bytes of `haystack`, on one line.
fn find_within(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let window = &haystack[..haystack.len().min(MAX_VALUE + needle.len())];
    let at = memchr::memmem::find(window, needle)?;
    (!window[..at].contains(&b'\n')).then_some(at)
}

/// The words of a name, lower-cased: split at `_`, `-`, `.` and where a lower-case letter meets an
/// upper-case one (`secretAccessKey` is `secret`, `access`, `key`).
pub(crate) fn words(name: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous: Option<u8> = None;
    for &b in name {
        if matches!(b, b'_' | b'-' | b'.') {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        } else {
            if b.is_ascii_uppercase()
                && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                && !word.is_empty()
            {
                out.push(std::mem::take(&mut word));
            }
            word.push(b.to_ascii_lowercase() as char);
        }
        previous = Some(b);
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Names whose last word says "secret" but whose values are not: the word before `key` or `token`
/// that makes it a public key, a lookup key, a tokenizer's special token or a page cursor.
const NOT_SECRET_BEFORE_KEY: &[&str] = &[
    "public",
    "publishable",
    "pub",
    "site",
    "cache",
    "sort",
    "partition",
    "primary",
    "foreign",
    "hash",
    "range",
    "object",
    "idempotency",
    "lookup",
    "map",
    "dict",
    "row",
    "column",
    "group",
    "unique",
    "index",
    "s3",
    "bucket",
    "file",
    "path",
    "name",
    "id",
    "host",
    "fingerprint",
    "event",
    "field",
    "message",
    "translation",
    "i18n",
    "query",
    "search",
    "routing",
    "label",
    "metric",
    "config",
    "registry",
    "storage",
    "dedup",
    "shard",
    "composite",
    "natural",
    "surrogate",
    "license",
    "hotkey",
    "ssh",
    "gpg",
    "pgp",
    "signing_public",
    "verify",
    "verification",
    "encryption_public",
];
const NOT_SECRET_BEFORE_TOKEN: &[&str] = &[
    "dedup",
    "next",
    "page",
    "continuation",
    "pagination",
    "cursor",
    "bos",
    "eos",
    "pad",
    "unk",
    "cls",
    "sep",
    "mask",
    "start",
    "end",
    "special",
    "max",
    "num",
    "sync",
    "csrf",
    "xsrf",
    "stop",
    "image",
    "audio",
    "video",
    "vision",
    "sentence",
    "decoder",
    "eot",
    "boi",
    "eoi",
];
/// A name holding one of these words is a stand-in by its own account.
const STAND_IN_WORDS: &[&str] = &["example", "dummy", "fake", "sample", "mock", "placeholder"];

/// Whether the generic rule reads a value under this name: its last word is a secret word, and the
/// word before it does not make it one of the usual non-secrets.
pub(crate) fn is_secret_name(name: &[u8]) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if words.iter().any(|w| STAND_IN_WORDS.contains(&w.as_str())) {
        return false;
    }
    let previous = words.len().checked_sub(2).map(|i| words[i].as_str());
    match last.as_str() {
        "key" | "keys" => previous.is_some_and(|p| !NOT_SECRET_BEFORE_KEY.contains(&p)),
        "token" => previous.is_none_or(|p| !NOT_SECRET_BEFORE_TOKEN.contains(&p)),
        "pass" => previous.is_some(),
        "secret" | "password" | "passwd" | "apikey" | "secretkey" | "accesskey" => true,
        _ => false,
    }
}

/// Whether a value under a secret name is a secret as far as the generic rule can tell: long enough,
/// letters and digits, varied, and not a stand-in, a reference, a path, a URL, a digest or a slug.
pub(crate) fn is_secret_value(value: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(value) else {
        return false;
    };
    if !(12..=200).contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    if !text.bytes().any(|b| b.is_ascii_digit()) || !text.bytes().any(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    const REFERENCES: &[&str] = &[
        "{{",
        "}}",
        "${",
        "$(",
        "os.environ",
        "getenv",
        "process.env",
        "secrets.",
        "env.",
        "env[",
        "vault:",
        "://",
        "sha1:",
        "sha256:",
        "sha384:",
        "sha512:",
        "md5:",
        "arn:aws",
        "(",
    ];
    // A template (`{}`, `{password}`, `%s`; a bare value is cut at the `}`) stands for a value given
    // elsewhere; keys are never made of braces.
    let template = text.contains(['{', '}']) || text.contains("%s");
    // A shell variable inside it (`basic:$USERPASS64`): the secret is elsewhere.
    let variable = text
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_' || w[1] == b'('));
    if template
        || variable
        || REFERENCES.iter().any(|r| lower.contains(r))
        || text.starts_with(['$', '%', '/', '.', '~', '@', '&', '*', '!', '#'])
    {
        return false;
    }
    if crate::providers::placeholder::is_stand_in(text)
        || crate::providers::placeholder::is_placeholder_body(text)
    {
        return false;
    }
    // Code naming another value: `settings.DB_PASSWORD2`, `self.api_key2` (a lower-case first part, then
    // identifiers; a JWT's first part is mixed-case base64).
    let mut dotted = text.split('.');
    let first = dotted.next().unwrap_or_default();
    if text.contains('.')
        && !first.is_empty()
        && first.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        && dotted.all(|p| {
            p.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    {
        return false;
    }
    // A slug: every part all letters or all digits (`my-app-prod-2024`); random keys mix letters and
    // digits within their parts.
    let parts: Vec<&str> = text.split(['-', '_', '.']).collect();
    if parts.iter().all(|p| {
        p.bytes().all(|b| b.is_ascii_alphabetic()) || p.bytes().all(|b| b.is_ascii_digit())
    }) {
        return false;
    }
    let distinct: std::collections::HashSet<u8> = text.bytes().collect();
    distinct.len() >= 8 && crate::util::text::shannon_entropy(text) >= 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, keyword: &str) -> Option<(String, String, Joint)> {
        let at = text.find(keyword).expect("keyword in text");
        around(text.as_bytes(), at, keyword.len())
            .map(|a| (text[a.name].to_string(), text[a.value].to_string(), a.joint))
    }

    #[test]
    fn reads_every_syntax() {
        let v = crate::providers::examples::expand("{alnum:16}");
        let v = v.as_str();
        for (text, keyword, name) in [
            (format!("API_KEY={v}\n"), "KEY", "API_KEY"),
            (format!("export API_KEY=\"{v}\"\n"), "KEY", "API_KEY"),
            (format!("  - API_KEY={v}\n"), "KEY", "API_KEY"),
            (format!("ENV API_KEY={v}\n"), "KEY", "API_KEY"),
            (format!("api_key: {v}\n"), "key", "api_key"),
            (format!("  api_key: '{v}'\n"), "key", "api_key"),
            (format!("{{\"apiKey\": \"{v}\"}}"), "Key", "apiKey"),
            (
                format!("\"os.environ[\\\"API_KEY\\\"] = \\\"{v}\\\"\\n\","),
                "KEY",
                "API_KEY",
            ),
            (format!("api_key = \"{v}\"\n"), "key", "api_key"),
            (
                format!("aws_secret_access_key = {v}\n"),
                "key",
                "aws_secret_access_key",
            ),
            (
                format!("os.environ[\"API_KEY\"] = \"{v}\""),
                "KEY",
                "API_KEY",
            ),
            (
                format!("os.environ.setdefault(\"API_KEY\", \"{v}\")"),
                "KEY",
                "API_KEY",
            ),
            (format!("client(api_key=\"{v}\")"), "key", "api_key"),
            (format!("apiKey := \"{v}\""), "Key", "apiKey"),
            (format!("'api_key' => '{v}',"), "key", "api_key"),
            (format!("--api-key={v}"), "key", "api-key"),
        ] {
            let (got_name, got_value, joint) =
                read(&text, keyword).unwrap_or_else(|| panic!("nothing read in {text:?}"));
            assert_eq!(got_name, name, "{text:?}");
            assert_eq!(got_value, v, "{text:?}");
            assert_eq!(joint, Joint::Operator, "{text:?}");
        }
        let (_, value, joint) = read(&format!("ENV API_KEY {v}\n"), "KEY").unwrap();
        assert_eq!((value.as_str(), joint), (v, Joint::Whitespace));
        let (_, value, joint) = read(&format!("machine h\n  password {v}\n"), "password").unwrap();
        assert_eq!((value.as_str(), joint), (v, Joint::Whitespace));
    }

    #[test]
    fn uses_and_comparisons_are_not_assignments() {
        for (text, keyword) in [
            ("echo $API_KEY", "KEY"),
            ("run --key ${API_KEY}", "KEY"),
            ("if api_key == other:", "key"),
            ("Foo::Key::new()", "Key"),
            ("api_key\n", "key"),
            ("the value of DB_PASSWORD, base64-encoded", "PASSWORD"),
            (
                "assert_blocked(&run, &token, \"app/settings.py:2\")",
                "token",
            ),
            ("api_key = \"unterminated\n\"", "key"),
        ] {
            assert_eq!(read(text, keyword), None, "{text:?}");
        }
    }

    #[test]
    fn secret_names() {
        for name in [
            "API_KEY",
            "apiKey",
            "OPENAI_API_KEY",
            "client_secret",
            "SECRET",
            "DB_PASSWORD",
            "passwd",
            "access_token",
            "HF_TOKEN",
            "token",
            "SecretAccessKey",
            "private_key",
            "DB_PASS",
        ] {
            assert!(is_secret_name(name.as_bytes()), "{name}");
        }
        for name in [
            "key",
            "public_key",
            "cache_key",
            "pad_token",
            "max_tokens",
            "next_page_token",
            "token_type",
            "api_key_id",
            "EXAMPLE_API_KEY",
            "pass",
            "sort_key",
            "DEDUP_TOKEN",
        ] {
            assert!(!is_secret_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn secret_values() {
        for template in ["{alnum:16}", "{url:19}7", "{hex:32}", "{b64:39}9"] {
            let value = crate::providers::examples::expand(template);
            assert!(is_secret_value(value.as_bytes()), "{template}");
        }
        for value in [
            "short1",
            "no-digits-at-all-here",
            "${API_KEY_VALUE1}",
            "your-api-key-here-123",
            "os.environ[\"KEY1\"]",
            "my-app-production-2024",
            "settings.SECRET_KEY1",
            "https://example.com/a1",
            "/etc/secrets/key-file1",
            "sha256:0123456789abcdef0123456789abcdef",
            "xxxxxxxxxxxxxxxx1",
            "<YOUR_API_KEY_123>",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCY{}KEY1",
            "Pw7{password}x9",
            "basic:$USERPASS64",
        ] {
            assert!(!is_secret_value(value.as_bytes()), "{value}");
        }
    }
}
