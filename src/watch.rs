//! `xos watch`: re-evaluate specs when their inputs change.
//!
//! The watcher follows exactly the inputs of each spec's last evaluation —
//! the spec, its policy file, its data, `xos.toml`, user templates — by their
//! parent folders, so an editor's save-by-rename is seen; folders given on the
//! command line are watched recursively so new specs are picked up and deleted
//! ones dropped. Events are debounced; editor temp files and the memos the
//! watcher writes itself are ignored. An invalid or missing input never stops
//! the watcher and never replaces the last good memo: it is reported, and the
//! next good evaluation recovers. Two specs declaring one experiment name
//! (one memo file) are refused with the check of `xos run DIR`, neither
//! memo written, until one is renamed or deleted.
//!
//! The library never prints: every evaluation is reported to a callback as a
//! [`WatchEvent`], and the binary prints the status lines.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify_debouncer_full::{DebounceEventResult, new_debouncer, notify::RecursiveMode};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::output::{Format, render};
use crate::plan::Verdict;
use crate::{Durability, RunOptions, find_specs, run_once, stage_memo};

/// Options of `xos watch`.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// Folder for the memos; default: `xos.toml`'s output folder, else next
    /// to each spec.
    pub out: Option<PathBuf>,
    /// The memo format written on every evaluation (`--format`).
    pub format: Format,
    /// How long the inputs must be quiet before a re-evaluation (`--debounce`).
    pub debounce: Duration,
    /// A templates folder that overrides every spec's (`--templates`).
    pub templates: Option<PathBuf>,
    /// Replaces every spec's data file (`--data`).
    pub data: Option<PathBuf>,
    /// Lets the specs' paths point outside their repository (`--allow-outside`).
    pub allow_outside: bool,
}

/// What the watcher reports, one per evaluation.
#[derive(Debug)]
pub enum WatchEvent {
    /// The spec was evaluated and its memo written.
    Evaluated {
        /// Time of day, UTC, `HH:MM:SS`.
        time: String,
        /// The spec's path.
        spec: PathBuf,
        /// The experiment's name.
        experiment: String,
        /// The overall verdict.
        verdict: Verdict,
        /// The rule that decided (`otherwise` for the fallback).
        rule: String,
        /// The previous good evaluation's verdict and rule.
        previous: Option<(Verdict, String)>,
        /// Where the memo was written.
        memo: PathBuf,
        /// Warnings of the spec and its policy.
        warnings: Diagnostics,
    },
    /// The spec, its policy or its data is invalid (or missing); no memo
    /// was written, and the last one written is left as it is.
    Failed {
        /// Time of day, UTC, `HH:MM:SS`.
        time: String,
        /// The spec's path.
        spec: PathBuf,
        /// Every problem found, errors and warnings.
        diagnostics: Diagnostics,
        /// The last memo this watcher wrote for the spec, when it is still
        /// there.
        kept: Option<PathBuf>,
    },
    /// The spec was evaluated, but its memo could not be written (the
    /// output folder is a file, the disk is full).
    NotWritten {
        /// Time of day, UTC, `HH:MM:SS`.
        time: String,
        /// The spec's path.
        spec: PathBuf,
        /// The experiment's name.
        experiment: String,
        /// The overall verdict.
        verdict: Verdict,
        /// The rule that decided (`otherwise` for the fallback).
        rule: String,
        /// Where the memo was to be written.
        memo: PathBuf,
        /// Why it could not be written.
        diagnostics: Diagnostics,
    },
    /// A spec named on the command line was deleted; it stays watched and
    /// is evaluated again when it is written back.
    Missing {
        /// Time of day, UTC, `HH:MM:SS`.
        time: String,
        /// The spec's path.
        spec: PathBuf,
        /// The last memo this watcher wrote for the spec, when it is still
        /// there.
        kept: Option<PathBuf>,
    },
    /// The folders given hold no spec yet; new ones are picked up.
    NoSpecs {
        /// Time of day, UTC, `HH:MM:SS`.
        time: String,
        /// The folders watched.
        folders: Vec<PathBuf>,
    },
    /// The spec was deleted and is no longer watched.
    Removed {
        /// Time of day, UTC, `HH:MM:SS`.
        time: String,
        /// The deleted spec's path.
        spec: PathBuf,
    },
    /// The file watcher itself reported a problem; watching goes on.
    WatchError {
        /// Time of day, UTC, `HH:MM:SS`.
        time: String,
        /// The watcher's error.
        message: String,
    },
}

