//! The command line: clap definitions, one handler per subcommand, and the
//! rendering of diagnostics. The library never prints; this module does.
//!
//! Exit codes ([`Exit`]): 0 success; 1 the command failed (invalid spec,
//! data or rules, I/O); 2 command-line usage; 3 the command worked and the
//! answer is no (a `--fail-on` verdict, `fmt --check` would change files,
//! `diff --fail-on-change`, failing `xos test` tests).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use xos::check::{self, LoadOptions};
use xos::diagnostic::{self, Diagnostic, Diagnostics};

pub use crate::policy::{diff_command, test_command};
pub use crate::run::{plan_command, run_command, watch_command};
pub use crate::sql::{SqlArgs, sql_command};

/// How a command ended, and so the process's exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command worked, and any question it answers is answered yes.
    Success,
    /// 1: the command failed: an invalid spec, data file or policy, or a
    /// file that cannot be read or written (diagnostics were printed).
    Failed,
    /// 2: the command line itself is wrong (unknown flag, contradictory
    /// options); clap prints the usage.
    Usage,
    /// 3: the command worked and the answer is no: a verdict listed in
    /// `--fail-on`, `fmt --check` would change a file, `diff
    /// --fail-on-change` found a change, an `xos test` test failed.
    No,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::No => 3,
        }
    }
}

/// Exit code when standard output is closed before xos has written
/// everything (`xos diff A B | head`): 141, what a shell shows for a process
/// ended by `SIGPIPE`, the default of other command-line tools (the Rust
/// runtime ignores the signal, and the crate has no unsafe code to restore
/// it).
pub const EXIT_CLOSED_OUTPUT: i32 = 141;

/// Writes to standard output and flushes. A closed pipe ends the process
/// quietly with [`EXIT_CLOSED_OUTPUT`] instead of the panic of `print!`;
/// any other write error ends it with a message and exit code 1.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_fmt(args).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_CLOSED_OUTPUT);
        }
        eprintln!("xos: cannot write to standard output: {error}");
        std::process::exit(i32::from(Exit::Failed.code()));
    }
}

/// `print!` through [`write_stdout`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

/// `println!` through [`write_stdout`].
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};

/// A handler's result: how it ended, or diagnostics to print (exit 1).
pub type CommandResult = Result<Exit, Diagnostics>;

/// Experiment specs in, Launch / Hold / Rollback decisions out.
#[derive(Debug, Parser)]
#[command(
    name = "xos",
    version,
    about,
    propagate_version = true,
    after_help = "Exit codes: 0 success; 1 the command failed (invalid spec, data or rules, I/O); \
                  2 usage; 3 it worked and the answer is no (a --fail-on verdict, fmt --check \
                  would change files, diff --fail-on-change, failing xos test tests); 141 \
                  standard output was closed early (`| head`)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and type-check specs and policy files; exit 1 on any error.
    Check(CheckArgs),
    /// Evaluate an experiment against its data and render the decision memo.
    Run(RunArgs),
    /// Sample size per arm, total and days, from the spec's `plan` block; compared with a declared `duration`.
    Plan(PlanArgs),
    /// Rewrite files in the canonical layout (or list the ones that differ).
    Fmt(FmtArgs),
    /// Show the compiled plan and the ordered decision table, for review.
    Explain(ExplainArgs),
    /// Re-evaluate specs and rewrite their memos whenever an input changes.
    Watch(WatchArgs),
    /// Run the `test` blocks of policy files and specs; exit 3 when a test fails.
    Test(TestArgs),
    /// Compare two policies (or two specs) on every scenario they can tell
    /// apart, and list the decisions that change.
    Diff(DiffArgs),
    /// Serve the experiments of a folder as a live web app and an HTTP API.
    Serve(crate::serve::ServeArgs),
    /// Print the warehouse query whose result is the aggregated CSV the spec
    /// reads (pipe it into `xos run SPEC --data -`).
    Sql(SqlArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// Rendered diagnostics with source snippets.
    Human,
    /// One JSON array of diagnostics on stdout, for editors and CI.
    Json,
}

/// Where the paths a spec names may point (see `docs/limits.md`).
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct PathArgs {
    /// Let the spec's `data` and `policy` paths (and `xos.toml`'s `policy`,
    /// `templates` and `output`) point outside the spec's repository: the
    /// folder of its `xos.toml`, else the spec's own folder.
    #[arg(long)]
    pub allow_outside: bool,
}

