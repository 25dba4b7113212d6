//! Untrusted text (paths, commit messages, author names) is escaped before it reaches a terminal, so a
//! crafted file name cannot move the cursor, recolor the screen or hide a line of the report.

use std::borrow::Cow;

/// Replaces control characters (C0, DEL, C1) with visible escapes such as `\x1b`; tabs become spaces.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '\t' => out.push(' '),
            c if is_unsafe(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Git paths are bytes: show them as UTF-8 where they are, with `\xNN` escapes where they are not.
pub fn path_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || ('\u{80}'..='\u{9f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(for_terminal("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(for_terminal("line\nnext"), "line\\x0anext");
        assert_eq!(for_terminal("plain é"), "plain é");
    }

    #[test]
    fn escapes_invalid_utf8_in_paths() {
        assert_eq!(path_bytes(b"caf\xe9.txt"), "caf\\xe9.txt");
        assert_eq!(path_bytes("ok/é".as_bytes()), "ok/é");
    }
}