impl WatchEvent {
    /// The one-line status: `12:00:01 checkout_redesign: hold → launch (clear_win)`.
    /// Paths are shown inert ([`crate::text::shown_path`]): a file name
    /// cannot act on the terminal or start a line of its own.
    pub fn status_line(&self) -> String {
        match self {
            WatchEvent::Evaluated {
                time,
                experiment,
                verdict,
                rule,
                previous,
                memo,
                ..
            } => {
                let change = match previous {
                    Some((before, _)) if before != verdict => {
                        format!("{} → {} ({rule})", before.as_str(), verdict.as_str())
                    }
                    Some((_, before_rule)) if before_rule != rule => {
                        format!("{} ({before_rule} → {rule})", verdict.as_str())
                    }
                    Some(_) => format!("{} ({rule}), unchanged", verdict.as_str()),
                    None => format!("{} ({rule})", verdict.as_str()),
                };
                format!(
                    "{time} {experiment}: {change} · {}",
                    crate::text::shown_path(memo)
                )
            }
            WatchEvent::Failed {
                time,
                spec,
                diagnostics,
                kept,
            } => {
                let errors = diagnostics.errors().count();
                format!(
                    "{time} {}: invalid, {}; {}",
                    crate::text::shown_path(spec),
                    crate::text::counted(errors, "error"),
                    kept_memo(kept.as_deref())
                )
            }
            WatchEvent::NotWritten {
                time,
                experiment,
                verdict,
                rule,
                memo,
                diagnostics,
                ..
            } => format!(
                "{time} {experiment}: {} ({rule}), but the memo could not be written ({}) · {}",
                verdict.as_str(),
                crate::text::counted(diagnostics.errors().count(), "error"),
                crate::text::shown_path(memo)
            ),
            WatchEvent::Missing { time, spec, kept } => format!(
                "{time} {}: deleted, watched until it is written again; {}",
                crate::text::shown_path(spec),
                kept_memo(kept.as_deref())
            ),
            WatchEvent::NoSpecs { time, folders } => {
                let folders: Vec<String> = folders
                    .iter()
                    .map(|f| format!("`{}`", crate::text::shown_path(f)))
                    .collect();
                format!(
                    "{time} no experiment specs under {} yet; watching for new ones",
                    folders.join(", ")
                )
            }
            WatchEvent::Removed { time, spec } => {
                format!(
                    "{time} {}: deleted, no longer watched",
                    crate::text::shown_path(spec)
                )
            }
            WatchEvent::WatchError { time, message } => {
                format!("{time} watch error: {}", crate::text::shown_line(message))
            }
        }
    }
}

/// The end of a status line about a spec that wrote no memo: whether the
/// last one this watcher wrote is still there.
fn kept_memo(kept: Option<&Path>) -> String {
    match kept {
        Some(memo) => format!("keeping the last memo · {}", crate::text::shown_path(memo)),
        None => "no memo written".to_string(),
    }
}

/// The last good evaluation of a spec: its verdict, its rule and where its
/// memo went.
struct Last {
    verdict: Verdict,
    rule: String,
    memo: PathBuf,
}

/// The state of one watched spec.
#[derive(Default)]
struct SpecState {
    /// Normalised paths of the inputs of the last evaluation, and where
    /// those that are symlinks lead.
    inputs: BTreeSet<PathBuf>,
    /// The canonical folder the spec was found in by walking, which a
    /// symlinked spec may not lead out of ([`crate::xos_files`]); `None`
    /// for a spec named on the command line.
    root: Option<PathBuf>,
}

impl SpecState {
    /// A spec found by walking the canonical folder `root`.
    fn found_in(root: &Path) -> SpecState {
        SpecState {
            inputs: BTreeSet::new(),
            root: Some(root.to_path_buf()),
        }
    }
}

/// What [`follow`] reports to its owner: a batch of evaluations about to
/// start, one evaluation, a deleted spec, a problem of the file watcher, or
/// the end of the first pass.
#[derive(Debug)]
pub enum SpecChange {
    /// These specs are about to be evaluated (the first pass, or the specs
    /// a change touched), each with the experiment name it declares now
    /// ([`crate::check::declared_name`]; `None` when it does not parse, or
    /// is a symlink leading out of its folder, which is never read): every
    /// name is known before the first result of the batch is reported.
    Evaluating {
        /// The specs, [`normalize`]d, and their declared names.
        specs: Vec<(PathBuf, Option<String>)>,
    },
    /// `spec` was evaluated by [`run_once`] (after a change of one of its
    /// inputs, or in the first pass).
    Evaluated {
        /// The spec's path, [`normalize`]d.
        spec: PathBuf,
        /// The evaluation, or every problem that stopped it.
        result: Box<Result<crate::Outcome, Diagnostics>>,
    },
    /// The spec was deleted and is no longer watched.
    Removed {
        /// The deleted spec's path, [`normalize`]d.
        spec: PathBuf,
    },
    /// The file watcher itself reported a problem; watching goes on.
    WatchError {
        /// The watcher's error.
        message: String,
    },
    /// Every spec found at the start has been evaluated once.
    Ready,
}

