//! Pretty JSON, byte for byte the output of `serde_json::to_string_pretty`
//! (two-space indent, `": "` after keys), written faster.
//!
//! serde_json's `PrettyFormatter` writes the indent of every line as one
//! two-byte write per level, and `to_string_pretty` grows its buffer from 128
//! bytes. On the checkout report (10 KB, 400 lines, up to 7 levels deep)
//! that is about 12.5 µs, a tenth of a `POST /api/v1/run` of `xos serve`;
//! writing the newline and the whole indent in one call into a buffer sized
//! for a report takes 10.3 µs (`cargo bench --bench serve`, "report to_json").

use std::io::{self, Write};

use serde::Serialize;

/// The serialised text of `value`, indented by two spaces per level, exactly
/// as `serde_json::to_string_pretty` writes it. Errors are those of the
/// value's `Serialize` implementation (a map with non-string keys).
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(16 * 1024);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Indent::default());
    value.serialize(&mut serializer)?;
    // serde_json writes UTF-8 only: its strings are `str` and escapes ASCII.
    String::from_utf8(out).map_err(|err| serde::ser::Error::custom(err.to_string()))
}

/// serde_json's `PrettyFormatter` with an indent of two spaces, writing each
/// line break and its indent in one call.
#[derive(Default)]
struct Indent {
    level: usize,
    has_value: bool,
}

/// The line break and the indent of the deepest level written in one call;
/// deeper levels (none in a report) are written in several.
const BREAK: &[u8; 65] = b"\n                                                                ";

impl Indent {
    fn line<W: ?Sized + Write>(&self, writer: &mut W) -> io::Result<()> {
        let mut spaces = 2 * self.level;
        let first = spaces.min(BREAK.len() - 1);
        writer.write_all(&BREAK[..1 + first])?;
        spaces -= first;
        while spaces > 0 {
            let chunk = spaces.min(BREAK.len() - 1);
            writer.write_all(&BREAK[1..1 + chunk])?;
            spaces -= chunk;
        }
        Ok(())
    }

    fn item<W: ?Sized + Write>(&self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.line(writer)
    }

    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(writer)?;
        }
        writer.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Indent {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_string_pretty;

    /// Nested and empty arrays and objects, deeper than one indent call, and
    /// strings that need escapes: the same bytes as serde_json's own.
    #[test]
    fn same_bytes_as_serde_json() {
        let mut deep = json!("leaf \"quoted\" \u{e9}\n");
        for level in 0..40 {
            deep = if level % 2 == 0 {
                json!({ "k": deep, "n": level, "x": 0.1 + f64::from(level) })
            } else {
                json!([deep, [], {}, null, true, -1.5e300])
            };
        }
        for value in [
            json!({}),
            json!([]),
            json!(1),
            json!({"a": [1, {"b": []}]}),
            deep,
        ] {
            assert_eq!(
                to_string_pretty(&value).unwrap(),
                serde_json::to_string_pretty(&value).unwrap()
            );
        }
    }
}
