//! `xos run`, `xos plan` and `xos watch`: evaluate specs, print or write
//! their memos.

use crate::cli::{out, outln};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;

use clap::ValueEnum;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use xos::diagnostic::{Diagnostic, Diagnostics};
use xos::output::{Format, render};
use xos::plan::Verdict;
use xos::sample_size::{NoPlan, planned_sample};
use xos::watch::{WatchEvent, WatchOptions, watch};
use xos::{Durability, Links, RunOptions, find_spec_sources, run_source, sync_filesystem};

use crate::cli::{
    CommandResult, ErrorFormat, Exit, PlanArgs, PlanFormat, ReportFormat, RunArgs, RunFormat,
    VerdictArg, WatchArgs, print_diagnostics,
};

fn format_of(format: ReportFormat) -> Format {
    match format {
        ReportFormat::Md => Format::Md,
        ReportFormat::Html => Format::Html,
        ReportFormat::Json => Format::Json,
    }
}

fn verdict_of(verdict: VerdictArg) -> Verdict {
    match verdict {
        VerdictArg::Launch => Verdict::Launch,
        VerdictArg::Hold => Verdict::Hold,
        VerdictArg::Rollback => Verdict::Rollback,
    }
}

/// Exits 2 with clap's usage message: a combination of arguments that has
/// no single meaning.
fn usage_error(message: String) -> ! {
    use clap::CommandFactory;
    // The message may quote a path given on the command line.
    let message = xos::text::terminal_safe(&xos::text::one_line(&message)).into_owned();
    crate::cli::Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

/// The format asked for: `--format`, else the extension of `-o`, else
/// Markdown. A `--format` that contradicts the extension, or an extension
/// that names no format, is a usage error.
fn run_format(args: &RunArgs) -> RunFormat {
    let from_extension = args.output.as_ref().map(|path| {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("md" | "markdown") => Some(RunFormat::Md),
            Some("html" | "htm") => Some(RunFormat::Html),
            Some("json") => Some(RunFormat::Json),
            Some("jsonl") => Some(RunFormat::Jsonl),
            _ => None,
        }
    });
    match (args.format, from_extension) {
        (Some(format), Some(Some(implied))) if format != implied => usage_error(format!(
            "`--format {}` contradicts the extension of `{}`; drop one of them",
            format
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string()),
            args.output
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string()),
        )),
        (Some(format), _) => format,
        (None, Some(Some(implied))) => implied,
        (None, Some(None)) => usage_error(format!(
            "cannot tell the memo format from the name `{}`; add `--format md|html|json|jsonl` \
             or end the name in .md, .html, .json or .jsonl",
            args.output
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string()),
        )),
        (None, None) => RunFormat::Md,
    }
}

/// What `xos run` keeps of one evaluated spec: its decision, its warnings
/// and its memo, staged in its file or held for stdout.
struct Evaluated {
    decided: Decided,
    warnings: Diagnostics,
    /// The rendered memo, or why it could not be rendered.
    memo: Result<Memo, Diagnostic>,
}

/// The experiment's name, its spec and its verdict by its rule.
struct Decided {
    name: String,
    spec_path: PathBuf,
    verdict: Verdict,
    rule: String,
    /// Treatment arms the policy rolls back (a multi-arm launch of another
    /// arm may still roll one back).
    rolled_back: Vec<String>,
}

/// Where a rendered memo goes.
enum Memo {
    /// Written under a temporary name next to `path`, renamed at the end;
    /// or why it could not be written (the run then renames no memo).
    File {
        staged: Result<xos::StagedWrite, Diagnostic>,
        path: PathBuf,
    },
    /// Printed to stdout in the specs' order.
    Stdout(String),
}

/// A memo once delivered: renamed into its file (or why not), or to print.
enum Delivered {
    File(Result<PathBuf, Diagnostic>),
    Stdout(String),
}

