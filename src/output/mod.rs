//! What a run hands to people: the JSON [`report`] and the memo
//! [`render`]ed from it (Markdown, HTML, text).

pub mod render;
pub mod report;
