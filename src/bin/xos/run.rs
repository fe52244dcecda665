//! `xos run`, `xos plan` and `xos watch`: evaluate specs, print or write
//! their memos.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use xos::diagnostic::{Diagnostic, Diagnostics};
use xos::output::render::{Format, render};
use xos::plan::Verdict;
use xos::sample_size::{NoPlan, planned_sample};
use xos::watch::{WatchEvent, WatchOptions, watch};
use xos::{Durability, RunOptions, find_specs, run_once, sync_filesystem, write_atomic_with};

use crate::cli::{
    CommandResult, ErrorFormat, Outcome, PlanArgs, PlanFormat, ReportFormat, RunArgs, VerdictArg,
    WatchArgs, print_diagnostics,
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

pub fn run_command(args: &RunArgs) -> CommandResult {
    let specs = if args.path.is_dir() {
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
    if specs.len() > 1 && args.output.is_some() {
        return Err(Diagnostic::error(
            "xos::run::one_output",
            "`-o` names one file, but the folder holds several specs",
        )
        .at_path(&args.path)
        .help("use `--out DIR` to write one memo per spec")
        .into());
    }
    let format = format_of(args.format);
    let fail_on: Vec<Verdict> = args.fail_on.iter().copied().map(verdict_of).collect();
    let options = RunOptions {
        data: args.data.clone(),
        date: args.date.clone(),
    };
    let durability = if args.sync {
        Durability::PerFile
    } else {
        Durability::Deferred
    };
    let mut problems = Diagnostics::new();
    let mut gated = false;
    let mut failed = false;
    // The folders memos went to, each synced once at the end.
    let mut folders = BTreeSet::new();
    let stdout = std::io::stdout();
    // Specs are evaluated and rendered on every core; their memos are
    // written or printed here, in the specs' order, as if one by one.
    for_each_in_order(
        &specs,
        |spec| memo_of(spec, &options, args, format),
        |result| {
            let memo = match result {
                Ok(memo) => memo,
                Err(errors) => {
                    problems.extend(errors);
                    failed = true;
                    return;
                }
            };
            problems.extend(memo.warnings);
            let target = match (&args.output, &args.out, &memo.output) {
                (Some(file), _, _) => Some(file.clone()),
                (None, Some(dir), _) => Some(dir.join(&memo.file_name)),
                // A folder of specs with no `--out` goes to xos.toml's output folder.
                (None, None, Some(dir)) if args.path.is_dir() => Some(dir.join(&memo.file_name)),
                _ => None,
            };
            match target {
                Some(path) => {
                    if let Err(error) = write_atomic_with(&path, memo.text.as_bytes(), durability) {
                        problems.push(error);
                        failed = true;
                        return;
                    }
                    folders.insert(match path.parent() {
                        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                        _ => PathBuf::from("."),
                    });
                }
                None => {
                    let _ = stdout.lock().write_all(memo.text.as_bytes());
                }
            }
            gated |= fail_on.contains(&memo.verdict);
        },
    );
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
    Ok(if gated {
        Outcome::Gated
    } else {
        Outcome::Success
    })
}

/// One spec's rendered memo and what the run needs to place it.
struct Memo {
    text: String,
    file_name: String,
    output: Option<PathBuf>,
    verdict: Verdict,
    warnings: Diagnostics,
}

/// Runs one spec and renders its memo (no I/O beyond reading its inputs).
fn memo_of(
    spec: &Path,
    options: &RunOptions,
    args: &RunArgs,
    format: Format,
) -> Result<Memo, Diagnostics> {
    let outcome = run_once(spec, options)?;
    let templates = args
        .templates
        .clone()
        .or_else(|| outcome.plan.templates.clone());
    let text = match render(&outcome.report, format, templates.as_deref()) {
        Ok(text) => text,
        Err(error) => {
            let mut problems = outcome.warnings;
            problems.push(error);
            return Err(problems);
        }
    };
    Ok(Memo {
        text,
        file_name: format!("{}.{}", outcome.plan.name, format.extension()),
        output: outcome.plan.output.clone(),
        verdict: outcome.report.decision.verdict,
        warnings: outcome.warnings,
    })
}

/// Computes `work(item)` for every item on all available cores (a shared
/// counter is the work queue) and hands the results to `consume` on this
/// thread in the items' order, each as soon as it and all before it are done.
fn for_each_in_order<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    mut consume: impl FnMut(R),
) {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        items.iter().for_each(|item| consume(work(item)));
        return;
    }
    let next = AtomicUsize::new(0);
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if sender.send((i, work(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut pending = BTreeMap::new();
        let mut expected = 0;
        for (i, result) in receiver {
            pending.insert(i, result);
            while let Some(result) = pending.remove(&expected) {
                consume(result);
                expected += 1;
            }
        }
    });
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
                "a rate primary needs `baseline` and `mde`, a mean primary `sd` and `mde`; \
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
            let value = serde_json::json!({
                "per_variant": per_variant,
                "total": sample.total,
                "days": sample.days,
                "alpha": sample.alpha,
                "power": sample.power,
                "mde_abs": sample.mde_abs,
            });
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