/// What [`follow`] watches and how.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// How long the inputs must be quiet before a re-evaluation.
    pub debounce: Duration,
    /// Replaces every spec's data file (`--data`).
    pub data: Option<PathBuf>,
    /// A templates folder whose memo files count as inputs.
    pub templates: Option<PathBuf>,
    /// Lets the specs' paths point outside their repository.
    pub allow_outside: bool,
    /// Reads the experiment name every spec of a batch declares before the
    /// batch is evaluated, and reports them ([`SpecChange::Evaluating`]),
    /// for an owner that compares names across specs (`xos watch`, whose
    /// memos are named after them); `xos serve` keys specs by path and
    /// needs no second read of each spec.
    pub declared_names: bool,
}

/// Watches `paths` (specs or folders of specs) until `stop` is set.
pub fn watch(
    paths: &[PathBuf],
    options: &WatchOptions,
    stop: &AtomicBool,
    mut report: impl FnMut(WatchEvent),
) -> Result<(), Diagnostic> {
    let follow_options = FollowOptions {
        debounce: options.debounce,
        data: options.data.clone(),
        templates: options.templates.clone(),
        allow_outside: options.allow_outside,
        declared_names: true,
    };
    let mut memos = Memos::default();
    let mut evaluated = 0_usize;
    follow(paths, &follow_options, stop, |change| match change {
        SpecChange::Evaluating { specs } => {
            for (spec, name) in specs {
                // A result of this batch replaces what was held.
                memos.held.remove(&spec);
                // Until the spec is evaluated, its memo's folder as far as
                // known without its `xos.toml` (`--out`, or its own folder).
                match name {
                    Some(name) => {
                        let dir = memo_dir(&spec, options, None);
                        memos.claims.insert(spec, (name, dir))
                    }
                    None => memos.claims.remove(&spec),
                };
            }
            memos.release(options, &mut report)
        }
        SpecChange::Evaluated { spec, result } => {
            evaluated += 1;
            memos.evaluated(&spec, *result, options, &mut report)
        }
        SpecChange::Removed { spec } => {
            memos.last.remove(&spec);
            memos.claims.remove(&spec);
            memos.held.remove(&spec);
            report(WatchEvent::Removed { time: now(), spec });
            // The name it declared may be unique again.
            memos.release(options, &mut report)
        }
        SpecChange::WatchError { message } => {
            report(WatchEvent::WatchError {
                time: now(),
                message,
            });
            Vec::new()
        }
        SpecChange::Ready => {
            if evaluated == 0 {
                report(WatchEvent::NoSpecs {
                    time: now(),
                    folders: paths.iter().filter(|p| p.is_dir()).cloned().collect(),
                });
            }
            Vec::new()
        }
    })
}

/// What the watcher keeps between evaluations to write memos: the last
/// good evaluation of each spec, the experiment name each declares, and the
/// evaluations held back because another spec declares the same name.
#[derive(Default)]
struct Memos {
    last: BTreeMap<PathBuf, Last>,
    /// The experiment name each spec declares and the folder its memo goes
    /// to: two specs clash only when both match, their memos one file
    /// (without `--out`, memos go next to their specs, and one name in two
    /// folders is two memos).
    claims: BTreeMap<PathBuf, (String, PathBuf)>,
    /// Good evaluations whose memo would clash with another spec's: written
    /// once the name is theirs alone (the other renamed or deleted).
    held: BTreeMap<PathBuf, crate::Outcome>,
}

impl Memos {
    /// `xos::check::duplicate_experiment` for `spec`, declaring `name`, when
    /// another watched spec declares it too: the check of `xos run DIR` and
    /// `xos check DIR`, naming the first such spec in path order.
    fn clash(&self, spec: &Path, name: &str) -> Option<Diagnostics> {
        let dir = self.claims.get(spec).map(|(_, dir)| dir);
        let other = self
            .claims
            .iter()
            .find(|(other, (other_name, other_dir))| {
                other.as_path() != spec && other_name.as_str() == name && Some(other_dir) == dir
            })
            .map(|(other, _)| other.clone())?;
        Some(crate::check::unique_experiments(&[
            (name.to_string(), other),
            (name.to_string(), spec.to_path_buf()),
        ]))
    }