impl PathArgs {
    /// The checker's options with this containment and no `--data`.
    pub fn load_options(self) -> LoadOptions {
        LoadOptions {
            data_override: None,
            allow_outside: self.allow_outside,
            folders: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Experiment specs or policy files; a folder means every `.xos` file in it.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    #[command(flatten)]
    pub containment: PathArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerdictArg {
    Launch,
    Hold,
    Rollback,
}

impl From<VerdictArg> for xos::plan::Verdict {
    fn from(verdict: VerdictArg) -> xos::plan::Verdict {
        match verdict {
            VerdictArg::Launch => xos::plan::Verdict::Launch,
            VerdictArg::Hold => xos::plan::Verdict::Hold,
            VerdictArg::Rollback => xos::plan::Verdict::Rollback,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// An experiment spec, or a folder of specs.
    #[arg(value_name = "FILE|DIR")]
    pub path: PathBuf,
    /// Result data to use instead of the spec's `data` file.
    #[arg(long, value_name = "CSV")]
    pub data: Option<PathBuf>,
    /// The memo format [default: the extension of `-o`, else md]. With
    /// several specs on stdout, `json` prints one JSON array and `jsonl` one
    /// report per line.
    #[arg(long, value_enum)]
    pub format: Option<RunFormat>,
    /// Write the memo to this file instead of stdout (its extension picks the
    /// format when `--format` is absent); `-` is stdout.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        conflicts_with = "out"
    )]
    pub output: Option<PathBuf>,
    /// Write one memo per spec into this folder (named after the experiment).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 3 when the verdict is one of these (CI gating).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "VERDICT,...")]
    pub fail_on: Vec<VerdictArg>,
    /// Folder of templates that override the built-in memo templates.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// The memo's date (YYYY-MM-DD, a real calendar date), for reproducible
    /// output.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub date: Option<String>,
    /// fsync every memo before its rename (default: one filesystem sync after
    /// the last memo; see the README's "Durability").
    #[arg(long)]
    pub sync: bool,
    #[command(flatten)]
    pub containment: PathArgs,
}

/// The formats of `xos run`: the memo formats, and JSON Lines for streams of
/// reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    Md,
    Html,
    Json,
    /// One compact JSON report per line.
    Jsonl,
}

/// `--date`: `YYYY-MM-DD` naming a day that exists (2026-02-30 does not).
/// Ten lines of calendar arithmetic instead of a date crate for one check.
fn parse_date(text: &str) -> Result<String, String> {
    let wrong = || format!("`{text}` is not a date: write YYYY-MM-DD, such as 2026-11-28");
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape {
        return Err(wrong());
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| wrong());
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let Some(days) = xos::data::looks::days_in_month(year.into(), month.into()) else {
        return Err(format!(
            "`{text}` has no month {month}: months are 01 to 12"
        ));
    };
    let days = days as u32;
    if day == 0 || day > days {
        return Err(format!(
            "`{text}` is not a day of the calendar: that month has {days} days"
        ));
    }
    Ok(text.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// An experiment spec.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    #[command(flatten)]
    pub containment: PathArgs,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Don't write; list the files that would change and exit 3 if any.
    #[arg(long)]
    pub check: bool,
    /// Specs or policy files; a folder means every `.xos` file in it.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Specs, or folders of specs (new specs in them are picked up).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Write the memos into this folder (default: xos.toml's output folder,
    /// else next to each spec).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The memo format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Milliseconds to wait for a burst of file events to settle.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    pub debounce: u64,
    /// Folder of templates that override the built-in memo templates.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    #[command(flatten)]
    pub containment: PathArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An experiment spec.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Result data to use instead of the spec's `data` file.
    #[arg(long, value_name = "CSV")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub containment: PathArgs,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy files or experiment specs; a folder means every `.xos` file in it.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub containment: PathArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The policy file (or spec) before the change.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The policy file (or spec) after the change.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Exit 3 when any verdict changes (CI gating).
    #[arg(long)]
    pub fail_on_change: bool,
    /// Exit 3 when a verdict changes and no test of NEW pins the change
    /// (a test that decides the new way on NEW and otherwise on OLD).
    #[arg(long, conflicts_with = "fail_on_change")]
    pub fail_on_untested_change: bool,
    #[command(flatten)]
    pub containment: PathArgs,
}

/// Parses the command line (a usage error is exit 2) and runs it.
pub fn main() -> Exit {
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` print to stdout and succeed.
            let usage = error.use_stderr();
            let _ = error.print();
            return if usage { Exit::Usage } else { Exit::Success };
        }
    };
    // `-o -` is standard output, as `--data -` is standard input (never a
    // file named `-`).
    if let Command::Run(args) = &mut cli.command
        && args.output.as_deref() == Some(std::path::Path::new("-"))
    {
        args.output = None;
    }
    let result = match &cli.command {
        Command::Check(args) => return check_command(args),
        Command::Run(args) => run_command(args),
        Command::Plan(args) => plan_command(args),
        Command::Fmt(args) => fmt_command(args),
        Command::Explain(args) => explain_command(args),
        Command::Watch(args) => watch_command(args),
        Command::Test(args) => return test_command(args),
        Command::Diff(args) => diff_command(args),
        Command::Serve(args) => crate::serve::serve_command(args),
        Command::Sql(args) => sql_command(args),
    };
    match result {
        Ok(outcome) => outcome,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, ErrorFormat::Human);
            Exit::Failed
        }
    }
}

/// Prints diagnostics to stderr (human) or stdout (JSON): the first
/// [`diagnostic::MAX_DIAGNOSTICS_PER_FILE`] of each file and a count.
pub fn print_diagnostics(diagnostics: &Diagnostics, format: ErrorFormat) {
    let diagnostics = &diagnostics.capped();
    match format {
        ErrorFormat::Human => {
            let stderr = std::io::stderr();
            let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let width = 100;
            let mut lock = stderr.lock();
            for d in diagnostics.iter() {
                let _ = writeln!(lock, "{}", diagnostic::render(d, color, width));
            }
        }
        ErrorFormat::Json => {
            let json: Vec<_> = diagnostics.iter().map(Diagnostic::to_json).collect();
            let text = serde_json::to_string_pretty(&json).unwrap_or_else(|_| "[]".to_string());
            outln!("{text}");
        }
    }
}

/// The files named, with every `.xos` file under a named folder, sorted.
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = xos::xos_files(path)?;
            if found.is_empty() {
                return Err(Diagnostic::error(
                    "xos::io::no_xos_files",
                    format!("no `.xos` files under `{}`", path.display()),
                )
                .at_path(path)
                .help("name a spec or policy file, or a folder that holds some")
                .into());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn check_command(args: &CheckArgs) -> Exit {
    let options = args.containment.load_options();
    let mut all = Diagnostics::new();
    let files = match expand(&args.files) {
        Ok(files) => files,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics, args.error_format);
            return Exit::Failed;
        }
    };
    let mut experiments = Vec::new();
    for file in &files {
        match xos::check_path(file, &options) {
            Ok(checked) => {
                if let check::CheckedFile::Experiment(experiment) = &checked {
                    experiments.push((experiment.plan.name().to_string(), file.clone()));
                }
                all.extend(checked.warnings().clone());
            }
            Err(diagnostics) => all.extend(diagnostics),
        }
    }
    // Memos are named after experiments: names must be unique across the
    // files checked together.
    all.extend(check::unique_experiments(&experiments));
    print_diagnostics(&all, args.error_format);
    let errors = all.errors().count();
    let warnings = all.warnings().count();
    if args.error_format == ErrorFormat::Human {
        let files = files.len();
        let noun = if files == 1 { "file" } else { "files" };
        eprintln!(
            "checked {files} {noun}: {errors} error{}, {warnings} warning{}",
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        );
    }
    if errors > 0 {
        Exit::Failed
    } else {
        Exit::Success
    }
}

fn fmt_command(args: &FmtArgs) -> CommandResult {
    let mut failed = Diagnostics::new();
    let mut would_change = false;
    for file in &expand(&args.files)? {
        let source = match check::read_source(file) {
            Ok(source) => source,
            Err(d) => {
                failed.extend(d);
                continue;
            }
        };
        let formatted = match xos::syntax::fmt::format_source(&source) {
            Ok(text) => text,
            Err(d) => {
                failed.extend(d);
                continue;
            }
        };
        if formatted == source.text {
            continue;
        }
        if args.check {
            outln!("{}", xos::text::shown_path(file));
            would_change = true;
            continue;
        }
        if let Err(error) = xos::write_atomic(file, formatted.as_bytes()) {
            failed.push(error);
        }
    }
    if !failed.is_empty() {
        return Err(failed);
    }
    Ok(if would_change {
        Exit::No
    } else {
        Exit::Success
    })
}

fn explain_command(args: &ExplainArgs) -> CommandResult {
    let options = LoadOptions {
        data_override: args.data.clone(),
        ..args.containment.load_options()
    };
    let checked = check::load_plan(&args.file, &options)?;
    print_diagnostics(&checked.warnings, ErrorFormat::Human);
    // Names and titles are the spec author's: no escape sequence reaches the terminal.
    out!(
        "{}",
        xos::text::terminal_safe(&xos::explain::explain(&checked.plan))
    );
    Ok(Exit::Success)
}
