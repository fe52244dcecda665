//! Text ↔ syntax tree: the pest grammar (`grammar/xos.pest`) and its glue
//! in [`parse`], a hand-written recursive-descent [`fast`] path that reads
//! valid files without pest, the tree in [`ast`], and the formatter in
//! [`fmt`] (the tree back to canonical text). Nothing here knows what a
//! name means; that is [`crate::check`].

pub mod ast;
pub mod fast;
pub mod fmt;
pub mod parse;

/// A condition as written, on one line: comments dropped and whitespace
/// collapsed.
pub fn condition_text(raw: &str) -> String {
    let mut text = String::new();
    for line in raw.lines() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        for word in code.split_whitespace() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(word);
        }
    }
    text
}