    /// Reports one evaluation and writes its memo, unless its name clashes;
    /// returns the memo written.
    fn evaluated(
        &mut self,
        spec: &Path,
        result: Result<crate::Outcome, Diagnostics>,
        options: &WatchOptions,
        report: &mut impl FnMut(WatchEvent),
    ) -> Vec<PathBuf> {
        match result {
            Ok(outcome) => {
                self.claims.insert(
                    spec.to_path_buf(),
                    (
                        outcome.plan.name.clone(),
                        memo_dir(spec, options, outcome.plan.output.as_deref()),
                    ),
                );
                if let Some(clash) = self.clash(spec, &outcome.plan.name) {
                    // Neither memo is written while two specs claim it: the
                    // last good one stays, whichever spec finished first.
                    let mut diagnostics = outcome.warnings.clone();
                    diagnostics.extend(clash);
                    report(failed(spec, diagnostics, &self.last));
                    self.held.insert(spec.to_path_buf(), outcome);
                    return Vec::new();
                }
                self.deliver(spec, outcome, options, report)
            }
            // A named spec that was deleted is watched until it is back.
            Err(_) if std::fs::symlink_metadata(spec).is_err() => {
                report(WatchEvent::Missing {
                    time: now(),
                    kept: kept(spec, &self.last),
                    spec: spec.to_path_buf(),
                });
                Vec::new()
            }
            Err(mut diagnostics) => {
                if let Some(clash) = self
                    .claims
                    .get(spec)
                    .and_then(|(name, _)| self.clash(spec, name))
                {
                    diagnostics.extend(clash);
                }
                report(failed(spec, diagnostics, &self.last));
                Vec::new()
            }
        }
    }

    /// Writes the memos held back for a clash that is gone; returns them.
    fn release(
        &mut self,
        options: &WatchOptions,
        report: &mut impl FnMut(WatchEvent),
    ) -> Vec<PathBuf> {
        let free: Vec<PathBuf> = self
            .held
            .iter()
            .filter(|(spec, outcome)| self.clash(spec, &outcome.plan.name).is_none())
            .map(|(spec, _)| spec.clone())
            .collect();
        let mut written = Vec::new();
        for spec in free {
            if let Some(outcome) = self.held.remove(&spec) {
                written.extend(self.deliver(&spec, outcome, options, report));
            }
        }
        written
    }

    /// [`write_memo`], a panic in it reported like a bad spec.
    fn deliver(
        &mut self,
        spec: &Path,
        outcome: crate::Outcome,
        options: &WatchOptions,
        report: &mut impl FnMut(WatchEvent),
    ) -> Vec<PathBuf> {
        let last = &mut self.last;
        match crate::diagnostic::catch_panic(|| write_memo(spec, outcome, options, last, report)) {
            Ok(written) => written.into_iter().collect(),
            Err(bug) => {
                report(failed(spec, bug.at_path(spec).into(), &self.last));
                Vec::new()
            }
        }
    }
}

/// The last memo written for `spec`, when it is still there.
fn kept(spec: &Path, last: &BTreeMap<PathBuf, Last>) -> Option<PathBuf> {
    last.get(spec)
        .map(|last| last.memo.clone())
        .filter(|memo| std::fs::symlink_metadata(memo).is_ok())
}

/// [`WatchEvent::Failed`] for `spec`, now.
fn failed(spec: &Path, diagnostics: Diagnostics, last: &BTreeMap<PathBuf, Last>) -> WatchEvent {
    WatchEvent::Failed {
        time: now(),
        spec: spec.to_path_buf(),
        diagnostics,
        kept: kept(spec, last),
    }
}

/// The folder `spec`'s memo is written to: `--out`, else the `output` of
/// its `xos.toml` (known once it is evaluated), else the spec's own folder.
fn memo_dir(spec: &Path, options: &WatchOptions, output: Option<&Path>) -> PathBuf {
    options
        .out
        .clone()
        .or_else(|| output.map(Path::to_path_buf))
        .unwrap_or_else(|| {
            spec.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        })
}

