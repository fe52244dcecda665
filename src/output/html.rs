//! HTML escaping for the memo: the `code` filter of the HTML template and
//! the text inside the SVG chart.

/// Escapes `text` for HTML and turns its `code` spans into `<code>` elements.
pub fn code_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let parts = text.split('`').count();
    for (i, part) in text.split('`').enumerate() {
        // An unmatched final backtick leaves its text as it is.
        let closed = i % 2 == 1 && i + 1 < parts;
        if closed {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&escape(part));
        }
    }
    out
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_become_code_elements() {
        assert_eq!(
            code_html("Launch `treatment` now"),
            "Launch <code>treatment</code> now"
        );
        assert_eq!(code_html("a `<b>` c"), "a <code>&lt;b&gt;</code> c");
        assert_eq!(code_html("odd ` tick"), "odd ` tick");
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#x27;");
    }
}
