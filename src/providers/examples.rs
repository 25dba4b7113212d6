//! Example tokens as templates, expanded at test time, so that no realistic token sits in the source tree
//! (where it would trip push protection, our own scanner and every other one).
//!
//! A template is literal text with two kinds of holes:
//! - `{class:N}`: N pseudo-random characters of a class: `alpha` (`A-Za-z`), `alnum` (`A-Za-z0-9`, with a
//!   digit every fourth character so it is never letters only), `upper` (`A-Z0-9`), `lower` (`a-z0-9`),
//!   `digits`, `hex` (`0-9a-f`), `b64` (`A-Za-z0-9+/`), `url` (`A-Za-z0-9_-`);
//! - `{text*N}`: `text` repeated N times, for placeholders (`hf_{x*34}`).
//!
//! `{{` is a literal `{` (`${{VAR}` expands to `${VAR}`).
//!
//! Expansion is deterministic (a fixed generator seeded from the template), so failures reproduce.

/// The template expanded with the default seed.
pub fn expand(template: &str) -> String {
    expand_with_seed(template, 0)
}

/// The template expanded with a seed of the caller's choice: different seeds give different tokens of the
/// same shape (for tests that need several distinct ones).
pub fn expand_with_seed(template: &str, seed: u64) -> String {
    try_expand_with_seed(template, seed).unwrap_or_else(|err| panic!("{err}"))
}

/// The longest example a template may expand to: far above any token's length, far below what a repeat
/// count in a hostile `.unleak.toml` could ask for (`{x*9999999999}` once took 7.8 GiB).
pub const MAX_EXPANSION: usize = 4096;

/// [`expand`] for a template from outside the tree (a custom rule in `.unleak.toml`): a malformed hole,
/// an unknown class or an expansion past [`MAX_EXPANSION`] is an error that says which, never a panic.
pub fn try_expand(template: &str) -> Result<String, String> {
    try_expand_with_seed(template, 0)
}

fn try_expand_with_seed(template: &str, seed: u64) -> Result<String, String> {
    let mut rng = SplitMix(fnv1a(template.as_bytes()) ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut out = String::with_capacity(template.len().min(MAX_EXPANSION) * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        if rest[open + 1..].starts_with('{') {
            // `{{` is a literal `{`, as in `format!` (`${{VAR}`, `${{{{ secrets.X }}`).
            out.push('{');
            rest = &rest[open + 2..];
            continue;
        }
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| format!("unclosed hole in template {template:?}"))?;
        expand_hole(&rest[open + 1..close], &mut rng, &mut out, template)?;
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    if out.len() > MAX_EXPANSION {
        return Err(format!(
            "template {template:?} expands past {MAX_EXPANSION} characters"
        ));
    }
    Ok(out)
}

/// A hole's count, bounded by what is left of [`MAX_EXPANSION`] for `unit`-byte items.
fn count_of(text: &str, unit: usize, out: &str, template: &str) -> Result<usize, String> {
    let count: usize = text
        .parse()
        .map_err(|_| format!("bad count {text:?} in template {template:?}"))?;
    let room = MAX_EXPANSION.saturating_sub(out.len()) / unit.max(1);
    if count > room {
        return Err(format!(
            "template {template:?} expands past {MAX_EXPANSION} characters (a count of {count})"
        ));
    }
    Ok(count)
}

fn expand_hole(
    hole: &str,
    rng: &mut SplitMix,
    out: &mut String,
    template: &str,
) -> Result<(), String> {
    if let Some((text, count)) = hole.rsplit_once('*') {
        let count = count_of(count, text.len(), out, template)?;
        out.push_str(&text.repeat(count));
        return Ok(());
    }
    let (class, count) = hole
        .split_once(':')
        .ok_or_else(|| format!("hole {{{hole}}} in {template:?} is neither class:N nor text*N"))?;
    let count = count_of(count, 1, out, template)?;
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const DIGITS: &[u8] = b"0123456789";
    let alphabet: &[u8] = match class {
        "alpha" => LETTERS,
        "alnum" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "upper" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "lower" => b"abcdefghijklmnopqrstuvwxyz0123456789",
        "digits" => DIGITS,
        "hex" => b"0123456789abcdef",
        "b64" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "url" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
        other => return Err(format!("unknown class {other:?} in {template:?}")),
    };
    for i in 0..count {
        let pick = |set: &[u8], rng: &mut SplitMix| set[(rng.next() % set.len() as u64) as usize];
        let byte = match class {
            // A mix for certain: the letters-or-digits rules must be told apart from letters-only ones.
            "alnum" if i % 4 == 1 => pick(DIGITS, rng),
            "alnum" if i % 4 == 2 => pick(LETTERS, rng),
            _ => pick(alphabet, rng),
        };
        out.push(byte as char);
    }
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64: tiny, good enough to make fake tokens look random.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_or_huge_templates_are_errors_not_panics() {
        for (template, why) in [
            ("x{alpha:34", "unclosed"),
            ("x{nothing}", "neither"),
            ("x{alpha:many}", "bad count"),
            ("x{emoji:3}", "unknown class"),
            ("x{y*99999999999}", "expands past"),
            ("x{alpha:18446744073709551615}", "expands past"),
            ("{ab*3000}", "expands past"),
        ] {
            let err = try_expand(template).unwrap_err();
            assert!(err.contains(why), "{template}: {err}");
        }
        assert_eq!(try_expand("a{x*3}b").unwrap(), "axxxb");
    }

    #[test]
    fn expands_classes_and_repeats() {
        let token = expand("hf_{alpha:34}");
        assert_eq!(token.len(), 37);
        assert!(token[3..].bytes().all(|b| b.is_ascii_alphabetic()));
        assert_eq!(expand("a{x*3}b{-*2}"), "axxxb--");
        let mixed = expand("{alnum:8}");
        assert!(mixed.bytes().any(|b| b.is_ascii_digit()));
        assert!(mixed.bytes().any(|b| b.is_ascii_alphabetic()));
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(expand("{alpha:20}"), expand("{alpha:20}"));
        assert_ne!(
            expand_with_seed("{alpha:20}", 1),
            expand_with_seed("{alpha:20}", 2)
        );
    }
}