/// Renders and writes the memo of an evaluated spec; returns the memo's
/// path, which the watcher then ignores.
fn write_memo(
    spec: &Path,
    outcome: crate::Outcome,
    options: &WatchOptions,
    last: &mut BTreeMap<PathBuf, Last>,
    report: &mut impl FnMut(WatchEvent),
) -> Option<PathBuf> {
    let templates = options
        .templates
        .clone()
        .or_else(|| outcome.plan.templates.clone());
    let memo = match render(&outcome.report, options.format, templates.as_deref()) {
        Ok(memo) => crate::text::terminal_safe(&memo).into_owned(),
        Err(error) => {
            report(failed(spec, error.into(), last));
            return None;
        }
    };
    let dir = memo_dir(spec, options, outcome.plan.output.as_deref());
    let path = dir.join(format!(
        "{}.{}",
        outcome.plan.name,
        options.format.extension()
    ));
    let decision = &outcome.report.decision;
    if let Err(error) =
        stage_memo(&path, memo.as_bytes(), Durability::PerFile).and_then(crate::StagedWrite::commit)
    {
        // The spec is fine; the memo is what failed.
        report(WatchEvent::NotWritten {
            time: now(),
            spec: spec.to_path_buf(),
            experiment: outcome.plan.name.clone(),
            verdict: decision.verdict,
            rule: decision.rule.clone(),
            memo: path.clone(),
            diagnostics: error.into(),
        });
        return Some(path);
    }
    let previous = last
        .insert(
            spec.to_path_buf(),
            Last {
                verdict: decision.verdict,
                rule: decision.rule.clone(),
                memo: path.clone(),
            },
        )
        .map(|last| (last.verdict, last.rule));
    let mut warnings = outcome.warnings;
    // Once per spec: watching a single-look spec invites peeking.
    if previous.is_none()
        && let Some(note) = crate::inference::watch_note(&outcome.plan)
    {
        warnings.push(note);
    }
    report(WatchEvent::Evaluated {
        time: now(),
        spec: spec.to_path_buf(),
        experiment: outcome.plan.name.clone(),
        verdict: decision.verdict,
        rule: decision.rule.clone(),
        previous,
        memo: path.clone(),
        warnings,
    });
    Some(path)
}

