//! The bounds that keep xos's time and memory finite whatever its input, and
//! the one way files are opened for reading.
//!
//! Every limit is listed with its default and the setting that changes it
//! in `docs/limits.md`. A setting is an environment variable read when the
//! limit is first needed (`XOS_MAX_SOURCE_BYTES=50000000 xos check …`); an
//! unparsable value is ignored in favour of the default.
//!
//! Files are opened by [`open_regular`]: anything but a regular file (a
//! FIFO that would block forever, `/dev/zero` that never ends, a directory,
//! a socket) is refused before a byte is read.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Largest spec, policy or `xos.toml`, in bytes (10 MiB); setting
/// `XOS_MAX_SOURCE_BYTES`.
pub const MAX_SOURCE_BYTES: u64 = 10 << 20;

/// Largest aggregated CSV (one row per variant), in bytes after
/// decompression (64 MiB); setting `XOS_MAX_AGGREGATED_BYTES`.
pub const MAX_AGGREGATED_BYTES: u64 = 64 << 20;

/// Most data rows in an aggregated CSV (10,000); setting
/// `XOS_MAX_AGGREGATED_ROWS`. Per-unit data belongs in `shape rows`, which
/// streams.
pub const MAX_AGGREGATED_ROWS: u64 = 10_000;

/// Longest line of a row-level CSV, in bytes (1 MiB); setting
/// `XOS_MAX_LINE_BYTES`. The row-level reader keeps whole lines in memory.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

/// Most rows of a row-level CSV whose `unit_id` is checked (25,000,000):
/// the check keeps a 24-byte sighting per row, 600 MB at the bound; setting
/// `XOS_MAX_UNIT_ID_ROWS`.
pub const MAX_UNIT_ID_ROWS: u64 = 25_000_000;

/// Largest decompressed size of a gzip data file, in bytes (64 GiB); setting
/// `XOS_MAX_INFLATED_BYTES`.
pub const MAX_INFLATED_BYTES: u64 = 64 << 30;

/// Largest ratio of decompressed to compressed size of a gzip data file
/// once past 64 MiB (1,000; real CSVs compress 5 to 20 times, a
/// "zip bomb" millions of times); setting `XOS_MAX_INFLATION_RATIO`.
pub const MAX_INFLATION_RATIO: u64 = 1_000;

/// A limit's value: its environment variable if set to a positive whole
/// number, else `default`.
pub fn limit(variable: &str, default: u64) -> u64 {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse::<u64>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

/// [`MAX_SOURCE_BYTES`] or its setting.
pub fn max_source_bytes() -> u64 {
    limit("XOS_MAX_SOURCE_BYTES", MAX_SOURCE_BYTES)
}

/// [`MAX_AGGREGATED_BYTES`] or its setting.
pub fn max_aggregated_bytes() -> u64 {
    limit("XOS_MAX_AGGREGATED_BYTES", MAX_AGGREGATED_BYTES)
}

/// [`MAX_AGGREGATED_ROWS`] or its setting.
pub fn max_aggregated_rows() -> u64 {
    limit("XOS_MAX_AGGREGATED_ROWS", MAX_AGGREGATED_ROWS)
}

/// [`MAX_UNIT_ID_ROWS`] or its setting.
pub fn max_unit_id_rows() -> u64 {
    limit("XOS_MAX_UNIT_ID_ROWS", MAX_UNIT_ID_ROWS)
}

/// [`MAX_LINE_BYTES`] or its setting.
pub fn max_line_bytes() -> u64 {
    limit("XOS_MAX_LINE_BYTES", MAX_LINE_BYTES)
}

/// The most bytes a gzip file of `compressed` bytes may inflate to:
/// [`MAX_INFLATED_BYTES`], and [`MAX_INFLATION_RATIO`] times its size once
/// past 64 MiB.
pub fn max_inflated_bytes(compressed: u64) -> u64 {
    let ratio = limit("XOS_MAX_INFLATION_RATIO", MAX_INFLATION_RATIO);
    let by_ratio = compressed.saturating_mul(ratio).max(64 << 20);
    limit("XOS_MAX_INFLATED_BYTES", MAX_INFLATED_BYTES).min(by_ratio)
}

/// Opens `path` for reading if it is a regular file (symlinks followed).
/// The open does not block on a FIFO without a writer (`O_NONBLOCK`), and
/// the type is checked on the opened file, so a swap between check and
/// open cannot slip a device in.
///
/// # Errors
/// The OS error, or `InvalidInput` naming the kind of file (`a FIFO`,
/// `a directory`, `a device`, `a socket`) for anything but a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    open_regular_sized(path).map(|(file, _)| file)
}

