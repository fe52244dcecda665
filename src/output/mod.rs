//! What a run hands to people: the JSON [`report`], the same facts
//! formatted for reading ([`view`], with the advice and the chart), and the
//! memo [`render`](mod@render)ed from them by tera (Markdown, HTML, text).

mod advice;
mod chart;
pub mod escape;
pub mod html;
pub mod looks;
mod pretty_json;
pub mod render;
pub mod report;
pub mod view;

use serde::Serialize;

pub use render::render;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
/// What a run writes: the Markdown or HTML memo, or the JSON report.
pub enum Format {
    /// The Markdown memo (`--format md`, the default).
    Md,
    /// The HTML memo (`--format html`).
    Html,
    /// The JSON report (`--format json`).
    Json,
}

impl Format {
    /// The file extension of this format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }

    /// The name of this format's memo template (empty for JSON).
    pub(crate) fn template(self) -> &'static str {
        match self {
            Format::Md => "memo.md",
            Format::Html => "memo.html",
            Format::Json => "",
        }
    }
}
