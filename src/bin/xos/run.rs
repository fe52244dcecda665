//! `xos run`, `xos plan` and `xos watch`: evaluate specs, print or write
//! their memos.

use std::io::Write;
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
    let mut problems = Diagnostics::new();
    let mut gated = false;
    let mut failed = false;
    let stdout = std::io::stdout();
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
        let memo = match render(&outcome.report, format, templates.as_deref()) {
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
            (None, None, Some(dir)) if args.path.is_dir() => Some(dir.join(&file_name)),
            _ => None,
        };
        match target {
            Some(path) => {
                if let Err(error) = write_atomic(&path, memo.as_bytes()) {
                    problems.push(error);
                    failed = true;
                    continue;
                }
            }
            None => {
                let _ = stdout.lock().write_all(memo.as_bytes());
            }
        }
        gated |= fail_on.contains(&outcome.report.decision.verdict);
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
