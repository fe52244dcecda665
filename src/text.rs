//! User text on its way out: column alignment that stays total for names of
//! any length, and text made safe for a terminal.
//!
//! A spec is written by people, but a hostile or broken one can hold a name
//! of a million characters or an ANSI escape sequence in its title. The
//! helpers here are what every printer of such text (the formatter, the
//! explanation, the diagnostics, the terminal memo) goes through, so that no
//! input makes them panic or take over the terminal.

/// The widest column that names are aligned to. Rust's `{:width$}` panics
/// past 65,535; and aligning ten short names to one of 70,000 characters
/// helps nobody. A name longer than this is printed whole, unaligned.
pub const MAX_ALIGN: usize = 80;

use std::borrow::Cow;

/// `1 field`, `3 fields`: a count with its noun, plural unless it is 1
/// (`noun` may be several words, `more error`; only the last gets the `s`).
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The column width that aligns `lengths` (byte lengths of names, as the
/// formatter measures them), capped at [`MAX_ALIGN`]: always a valid
/// `{:width$}` argument.
pub fn align_width(lengths: impl IntoIterator<Item = usize>) -> usize {
    lengths.into_iter().max().unwrap_or(0).min(MAX_ALIGN)
}

/// `text` with every control character that a terminal would act on
/// replaced by `U+FFFD`: C0 controls except newline and tab, DEL, and C1
/// controls (ESC starts ANSI sequences that recolour, move the cursor or
/// rewrite the window title; CSI `U+009B` does the same in one character).
/// Returns the input unchanged, without copying, when there is nothing to
/// replace.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    replace_controls(text, |_| "\u{FFFD}")
}

/// [`terminal_safe`] that keeps every byte offset: each control character
/// becomes as many `?` as it has bytes, so spans into the text still hold
/// (for the source excerpts of diagnostics).
///
/// Unicode direction controls (U+202A–U+202E, U+2066–U+2069, three bytes
/// each) become `???` too: a source excerpt that quotes the one the parser
/// refuses (`xos::parse::direction_control`) must not reverse the line it
/// shows.
pub fn terminal_safe_in_place(text: &str) -> Cow<'_, str> {
    let safe = replace_controls(text, |c| if c.len_utf8() == 1 { "?" } else { "??" });
    replace_direction_controls(safe, |_| "???".to_string())
}