/// The watch loop behind `xos watch` and `xos serve`: evaluates every spec
/// under `paths` with [`run_once`], then re-evaluates a spec whenever one
/// of its inputs changes, and hands each result to `on_change` until `stop`
/// is set. `on_change` returns the files it wrote (memos), which are then
/// not taken for input changes.
pub fn follow(
    paths: &[PathBuf],
    options: &FollowOptions,
    stop: &AtomicBool,
    mut on_change: impl FnMut(SpecChange) -> Vec<PathBuf>,
) -> Result<(), Diagnostic> {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(options.debounce, None, tx).map_err(|err| {
        Diagnostic::error("xos::watch::start", "cannot start the file watcher")
            .help(err.to_string())
    })?;

    // Folders given on the command line are watched recursively, for new specs.
    let mut roots = Vec::new();
    let mut specs: BTreeMap<PathBuf, SpecState> = BTreeMap::new();
    // Specs named on the command line: watched even while deleted, so a
    // spec that is deleted and written again is evaluated again.
    let mut named: BTreeSet<PathBuf> = BTreeSet::new();
    for path in paths {
        let path = normalize(path);
        // A folder is watched, and its specs keyed, by its real path: the
        // paths of events under it start with that.
        let path = if path.is_dir() {
            path.canonicalize().unwrap_or(path)
        } else {
            path
        };
        if path.is_dir() {
            debouncer
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|err| {
                    Diagnostic::error(
                        "xos::watch::folder",
                        format!("cannot watch `{}`", path.display()),
                    )
                    .at_path(&path)
                    .help(err.to_string())
                })?;
            for spec in find_specs(&path)? {
                specs.insert(normalize(&spec), SpecState::found_in(&path));
            }
            roots.push(path);
        } else if path.exists() {
            named.insert(path.clone());
            specs.insert(path, SpecState::default());
        } else {
            return Err(Diagnostic::error(
                "xos::watch::missing",
                format!("`{}` does not exist", path.display()),
            )
            .at_path(&path));
        }
    }

    let mut outputs: HashSet<PathBuf> = HashSet::new();
    let mut watched: BTreeSet<PathBuf> = BTreeSet::new();
    let all: Vec<PathBuf> = specs.keys().cloned().collect();
    // The specs' folders are watched before the first evaluation reports,
    // so a change right after the first status line is seen.
    sync_watches(&mut debouncer, &specs, &roots, &mut watched);
    evaluate_specs(&all, &mut specs, options, &mut outputs, &mut on_change);
    sync_watches(&mut debouncer, &specs, &roots, &mut watched);
    outputs.extend(on_change(SpecChange::Ready).iter().map(|p| normalize(p)));

    while !stop.load(Ordering::SeqCst) {
        let batch = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(batch) => batch,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let events = match batch {
            Ok(events) => events,
            Err(errors) => {
                for error in errors {
                    on_change(SpecChange::WatchError {
                        message: error.to_string(),
                    });
                }
                continue;
            }
        };
        let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
        for event in &events {
            for path in &event.paths {
                if is_relevant(&event.kind, path, &outputs) {
                    changed.insert(normalize(path));
                }
            }
        }
        if changed.is_empty() {
            continue;
        }
        let mut dirty: BTreeSet<PathBuf> = BTreeSet::new();
        for path in &changed {
            let is_spec_file = path.extension().is_some_and(|e| e == "xos");
            if specs.contains_key(path) {
                if path.exists() || named.contains(path) {
                    // A named spec that is gone fails to read (reported,
                    // the last memo kept) and stays watched.
                    dirty.insert(path.clone());
                } else {
                    specs.remove(path);
                    let written = on_change(SpecChange::Removed { spec: path.clone() });
                    outputs.extend(written.iter().map(|p| normalize(p)));
                }
            } else if let Some(root) = roots.iter().find(|root| path.starts_with(root)) {
                if is_spec_file && path.is_file() && crate::is_experiment(path) {
                    // A symlink leading out of the root is evaluated as a
                    // failure (`evaluate`), never read.
                    specs.insert(path.clone(), SpecState::found_in(root));
                    dirty.insert(path.clone());
                } else if path.is_dir() {
                    // A new folder: specs written into it before the
                    // recursive watch reached it sent no event of their own.
                    let found = match crate::outside_link(path, root) {
                        Some(target) => Err(crate::walk_outside(root, path, &target)),
                        None => find_specs(path),
                    };
                    match found {
                        Ok(found) => {
                            for spec in found {
                                let spec = normalize(&spec);
                                if !specs.contains_key(&spec) {
                                    specs.insert(spec.clone(), SpecState::found_in(root));
                                    dirty.insert(spec);
                                }
                            }
                        }
                        Err(error) => {
                            on_change(SpecChange::WatchError {
                                message: error.message,
                            });
                        }
                    }
                }
            }
            for (spec, state) in &specs {
                // A folder that appeared may hold an input that was missing.
                if state.inputs.contains(path)
                    || state.inputs.iter().any(|input| input.starts_with(path))
                {
                    dirty.insert(spec.clone());
                }
            }
        }
        let dirty: Vec<PathBuf> = dirty.into_iter().collect();
        evaluate_specs(&dirty, &mut specs, options, &mut outputs, &mut on_change);
        sync_watches(&mut debouncer, &specs, &roots, &mut watched);
    }
    Ok(())
}