pub fn run_command(args: &RunArgs) -> CommandResult {
    let folder = args.path.is_dir();
    // Each spec is read once, with its path.
    let specs = if folder {
        find_spec_sources(&args.path)?
    } else {
        vec![(args.path.clone(), None)]
    };
    if specs.is_empty() {
        return Err(Diagnostic::error(
            "xos::run::no_specs",
            format!("no experiment specs under `{}`", args.path.display()),
        )
        .at_path(&args.path)
        .help("a spec is a `.xos` file that starts with `experiment NAME {`")
        .into());
    }
    let run_format = run_format(args);
    if specs.len() > 1 && args.output.is_some() {
        return Err(Diagnostic::error(
            "xos::run::one_output",
            "`-o` names one file, but the folder holds several specs",
        )
        .at_path(&args.path)
        .help("use `--out DIR` to write one memo per spec")
        .into());
    }
    if specs.len() > 1 && args.data.as_deref().is_some_and(xos::data::input::is_stdin) {
        return Err(Diagnostic::error(
            "xos::run::one_stdin",
            "`--data -` reads standard input once, but the folder holds several specs",
        )
        .at_path(&args.path)
        .help("run each spec on its own: `xos run SPEC --data -`")
        .into());
    }
    if run_format == RunFormat::Jsonl && args.out.is_some() {
        usage_error(
            "`--format jsonl` is a stream of reports for stdout or one file; \
             use `--format json` with `--out DIR`"
                .to_string(),
        );
    }
    if let Some(dir) = &args.templates
        && !dir.is_dir()
    {
        return Err(Diagnostic::error(
            "xos::run::missing_templates",
            format!("templates folder `{}` does not exist", dir.display()),
        )
        .at_path(dir)
        .help("`--templates DIR` names a folder holding `memo.md` and/or `memo.html`")
        .into());
    }
    let format = match run_format {
        RunFormat::Md => Format::Md,
        RunFormat::Html => Format::Html,
        RunFormat::Json | RunFormat::Jsonl => Format::Json,
    };
    let fail_on: Vec<Verdict> = args.fail_on.iter().copied().map(verdict_of).collect();
    let options = RunOptions {
        data: args.data.clone(),
        date: args.date.clone(),
        allow_outside: args.containment.allow_outside,
        // The specs of this run share their folders' look-ups.
        folders: Some(std::sync::Arc::default()),
    };
    let durability = if args.sync {
        Durability::PerFile
    } else {
        Durability::Deferred
    };

    // Every spec is evaluated and rendered on every core, and its memo,
    // when it goes to a file, is written there under a temporary name on
    // the same worker (`stage_atomic`). Nothing is renamed into place until
    // every spec has been evaluated, so a failed spec or a clash of names
    // leaves every memo as it was; what each worker hands back is small (the
    // decision, not the plan and report), so a fleet run's memory does not
    // grow with the number of specs written to files.
    let mut problems = Diagnostics::new();
    let mut failed = false;
    let evaluated = xos::map_owned_on_every_core(specs, |(path, source)| {
        let source = match source {
            Some(source) => source?,
            None => xos::check::read_source(&path)?,
        };
        let outcome = run_source(&source, &options)?;
        let templates = args
            .templates
            .clone()
            .or_else(|| outcome.plan.templates().map(std::path::Path::to_path_buf));
        let memo = if run_format == RunFormat::Jsonl {
            Ok(format!(
                "{}\n",
                xos::output::report::to_json_line(&outcome.report)
            ))
        } else {
            // No escape sequence from a spec's strings reaches a terminal or
            // a Markdown file (JSON escapes them; HTML shows them inert).
            render(&outcome.report, format, templates.as_deref())
                .map(|memo| xos::text::terminal_safe(&memo).into_owned())
        };
        let file_name = format!("{}.{}", outcome.plan.name(), format.extension());
        // `-o FILE` is the user's own file (a symlink there is written
        // through); a memo named by xos in an output folder never is.
        let target = match (&args.output, &args.out, &outcome.plan.output()) {
            (Some(file), _, _) => Some((file.clone(), Links::Follow)),
            (None, Some(dir), _) => Some((dir.join(&file_name), Links::Refuse)),
            // A folder of specs with no `--out` goes to xos.toml's output folder.
            (None, None, Some(dir)) if folder => Some((dir.join(&file_name), Links::Refuse)),
            _ => None,
        };
        let memo = memo.map(|memo| match target {
            Some((path, Links::Follow)) => Memo::File {
                staged: xos::stage_atomic(&path, memo.as_bytes(), durability),
                path,
            },
            Some((path, Links::Refuse)) => Memo::File {
                staged: xos::stage_memo(&path, memo.as_bytes(), durability),
                path,
            },
            None => Memo::Stdout(memo),
        });
        Ok::<_, Diagnostics>(Evaluated {
            decided: Decided {
                name: outcome.plan.name().to_string(),
                spec_path: outcome.plan.spec_path().to_path_buf(),
                verdict: outcome.report.decision.verdict,
                rule: outcome.report.decision.rule.clone(),
                rolled_back: outcome.report.decision.rolled_back.clone(),
            },
            warnings: outcome.warnings,
            memo,
        })
    });
    let mut rendered = Vec::with_capacity(evaluated.len());
    for result in evaluated {
        let item = match result {
            Ok(item) => item,
            Err(errors) => {
                problems.extend(errors);
                failed = true;
                continue;
            }
        };
        problems.extend(item.warnings);
        match item.memo {
            // A memo that could not be staged fails the run before any
            // rename, like a failed spec.
            Ok(Memo::File {
                staged: Err(error), ..
            })
            | Err(error) => {
                problems.push(error);
                failed = true;
            }
            Ok(memo) => rendered.push((item.decided, memo)),
        }
    }
    let to_files: Vec<(String, PathBuf)> = rendered
        .iter()
        .filter(|(_, memo)| matches!(memo, Memo::File { .. }))
        .map(|(decided, _)| (decided.name.clone(), decided.spec_path.clone()))
        .collect();
    let clashes = xos::check::unique_experiments(&to_files);
    if !clashes.is_empty() {
        problems.extend(clashes);
        failed = true;
    }
    if failed {
        // Dropping the staged memos removes their temporaries.
        return Err(problems);
    }
    let to_stdout = rendered
        .iter()
        .filter(|(_, memo)| matches!(memo, Memo::Stdout(_)))
        .count();
    if to_stdout > 1 && run_format == RunFormat::Html {
        usage_error(format!(
            "{to_stdout} HTML memos cannot share stdout as one document; \
             use `--out DIR` to write one file per spec"
        ));
    }

    let json_array = to_stdout > 1 && run_format == RunFormat::Json;
    if json_array {
        out!("[\n");
    }
    let mut first = true;
    let mut gated = false;
    // The folders memos went to, each synced once at the end.
    let mut folders = BTreeSet::new();
    // The staged memos are renamed into place on every core, then reported
    // in the specs' order.
    let delivered = xos::map_owned_on_every_core(rendered, |(item, memo)| {
        let delivered = match memo {
            Memo::File { staged, path } => {
                Delivered::File(staged.and_then(xos::StagedWrite::commit).map(|()| path))
            }
            Memo::Stdout(memo) => Delivered::Stdout(memo),
        };
        (item, delivered)
    });
    // Where each memo went and each `--fail-on` verdict, for stderr in one
    // write at the end rather than one (unbuffered) write per spec.
    let mut lines = String::new();
    for (item, delivered) in delivered {
        match delivered {
            Delivered::File(Err(error)) => {
                problems.push(error);
                failed = true;
                continue;
            }
            Delivered::File(Ok(path)) => {
                folders.insert(xos::parent_folder(&path));
                let _ = writeln!(
                    lines,
                    "{}: {} ({}) · {}",
                    item.name,
                    item.verdict.as_str(),
                    item.rule,
                    xos::text::shown_path(&path)
                );
            }
            Delivered::Stdout(memo) if json_array => {
                if !std::mem::replace(&mut first, false) {
                    out!(",\n");
                }
                out!("{}", memo.trim_end());
            }
            Delivered::Stdout(memo) => {
                out!("{}", memo);
            }
        }
        if fail_on.contains(&item.verdict) {
            gated = true;
            let _ = writeln!(
                lines,
                "xos: `{}` ({}) ended in {}, which `--fail-on` lists",
                item.name,
                xos::text::shown_path(&item.spec_path),
                item.verdict.as_str()
            );
        } else if fail_on.contains(&Verdict::Rollback) && !item.rolled_back.is_empty() {
            // A multi-arm experiment that launches one arm and rolls back
            // another has a rollback in it: the gate must not pass it.
            gated = true;
            let arms: Vec<String> = item.rolled_back.iter().map(|a| format!("`{a}`")).collect();
            let _ = writeln!(
                lines,
                "xos: `{}` ({}) ended in {} but rolls back {}, and `--fail-on` lists rollback",
                item.name,
                xos::text::shown_path(&item.spec_path),
                item.verdict.as_str(),
                arms.join(", ")
            );
        }
    }
    // A closed stderr loses the lines, not the run (`eprint!` would panic).
    let _ = std::io::stderr().write_all(lines.as_bytes());
    if json_array {
        out!("\n]\n");
    }
    if durability == Durability::Deferred {
        for dir in &folders {
            if let Err(error) = sync_filesystem(dir) {
                problems.push(error);
                failed = true;
            }
        }
    }
    if failed {
        return Err(problems);
    }
    print_diagnostics(&problems, ErrorFormat::Human);
    Ok(if gated { Exit::No } else { Exit::Success })
}