/// `text` with each [`is_direction_control`] character replaced by `by`;
/// `text` itself when it holds none.
fn replace_direction_controls(text: Cow<'_, str>, by: impl Fn(char) -> String) -> Cow<'_, str> {
    if !text.chars().any(is_direction_control) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_direction_control(c) {
            out.push_str(&by(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A Unicode bidirectional override or isolate: U+202A–U+202E,
/// U+2066–U+2069.
pub fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn replace_controls(text: &str, by: impl Fn(char) -> &'static str) -> Cow<'_, str> {
    if !has_terminal_control(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_terminal_control(c) {
            out.push_str(by(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A character a terminal interprets rather than shows (newline and tab
/// excepted, which the printed text itself uses).
fn is_terminal_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Whether the UTF-8 `bytes` hold a character [`is_terminal_control`] picks,
/// read byte by byte instead of decoding characters: the controls are the C0
/// bytes, DEL (`0x7F`) and C1 (`U+0080`–`U+009F`, encoded `C2 80`–`C2 9F`).
/// Every memo `xos run` prints or writes goes through this scan (12 KB for a
/// JSON memo), which took 3–4% of a 1,000-spec run's CPU decoding
/// characters: blocks of 64 bytes are first screened with a branch-free test
/// (which the compiler vectorises), and only a block holding a control byte
/// or a `C2` lead byte is read exactly.
fn has_terminal_control(bytes: &[u8]) -> bool {
    // C0 but newline and tab, or DEL: a control in one byte.
    let control = |b: u8| ((b < 0x20) & (b != b'\n') & (b != b'\t')) | (b == 0x7F);
    let suspect = |b: u8| control(b) | (b == 0xC2);
    let exact = |i: usize| {
        let b = bytes[i];
        control(b) || (b == 0xC2 && bytes.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n)))
    };
    (0..bytes.len()).step_by(64).any(|start| {
        let end = (start + 64).min(bytes.len());
        bytes[start..end]
            .iter()
            .fold(false, |any, &b| any | suspect(b))
            && (start..end).any(exact)
    })
}

/// `text` on one line: line breaks written as `\n` / `\r`, for a name (a
/// quoted variant label may hold one) printed where a line break would
/// start a new line of the terminal output.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.contains(['\n', '\r']) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace('\n', "\\n").replace('\r', "\\r"))
}

/// [`terminal_safe`], with Unicode direction controls (U+202A–E,
/// U+2066–9) also written as escapes (`\u{202e}`): for short texts printed
/// on a terminal, file names and diagnostics, where a right-to-left
/// override made "invalid, 1 error" display reversed ("LAUNCH, valid").
/// Memos are not passed through it: the spec refuses direction controls
/// (`xos::parse::direction_control`), and its byte screen stays cheap.
pub fn inert(text: &str) -> Cow<'_, str> {
    replace_direction_controls(terminal_safe(text), |c| c.escape_unicode().to_string())
}

/// A path as xos prints it on a terminal: [`one_line`], then [`inert`], so
/// that a file name holding an escape sequence (a new window title, a
/// colour), a bell, a line break (a fake status line) or a direction
/// control is shown inert. Every path printed on standard output or
/// standard error goes through this; JSON output keeps the path itself
/// (JSON escapes it).
pub fn shown_path(path: &std::path::Path) -> String {
    shown_line(&path.display().to_string())
}

/// A short text (a path's name, a file watcher's message) as one inert
/// line: [`one_line`], then [`inert`].
pub fn shown_line(text: &str) -> String {
    inert(&one_line(text)).into_owned()
}

/// Longest piece of a data file (or of a file that does not parse as what
/// it was named for) that a message quotes, in characters: the offending
/// token, never a line of `/etc/passwd` or an environment of
/// `/proc/self/environ`.
pub const MAX_TOKEN_CHARS: usize = 40;

/// `text` as a short, inert quotation: at most [`MAX_TOKEN_CHARS`]
/// characters (then `…`), line breaks and other control characters written
/// as escapes (`\n`, `\0`, `\u{1b}`), so a quoted cell can neither span
/// lines nor act on a terminal.
pub fn token(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_TOKEN_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `message` with every `` `quoted` `` part made a [`token`]: the parser's
/// "found `…`" about a file that is not xos quotes no more of it than that.
pub fn short_quotes(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                token(part)
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(counted(1, "field"), "1 field");
        assert_eq!(counted(0, "field"), "0 fields");
        assert_eq!(counted(8, "more error"), "8 more errors");
    }

    #[test]
    fn alignment_is_capped() {
        assert_eq!(align_width([3, 9, 4]), 9);
        assert_eq!(align_width([3, 70_000]), MAX_ALIGN);
        assert_eq!(align_width([]), 0);
        // The capped width is a valid format width whatever the name.
        let long = "a".repeat(70_000);
        assert_eq!(
            format!("{:w$}|", long, w = align_width([long.len()])).len(),
            70_001
        );
    }

    #[test]
    fn the_byte_scan_finds_exactly_the_control_characters() {
        // Every character alone and between neighbours that share its bytes.
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            // The padded form puts a two-byte character across the scan's
            // 64-byte blocks.
            let padded = format!("{}{c}", "a".repeat(63));
            for text in [
                c.to_string(),
                format!("\u{C2}{c}\u{C2}"),
                format!("a{c}b"),
                padded,
            ] {
                assert_eq!(
                    has_terminal_control(text.as_bytes()),
                    text.chars().any(is_terminal_control),
                    "{:?}",
                    text
                );
            }
        }
    }

    #[test]
    fn terminal_controls_are_replaced() {
        assert_eq!(terminal_safe("a\tb\nc"), "a\tb\nc");
        assert_eq!(
            terminal_safe("x\x1b[31mred\x1b]0;t\x07"),
            "x\u{FFFD}[31mred\u{FFFD}]0;t\u{FFFD}"
        );
        assert_eq!(
            terminal_safe("\u{9b}2J\r\x7f"),
            "\u{FFFD}2J\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn tokens_are_short_and_inert() {
        assert_eq!(token("abc"), "abc");
        assert_eq!(token("a\0b\nc\x1b[2J"), "a\\0b\\nc\\u{1b}[2J");
        let long = "x".repeat(100);
        assert_eq!(token(&long).chars().count(), MAX_TOKEN_CHARS + 1);
        assert_eq!(
            short_quotes(&format!("found `{long}`, expected `x`")),
            format!("found `{}…`, expected `x`", "x".repeat(MAX_TOKEN_CHARS))
        );
    }
}
