//! The records of an in-memory CSV text, as the `csv` crate's reader yields
//! them (`has_headers(false)`, `flexible(true)`, the default quoting), from
//! a `csv_core` reader built once per thread and delimiter and reset
//! between texts.
//!
//! Why not `csv::ReaderBuilder::from_reader` per file: it builds the
//! parser's state machine each time, about 10 µs, 9% of a whole checkout
//! evaluation in `cargo bench --bench pipeline` (perf: `ReaderBuilder::build`),
//! for files of three lines. A built `csv_core::Reader` is reset instead.
//! The records, their fields and their positions (byte, line, record) are
//! the `csv` reader's: the same `csv_core` state machine, fed the same way
//! (`read_byte_record_impl` of csv 1.4); a unit test compares the two on
//! quoted, CRLF, blank-line and ragged inputs.

use std::cell::RefCell;

use csv::{Position, StringRecord};
use csv_core::{ReadRecordResult, Reader};

thread_local! {
    /// This thread's built readers, one per delimiter, reset between texts.
    /// (They are taken and put back rather than copied: `csv_core`'s `Clone`
    /// of a built reader copies only part of its state machine.)
    static READERS: RefCell<Vec<(u8, Reader)>> = const { RefCell::new(Vec::new()) };
}

/// A reader for `delimiter` (the `csv` crate's defaults otherwise) in its
/// start state: this thread's built one if it is free, else a new one.
fn take_reader(delimiter: u8) -> Reader {
    READERS
        .with(|cell| {
            let mut readers = cell.borrow_mut();
            let at = readers.iter().position(|(d, _)| *d == delimiter)?;
            Some(readers.swap_remove(at).1)
        })
        .unwrap_or_else(|| csv_core::ReaderBuilder::new().delimiter(delimiter).build())
}

/// Gives a reader back to this thread, reset to its start state.
fn put_reader(delimiter: u8, mut reader: Reader) {
    reader.reset();
    READERS.with(|cell| {
        let mut readers = cell.borrow_mut();
        if readers.len() < 8 {
            readers.push((delimiter, reader));
        }
    });
}

/// The records of `text` in order, each with its position (the byte where
/// reading it began, the line there, its index). Never fails: `text` is
/// UTF-8 and the delimiter and quotes are ASCII, so every field is UTF-8.
pub struct Records<'a> {
    /// `None` only while being dropped.
    reader: Option<Reader>,
    delimiter: u8,
    input: &'a [u8],
    position: Position,
    done: bool,
    fields: Vec<u8>,
    ends: Vec<usize>,
}

/// The records of `text` split at `delimiter` (see [`Records`]).
pub fn records(text: &str, delimiter: u8) -> Records<'_> {
    let mut position = Position::new();
    position.set_byte(0).set_line(1).set_record(0);
    Records {
        reader: Some(take_reader(delimiter)),
        delimiter,
        input: text.as_bytes(),
        position,
        done: false,
        fields: vec![0; 1024],
        ends: vec![0; 32],
    }
}

impl Iterator for Records<'_> {
    type Item = StringRecord;

    fn next(&mut self) -> Option<StringRecord> {
        if self.done {
            return None;
        }
        let start = self.position.clone();
        let (mut out_len, mut ends_len) = (0, 0);
        let reader = self.reader.as_mut()?;
        loop {
            let (result, read, written, ended) = reader.read_record(
                self.input,
                &mut self.fields[out_len..],
                &mut self.ends[ends_len..],
            );
            self.input = &self.input[read..];
            let byte = self.position.byte() + read as u64;
            self.position.set_byte(byte).set_line(reader.line());
            out_len += written;
            ends_len += ended;
            match result {
                // An empty input tells the reader the text has ended.
                ReadRecordResult::InputEmpty => continue,
                ReadRecordResult::OutputFull => {
                    let len = self.fields.len().max(4) * 2;
                    self.fields.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len().max(4) * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => {
                    let record_index = self.position.record() + 1;
                    self.position.set_record(record_index);
                    let mut record = StringRecord::with_capacity(out_len, ends_len);
                    let mut from = 0;
                    for &to in &self.ends[..ends_len] {
                        record.push_field(&String::from_utf8_lossy(&self.fields[from..to]));
                        from = to;
                    }
                    record.set_position(Some(start));
                    return Some(record);
                }
                ReadRecordResult::End => {
                    self.done = true;
                    return None;
                }
            }
        }
    }
}

impl Drop for Records<'_> {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            put_reader(self.delimiter, reader);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row = (Vec<String>, u64, u64, u64);

    /// Each record's fields and position (byte, line, record).
    fn rows(records: impl Iterator<Item = StringRecord>) -> Vec<Row> {
        records
            .map(|r| {
                let p = r.position().expect("position").clone();
                (
                    r.iter().map(str::to_string).collect(),
                    p.byte(),
                    p.line(),
                    p.record(),
                )
            })
            .collect()
    }

    /// Every record as the `csv` crate reads it.
    fn with_csv(text: &str, delimiter: u8) -> Vec<Row> {
        rows(
            csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(text.as_bytes())
                .records()
                .map(|r| r.expect("UTF-8 text")),
        )
    }

    fn with_records(text: &str, delimiter: u8) -> Vec<Row> {
        rows(records(text, delimiter))
    }

    #[test]
    fn the_same_records_and_positions_as_the_csv_crate() {
        let long = format!("variant,users\n{},1\n", "x".repeat(5000));
        let wide = format!("{}\n1\n", vec!["c"; 300].join(","));
        let texts = [
            "variant,users,conversions\ncontrol,100,10\ntreatment,100,12\n",
            "variant,users\r\ncontrol,100\r\ntreatment,100",
            "\n\nvariant,users\n\n\ncontrol,100\n\n",
            "a,\"b,c\",\"d \"\"q\"\" e\"\n1,2\n3,4,5,6\n",
            "a,\"multi\nline\",c\n\"unclosed,1\n",
            "\u{feff}variant,users\ncontrol,1\n",
            "naïve,ünïcödé\n€,1\n",
            "",
            "\n",
            ",\n,,\n",
            "a;b;c\n1;2;3\n",
            "a\tb\n1\t2\n",
            "trailing,\"quote\"x,y\n",
            long.as_str(),
            wide.as_str(),
        ];
        for text in texts {
            // A reader given back in the middle of a quoted field starts
            // the next text afresh.
            assert_eq!(records("a,\"open\nb,c\n", b',').take(1).count(), 1);
            for delimiter in [b',', b';', b'\t', b'|'] {
                assert_eq!(
                    with_records(text, delimiter),
                    with_csv(text, delimiter),
                    "{text:?} split at {:?}",
                    delimiter as char
                );
            }
        }
    }
}