/// Evaluates `dirty` on every core, and hands each result to `on_change`
/// (on this thread) as soon as it is ready: one slow spec (a large data
/// file) does not hold back the memos of the others.
fn evaluate_specs(
    dirty: &[PathBuf],
    specs: &mut BTreeMap<PathBuf, SpecState>,
    options: &FollowOptions,
    outputs: &mut HashSet<PathBuf>,
    on_change: &mut impl FnMut(SpecChange) -> Vec<PathBuf>,
) {
    if dirty.is_empty() {
        return;
    }
    let workers = std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .min(dirty.len());
    let roots: Vec<Option<PathBuf>> = dirty
        .iter()
        .map(|spec| specs.get(spec).and_then(|state| state.root.clone()))
        .collect();
    // The names first, on every core: the owner compares them across specs
    // before any result of the batch arrives (a spec linked in from outside
    // its folder is not read).
    if options.declared_names {
        let named: Vec<(&PathBuf, &Option<PathBuf>)> = dirty.iter().zip(&roots).collect();
        let names = crate::map_on_every_core(&named, |(spec, root)| {
            let outside = root
                .as_deref()
                .is_some_and(|root| crate::outside_link(spec, root).is_some());
            if outside {
                None
            } else {
                crate::check::declared_name(spec)
            }
        });
        let written = on_change(SpecChange::Evaluating {
            specs: dirty.iter().cloned().zip(names).collect(),
        });
        outputs.extend(written.iter().map(|p| normalize(p)));
    }
    if workers <= 1 {
        for (spec, root) in dirty.iter().zip(&roots) {
            let result = evaluate(spec, root.as_deref(), options);
            record(spec, result, specs, options, outputs, on_change);
        }
        return;
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        for _ in 0..workers {
            let (tx, next, roots) = (tx.clone(), &next, &roots);
            scope.spawn(move || {
                loop {
                    let at = next.fetch_add(1, Ordering::SeqCst);
                    let (Some(spec), Some(root)) = (dirty.get(at), roots.get(at)) else {
                        break;
                    };
                    if tx
                        .send((spec, evaluate(spec, root.as_deref(), options)))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (spec, result) in rx {
            record(spec, result, specs, options, outputs, on_change);
        }
    });
}

/// One evaluation; a panic in it is reported as a bug in this spec's
/// evaluation (with the bug's location), never the end of the watcher. A
/// spec found under `root` that is a symlink leading out of it is refused
/// unread, as the walk refuses it.
fn evaluate(
    spec: &Path,
    root: Option<&Path>,
    options: &FollowOptions,
) -> Result<crate::Outcome, Diagnostics> {
    if let Some(root) = root
        && let Some(target) = crate::outside_link(spec, root)
    {
        return Err(crate::walk_outside(root, spec, &target).into());
    }
    let run_options = RunOptions {
        data: options.data.clone(),
        date: None,
        allow_outside: options.allow_outside,
        folders: None,
    };
    crate::diagnostic::catch_panic(|| run_once(spec, &run_options))
        .unwrap_or_else(|bug| Err(bug.at_path(spec).into()))
}

/// Records what an evaluation read, so a change of it is seen, and hands
/// the result to `on_change`.
fn record(
    spec: &Path,
    result: Result<crate::Outcome, Diagnostics>,
    specs: &mut BTreeMap<PathBuf, SpecState>,
    options: &FollowOptions,
    outputs: &mut HashSet<PathBuf>,
    on_change: &mut impl FnMut(SpecChange) -> Vec<PathBuf>,
) {
    let Some(state) = specs.get_mut(spec) else {
        return;
    };
    match &result {
        Ok(outcome) => {
            state.inputs = outcome.inputs().iter().map(|p| normalize(p)).collect();
            // Where symlinked inputs lead: a change there is a change too.
            let targets: Vec<PathBuf> = outcome
                .inputs()
                .iter()
                .filter_map(|p| p.canonicalize().ok())
                .collect();
            state.inputs.extend(targets);
            if let Some(templates) = options
                .templates
                .as_ref()
                .or(outcome.plan.templates.as_ref())
            {
                state.inputs.insert(normalize(&templates.join("memo.md")));
                state.inputs.insert(normalize(&templates.join("memo.html")));
            }
        }
        Err(diagnostics) => {
            // Keep watching what the spec read last time, and the files the
            // diagnostics name (a missing data file, a broken policy), so a
            // fix is seen.
            state.inputs.insert(spec.to_path_buf());
            if let Ok(target) = spec.canonicalize() {
                state.inputs.insert(target);
            }
            for diagnostic in diagnostics.iter() {
                if let Some(source) = &diagnostic.source {
                    state.inputs.insert(normalize(&source.path));
                }
                if let Some(path) = &diagnostic.path {
                    state.inputs.insert(normalize(path));
                }
            }
        }
    }
    // An `xos.toml` written where the spec would find it changes its
    // configuration (or breaks it), whichever way the evaluation went. The
    // spec's path is normalised, so its folders are real paths already.
    state
        .inputs
        .extend(crate::check::config::config_candidates(spec));
    let written = on_change(SpecChange::Evaluated {
        spec: spec.to_path_buf(),
        result: Box::new(result),
    });
    outputs.extend(written.iter().map(|p| normalize(p)));
}

/// Watches the parent folder of every input, and stops watching folders no
/// input needs any more. Folders that do not exist yet are retried later.
fn sync_watches(
    debouncer: &mut notify_debouncer_full::Debouncer<
        notify::RecommendedWatcher,
        notify_debouncer_full::RecommendedCache,
    >,
    specs: &BTreeMap<PathBuf, SpecState>,
    roots: &[PathBuf],
    watched: &mut BTreeSet<PathBuf>,
) {
    let wanted: BTreeSet<PathBuf> = specs
        .iter()
        .flat_map(|(spec, state)| std::iter::once(spec).chain(state.inputs.iter()))
        .filter_map(|p| p.parent())
        // A missing folder (a policy's, not written yet) is seen through
        // its nearest existing ancestor until it exists.
        .map(|dir| {
            dir.ancestors()
                .find(|a| a.is_dir())
                .unwrap_or(dir)
                .to_path_buf()
        })
        // Folders under a recursively watched root are already covered.
        .filter(|dir| !roots.iter().any(|root| dir.starts_with(root)))
        .collect();
    for dir in watched.difference(&wanted).cloned().collect::<Vec<_>>() {
        let _ = debouncer.unwatch(&dir);
        watched.remove(&dir);
    }
    for dir in wanted {
        if !watched.contains(&dir)
            && dir.is_dir()
            && debouncer.watch(&dir, RecursiveMode::NonRecursive).is_ok()
        {
            watched.insert(dir);
        }
    }
}

/// Whether a file event can change an evaluation: not a read, not an editor's
/// temp file, not a memo this watcher wrote.
pub fn is_relevant(kind: &EventKind, path: &Path, own_outputs: &HashSet<PathBuf>) -> bool {
    let kind_matters = match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Create(_)
        | EventKind::Modify(_)
        | EventKind::Remove(_)
        | EventKind::Any
        | EventKind::Other => true,
    };
    kind_matters
        && !is_temp_file(path)
        && !own_outputs.contains(path)
        && !own_outputs.contains(&normalize(path))
}

/// Editors' and our own temporary files.
pub fn is_temp_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".swo")
        || name.ends_with(".tmp")
        || name.ends_with(".bak")
        || name.contains(".___jb_")
        || name.contains(".xos-tmp-")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.starts_with(".#")
        || name.starts_with(".goutputstream-")
        || name == "4913"
        || name == ".DS_Store"
}