/// [`open_regular`], and the file's size in bytes from the same `fstat`.
///
/// # Errors
/// As [`open_regular`].
pub fn open_regular_sized(path: &Path) -> io::Result<(File, u64)> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    let metadata = file.metadata()?;
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok((file, metadata.len()));
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{what}, not a regular file: xos reads regular files (data may also come from \
             standard input, as `-`)"
        ),
    ))
}

/// Reads at most `max` bytes of `reader`.
///
/// # Errors
/// The OS error, or `FileTooLarge` when there is more than `max`.
pub fn read_bounded(reader: impl Read, max: u64) -> io::Result<Vec<u8>> {
    read_bounded_sized(reader, max, 0)
}

/// [`read_bounded`] of a reader expected to hold `size` bytes (a file's
/// size from `fstat`; it may have changed since): the buffer is allocated
/// once at `size + 1`, so a file that did not change is read in two `read`
/// calls (its bytes, then the end) instead of std's growing probes (five
/// for a 900-byte spec).
///
/// # Errors
/// As [`read_bounded`].
pub fn read_bounded_sized(reader: impl Read, max: u64, size: u64) -> io::Result<Vec<u8>> {
    let hint = size.min(max).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(bytes)
}

/// The error of a file over a size limit.
pub fn too_large(max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("larger than xos's limit of {} (docs/limits.md)", bytes(max)),
    )
}

/// Reads a whole regular file of at most `max` bytes.
///
/// # Errors
/// As [`open_regular`] and [`read_bounded`].
pub fn read_file(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let (file, size) = open_regular_sized(path)?;
    if size > max {
        return Err(too_large(max));
    }
    read_bounded_sized(file, max, size)
}

/// A reader that fails with `FileTooLarge` once more than `max` bytes came
/// through: a gzip stream of unknown decompressed size, read as it streams.
pub struct Bounded<R> {
    inner: R,
    left: u64,
    max: u64,
}

impl<R: Read> Bounded<R> {
    /// `inner`, failing once more than `max` bytes in all have been read.
    pub fn new(inner: R, max: u64) -> Bounded<R> {
        Bounded {
            inner,
            left: max,
            max,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(too_large(self.max));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The error of a line over [`MAX_LINE_BYTES`]: the byte offset where the
/// line starts, for the reader to turn into a line number.
#[derive(Debug)]
pub struct LineTooLong {
    /// Byte offset of the line's start in the (decompressed) file.
    pub offset: u64,
    /// The limit the line exceeded, in bytes.
    pub max: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a line is longer than xos's limit of {} (docs/limits.md)",
            bytes(self.max)
        )
    }
}

impl std::error::Error for LineTooLong {}

/// The 1-based line that byte `offset` of `reader` is on, counting at most
/// `offset` bytes.
///
/// # Errors
/// The read error.
pub fn line_at(reader: impl Read, offset: u64) -> io::Result<u64> {
    let mut reader = io::BufReader::new(reader.take(offset));
    let mut newlines = 0u64;
    loop {
        let buf = io::BufRead::fill_buf(&mut reader)?;
        if buf.is_empty() {
            return Ok(newlines + 1);
        }
        newlines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        let n = buf.len();
        io::BufRead::consume(&mut reader, n);
    }
}

/// A size as people read it: `10 MiB`, `1,000 bytes`.
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_open() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        std::fs::write(&file, "x").unwrap();
        assert!(open_regular(&file).is_ok());
        let err = open_regular(dir.path()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        let err = open_regular(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        // Returns at once: no writer, no block.
        let err = open_regular(&fifo).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
    }

    #[test]
    fn reads_are_bounded() {
        assert_eq!(read_bounded(&b"abc"[..], 3).unwrap(), b"abc");
        let err = read_bounded(&b"abcd"[..], 3).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("3 bytes"), "{err}");
        assert_eq!(bytes(10 << 20), "10 MiB");
        let mut out = Vec::new();
        let err = Bounded::new(&[7u8; 100][..], 99)
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(line_at(&b"a\nb\nccc"[..], 5).unwrap(), 3);
        assert_eq!(line_at(&b"a\nb\nccc"[..], 0).unwrap(), 1);
        assert_eq!(max_inflated_bytes(10 << 10), 64 << 20);
        assert_eq!(max_inflated_bytes(1 << 20), 1_000 << 20);
        assert_eq!(max_inflated_bytes(1 << 30), 64 << 30);
    }
}
