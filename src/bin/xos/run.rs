//! `xos run`, `xos plan` and `xos watch`: evaluate specs, print or write
//! their memos.

use std::io::Write;

use clap::ValueEnum;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use xos::diagnostic::{Diagnostic, Diagnostics};
use xos::output::render::{Format, render};
use xos::plan::Verdict;
use xos::sample_size::{NoPlan, planned_sample};
use xos::watch::{WatchEvent, WatchOptions, watch};
use xos::{RunOptions, find_specs, run_once, write_atomic};

use crate::cli::{
    CommandResult, ErrorFormat, Outcome, PlanArgs, PlanFormat, ReportFormat, RunArgs, RunFormat,
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

/// One evaluated spec with its rendered memo and where it goes.
struct Rendered {
    outcome: xos::Outcome,
    memo: String,
    target: Option<PathBuf>,
}

pub fn run_command(args: &RunArgs) -> CommandResult {
    let folder = args.path.is_dir();
    let specs = if folder {
        find_specs(&args.path)?
    } else {
        vec![args.path.clone()]
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
    };

    // Evaluate and render every spec before writing anything, so that a
    // clash of names is refused before one memo overwrites another.
    let mut problems = Diagnostics::new();
    let mut failed = false;
    let mut rendered = Vec::with_capacity(specs.len());
    for spec in &specs {
        let outcome = match run_once(spec, &options) {
            Ok(outcome) => outcome,
            Err(errors) => {
                problems.extend(errors);
                failed = true;
                continue;
            }
        };
        problems.extend(outcome.warnings.clone());
        let templates = args
            .templates
            .clone()
            .or_else(|| outcome.plan.templates.clone());
        let memo = if run_format == RunFormat::Jsonl {
            Ok(format!(
                "{}\n",
                xos::output::report::to_json_line(&outcome.report)
            ))
        } else {
            render(&outcome.report, format, templates.as_deref())
        };
        let memo = match memo {
            Ok(memo) => memo,
            Err(error) => {
                problems.push(error);
                failed = true;
                continue;
            }
        };
        let file_name = format!("{}.{}", outcome.plan.name, format.extension());
        let target = match (&args.output, &args.out, &outcome.plan.output) {
            (Some(file), _, _) => Some(file.clone()),
            (None, Some(dir), _) => Some(dir.join(&file_name)),
            // A folder of specs with no `--out` goes to xos.toml's output folder.
            (None, None, Some(dir)) if folder => Some(dir.join(&file_name)),
            _ => None,
        };
        rendered.push(Rendered {
            outcome,
            memo,
            target,
        });
    }
    let to_files: Vec<(String, PathBuf)> = rendered
        .iter()
        .filter(|r| r.target.is_some())
        .map(|r| {
            (
                r.outcome.plan.name.clone(),
                r.outcome.plan.spec_path.clone(),
            )
        })
        .collect();
    let clashes = xos::check::unique_experiments(&to_files);
    if !clashes.is_empty() {
        problems.extend(clashes);
        failed = true;
    }
    if failed {
        return Err(problems);
    }
    let to_stdout = rendered.iter().filter(|r| r.target.is_none()).count();
    if to_stdout > 1 && run_format == RunFormat::Html {
        usage_error(format!(
            "{to_stdout} HTML memos cannot share stdout as one document; \
             use `--out DIR` to write one file per spec"
        ));
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let json_array = to_stdout > 1 && run_format == RunFormat::Json;
    if json_array {
        let _ = out.write_all(b"[\n");
    }
    let mut first = true;
    let mut gated = false;
    for item in &rendered {
        let report = &item.outcome.report;
        match &item.target {
            Some(path) => {
                if let Err(error) = write_atomic(path, item.memo.as_bytes()) {
                    problems.push(error);
                    failed = true;
                    continue;
                }
                eprintln!(
                    "{}: {} ({}) · {}",
                    report.experiment,
                    report.decision.verdict.as_str(),
                    report.decision.rule,
                    path.display()
                );
            }
            None if json_array => {
                if !std::mem::replace(&mut first, false) {
                    let _ = out.write_all(b",\n");
                }
                let _ = out.write_all(item.memo.trim_end().as_bytes());
            }
            None => {
                let _ = out.write_all(item.memo.as_bytes());
            }
        }
        if fail_on.contains(&report.decision.verdict) {
            gated = true;
            eprintln!(
                "xos: `{}` ({}) ended in {}, which `--fail-on` lists",
                report.experiment,
                item.outcome.plan.spec_path.display(),
                report.decision.verdict.as_str()
            );
        }
    }
    if json_array {
        let _ = out.write_all(b"\n]\n");
    }
    drop(out);
    if failed {
        return Err(problems);
    }
    print_diagnostics(&problems, ErrorFormat::Human);
    Ok(if gated {
        Outcome::Gated
    } else {
        Outcome::Success
    })
}

pub fn plan_command(args: &PlanArgs) -> CommandResult {
    let checked = xos::load_plan(&args.file, &xos::LoadOptions::default())?;
    let plan = &checked.plan;
    let sample = planned_sample(plan).map_err(|NoPlan(why)| {
        let mut diagnostics = checked.warnings.clone();
        diagnostics.push(
            Diagnostic::error(
                "xos::plan::no_inputs",
                format!("cannot plan `{}`: {why}", plan.name),
            )
            .at_path(&plan.spec_path)
            .help(
                "a rate primary needs `baseline` and `mde`, a mean primary `sd` and `mde`, a ratio \
                     primary `baseline`, `mean_y`, `sd_x`, `sd_y`, `correlation` and `mde`; \
                     `plan { daily_users N power 80% }` adds the duration",
            ),
        );
        diagnostics
    })?;
    print_diagnostics(&checked.warnings, ErrorFormat::Human);
    let text = match args.format {
        PlanFormat::Json => {
            let per_variant: serde_json::Map<String, serde_json::Value> = sample
                .per_variant
                .iter()
                .map(|(name, n)| (name.clone(), serde_json::Value::from(*n)))
                .collect();
            let mut value = serde_json::json!({
                "per_variant": per_variant,
                "total": sample.total,
                "days": sample.days,
                "alpha": sample.alpha,
                "power": sample.power,
                "mde_abs": sample.mde_abs,
            });
            if let Some(reduction) = plan.primary().cuped {
                value["cuped"] = serde_json::Value::from(reduction);
            }
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        PlanFormat::Text => {
            let fmt = xos::numbers::number;
            let mut out = format!(
                "{}: sample size to detect the primary metric's MDE\n",
                plan.name
            );
            out.push_str(&format!(
                "  primary `{}`, MDE {} (absolute), alpha {}, power {}\n",
                plan.primary().name,
                fmt(sample.mde_abs),
                fmt(sample.alpha),
                fmt(sample.power),
            ));
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
                out.push_str(&format!("  {name:<16} {n:>12} units\n"));
            }
            out.push_str(&format!("  {:<16} {:>12} units\n", "total", sample.total));
            match sample.days {
                Some(days) => out.push_str(&format!("  {:<16} {:>12} days\n", "duration", days)),
                None => {
                    out.push_str("  duration: add `plan { daily_users N }` to get it in days\n")
                }
            }
            out
        }
    };
    print!("{text}");
    Ok(Outcome::Success)
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
    };
    watch(&args.paths, &options, &stop, |event| {
        println!("{}", event.status_line());
        match &event {
            WatchEvent::Failed { diagnostics, .. } => {
                print_diagnostics(diagnostics, ErrorFormat::Human)
            }
            WatchEvent::Evaluated { warnings, .. } => {
                print_diagnostics(warnings, ErrorFormat::Human)
            }
            _ => {}
        }
        let _ = std::io::stdout().flush();
    })?;
    Ok(Outcome::Success)
}