/// The spec and the span of the primary metric's declaration, where its
/// planning inputs (`baseline`, `mde`, `sd`) are written.
fn primary_declaration(
    plan: &xos::plan::Plan,
) -> Option<(Arc<xos::diagnostic::SourceFile>, xos::diagnostic::Span)> {
    use xos::syntax::ast::{File, Item};
    let spec = xos::check::read_source(plan.spec_path()).ok()?;
    let File::Experiment(experiment) = xos::syntax::parse::parse(&spec).ok()? else {
        return None;
    };
    let span = experiment.items.iter().find_map(|item| match item {
        Item::Metric(decl) if decl.name.name == plan.primary().name => Some(decl.name.span),
        _ => None,
    })?;
    Some((spec, span))
}

pub fn plan_command(args: &PlanArgs) -> CommandResult {
    let checked = xos::load_plan(&args.file, &args.containment.load_options())?;
    let plan = &checked.plan;
    let sample = planned_sample(plan).map_err(|NoPlan(why)| {
        let mut diagnostics = checked.warnings.clone();
        let diagnostic = Diagnostic::error(
            "xos::plan::no_inputs",
            format!("cannot plan `{}`: {why}", plan.name()),
        );
        diagnostics.push(
            match primary_declaration(plan) {
                Some((spec, span)) => diagnostic.in_file(&spec).label(
                    span,
                    "the primary metric: its planning inputs go in its block",
                ),
                None => diagnostic.at_path(plan.spec_path()),
            }
            .help(
                "a rate primary needs `baseline` and `mde`, a mean primary `sd` and `mde`, a ratio \
                     primary `baseline`, `mean_y`, `sd_x`, `sd_y`, `correlation` and `mde`; \
                     `plan { daily_users N power 80% }` adds the duration",
            ),
        );
        diagnostics
    })?;
    print_diagnostics(&checked.warnings, ErrorFormat::Human);
    let sequential = xos::sample_size::sequential_plan(plan, &sample);
    let duration = xos::sample_size::declared_duration(plan);
    let text = match args.format {
        PlanFormat::Json => {
            // The same object as `POST /api/v1/plan` of `xos serve`.
            let mut value = xos::serve::api::planned_json(&sample);
            if let Some(reduction) = plan.primary().cuped {
                value["cuped"] = serde_json::Value::from(reduction);
            }
            if let Some(sequential) = &sequential {
                value["sequential"] = serde_json::to_value(sequential).unwrap_or_default();
            }
            if let Some(duration) = &duration {
                value["duration"] = serde_json::json!({
                    "days": duration.days,
                    "units": duration.total,
                    "shorter_than_needed": sample.days.is_some_and(|d| duration.days < d as f64),
                });
            }
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        PlanFormat::Text => {
            let fmt = xos::numbers::number;
            let mut out = format!(
                "{}: sample size to detect the primary metric's MDE\n",
                plan.name()
            );
            // A rate's MDE in percentage points and its rates in percent,
            // as the spec and the memo write them.
            let rate = sample.target_rate.is_some();
            let mde = if rate {
                format!("{} pp", xos::numbers::written(sample.mde_abs * 100.0))
            } else {
                fmt(sample.mde_abs)
            };
            out.push_str(&format!(
                "  primary `{}`, MDE {mde} (an absolute {}), alpha {}, power {}%\n",
                plan.primary().name,
                sample.change,
                fmt(sample.alpha),
                // As written, in percent: 99.99999999 % is not 1.
                xos::numbers::written(sample.power * 100.0),
            ));
            if let Some(rate) = sample.target_rate {
                // The rates as written: a tiny `mde` is not "0.12 from 0.12".
                out.push_str(&format!(
                    "  planned to tell {}% from {}%\n",
                    xos::numbers::written(rate * 100.0),
                    xos::numbers::written(plan.primary().baseline.unwrap_or(f64::NAN) * 100.0),
                ));
            }
            if let Some(k) = sample.alpha_divided_by {
                out.push_str(&format!(
                    "  alpha is {} / {k}: the correction's significance level split over {k} treatments\n",
                    fmt(plan.settings().alpha),
                ));
            }
            if let (Some(reduction), Some(covariate)) =
                (plan.primary().cuped, &plan.primary().covariate)
            {
                out.push_str(&format!(
                    "  with CUPED on `{covariate}` removing {}% of the variance ({}% of the units without it)\n",
                    fmt(reduction * 100.0),
                    fmt((1.0 - reduction) * 100.0),
                ));
            }
            for (name, n) in &sample.per_variant {
                let name = xos::text::one_line(name);
                let n = xos::numbers::thousands(*n);
                out.push_str(&format!("  {name:<16} {n:>12} units\n"));
            }
            let total = xos::numbers::thousands(sample.total);
            out.push_str(&format!("  {:<16} {total:>12} units\n", "total"));
            match sample.days {
                Some(days) => out.push_str(&format!(
                    "  {:<16} {:>12} day{}\n",
                    "duration",
                    days,
                    if days == 1 { "" } else { "s" }
                )),
                None => {
                    out.push_str("  duration: add `plan { daily_users N }` to get it in days\n")
                }
            }
            if let Some(sequential) = &sequential {
                out.push_str(&sequential_lines(sequential));
            }
            if let (Some(duration), Some(needed)) = (&duration, sample.days) {
                let days = xos::numbers::days(duration.days);
                let needed_days = xos::numbers::days(needed as f64);
                let verdict = if duration.days < needed as f64 {
                    format!("shorter than the {needed_days} needed: the test is underpowered")
                } else {
                    format!("covers the {needed_days} needed")
                };
                out.push_str(&format!(
                    "  planned duration {days} ({}): {verdict}\n",
                    xos::numbers::units(duration.total)
                ));
            }
            out
        }
    };
    out!("{text}");
    Ok(Exit::Success)
}

pub fn watch_command(args: &WatchArgs) -> CommandResult {
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = Arc::clone(&stop);
    ctrlc::set_handler(move || handler_stop.store(true, Ordering::SeqCst)).map_err(|err| {
        Diagnostic::error("xos::watch::signal", "cannot install the Ctrl-C handler")
            .help(err.to_string())
    })?;
    let options = WatchOptions {
        out: args.out.clone(),
        format: format_of(args.format),
        debounce: Duration::from_millis(args.debounce),
        templates: args.templates.clone(),
        data: None,
        allow_outside: args.containment.allow_outside,
    };
    watch(&args.paths, &options, &stop, |event| {
        outln!("{}", event.status_line());
        match &event {
            WatchEvent::Failed { diagnostics, .. } | WatchEvent::NotWritten { diagnostics, .. } => {
                print_diagnostics(diagnostics, ErrorFormat::Human)
            }
            WatchEvent::Evaluated { warnings, .. } => {
                print_diagnostics(warnings, ErrorFormat::Human)
            }
            _ => {}
        }
    })?;
    Ok(Exit::Success)
}

/// The `xos plan` lines of a spec with `sequential`: what deciding at any
/// look costs in units.
fn sequential_lines(s: &xos::sample_size::SequentialPlan) -> String {
    let mut out = String::new();
    if let (Some(looks), Some(factor), Some(max), Some(expected)) =
        (s.looks, s.inflation, s.max_total, s.expected_total)
    {
        out.push_str(&format!(
            "  group-sequential over {looks} equally spaced looks: inflation factor {}\n",
            xos::numbers::number(factor)
        ));
        out.push_str(&format!(
            "  {:<16} {max:>12} units (set `max_units` to it to keep the power)\n",
            "maximum"
        ));
        out.push_str(&format!(
            "  {:<16} {expected:>12} units (if the effect is the MDE)\n",
            "expected"
        ));
    }
    if let (Some(units), Some(tuning)) = (s.detectable_total, s.tuning) {
        out.push_str(&format!(
            "  always-valid (tuning {tuning}): the MDE is detected with this power at {units} units\n"
        ));
    }
    out
}