/// An absolute path with its folder resolved, so the paths of events and of
/// inputs compare equal even when the file itself does not exist (yet). The
/// last name is kept, not resolved: a data file replaced by a symlink (or a
/// symlink by a file) is still the input at that name, where resolving it
/// made the event's path the link's target, which no spec had read.
pub fn normalize(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |dir| dir.join(path))
    };
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map_or(absolute.clone(), |p| p.join(name)),
        _ => absolute.canonicalize().unwrap_or(absolute),
    }
}

/// Wall-clock time of day, UTC, for status lines.
fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, ModifyKind, RemoveKind, RenameMode};

    #[test]
    fn event_filter_table() {
        let own: HashSet<PathBuf> = [PathBuf::from("/x/checkout_redesign.md")]
            .into_iter()
            .collect();
        let data = Path::new("/x/checkout.csv");
        let cases: &[(EventKind, &Path, bool)] = &[
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Content)),
                data,
                true,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                data,
                true,
            ),
            (EventKind::Create(CreateKind::File), data, true),
            (EventKind::Remove(RemoveKind::File), data, true),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                data,
                true,
            ),
            (
                EventKind::Access(AccessKind::Open(AccessMode::Read)),
                data,
                false,
            ),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                data,
                false,
            ),
            (EventKind::Any, data, true),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Content)),
                Path::new("/x/checkout_redesign.md"),
                false,
            ),
            (
                EventKind::Create(CreateKind::File),
                Path::new("/x/.checkout.xos.swp"),
                false,
            ),
            (
                EventKind::Create(CreateKind::File),
                Path::new("/x/checkout.xos~"),
                false,
            ),
            (
                EventKind::Create(CreateKind::File),
                Path::new("/x/#checkout.xos#"),
                false,
            ),
            (
                EventKind::Create(CreateKind::File),
                Path::new("/x/checkout.xos.___jb_tmp___"),
                false,
            ),
            (
                EventKind::Create(CreateKind::File),
                Path::new("/x/.checkout.md.xos-tmp-42"),
                false,
            ),
            (
                EventKind::Create(CreateKind::File),
                Path::new("/x/4913"),
                false,
            ),
            (
                EventKind::Create(CreateKind::File),
                Path::new("/x/new_spec.xos"),
                true,
            ),
        ];
        for (kind, path, expected) in cases {
            assert_eq!(
                is_relevant(kind, path, &own),
                *expected,
                "{kind:?} {}",
                path.display()
            );
        }
    }

    #[test]
    fn status_lines_show_the_change() {
        let event = WatchEvent::Evaluated {
            time: "12:00:01".into(),
            spec: PathBuf::from("checkout.xos"),
            experiment: "checkout_redesign".into(),
            verdict: Verdict::Launch,
            rule: "clear_win".into(),
            previous: Some((Verdict::Hold, "otherwise".into())),
            memo: PathBuf::from("out/checkout_redesign.md"),
            warnings: Diagnostics::new(),
        };
        assert_eq!(
            event.status_line(),
            "12:00:01 checkout_redesign: hold → launch (clear_win) · out/checkout_redesign.md"
        );
    }
}
