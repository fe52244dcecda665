//! xos: experiment specs in, Launch / Hold / Rollback decisions out.
//!
//! The modules below are listed in the order the data flows through them;
//! `docs/architecture.md` draws the pipeline and says what each owns.
//!
//! The entry points: [`load_plan`] (a spec on disk) and [`check_source`] (a
//! spec in memory) find `xos.toml`, read and check the policy, and return a
//! [`plan::Plan`] or every problem found, as [`diagnostic::Diagnostics`];
//! [`run_once`] is the whole pipeline for one spec, behind `xos run` and
//! `xos watch`; [`check_path`] is `xos check`: the checker and the static
//! analysis of the rules.

// Every public item is documented: what it is, its shape and units, when it
// fails, and the source of the formula it computes (docs/architecture.md).
#![warn(missing_docs)]

// Each declaration stands alone so that rustfmt keeps the pipeline order.
pub mod diagnostic; // located errors and warnings, shared by every stage

pub mod limits; // the bounds on input size, and regular files only

pub mod syntax; // .xos text ↔ syntax tree: grammar, parser, formatter

pub mod plan; // the checked program: what every later stage reads

pub mod check; // syntax tree (+ xos.toml, policy) → Plan

pub mod data; // CSV (aggregated or one row per unit) → sufficient statistics

pub mod stats; // the statistical tests, intervals and sample sizes

pub mod sample_size; // Plan → units needed (`xos plan`, the memo's charter)

pub mod evaluate; // Plan × Data → facts

pub mod inference; // sequential p, CI and bounds in an evaluation

pub mod decide; // facts × rules → verdicts

pub mod output; // verdicts → JSON report → memo

pub mod review; // policies as code: scenarios, tests, analysis, diff

pub mod explain; // Plan → what the spec means, in words

pub mod watch; // re-run specs when their inputs change

pub mod serve; // the experiments as a live web app and an HTTP API, over watch

pub mod numbers; // numbers as people read them, for every module above

pub mod text; // names aligned and text made terminal-safe, for every printer

pub mod sql; // Plan → the warehouse query that yields the aggregated CSV

pub use check::{Checked, LoadOptions, check_source, load_plan};
use output::report;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use diagnostic::{Diagnostic, Diagnostics};

/// Options of one evaluation.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Replaces the data path of the spec (`--data`).
    pub data: Option<PathBuf>,
    /// Lets the spec's paths point outside its repository (`--allow-outside`).
    pub allow_outside: bool,
    /// Printed in the memo when given; memos carry no wall-clock date
    /// otherwise, so the same inputs give the same bytes.
    pub date: Option<String>,
    /// Look-ups shared by the specs of one folder run; see
    /// [`check::FolderCache`].
    pub folders: Option<std::sync::Arc<check::FolderCache>>,
}

/// A spec evaluated end to end.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The checked plan the evaluation ran.
    pub plan: plan::Plan,
    /// The report: facts, decision and the numbers the memo renders.
    pub report: report::Report,
    /// Warnings from checking the spec and its policy.
    pub warnings: Diagnostics,
}

impl Outcome {
    /// Every file this evaluation read: what `watch` must watch.
    pub fn inputs(&self) -> Vec<PathBuf> {
        inputs(&self.plan)
    }
}

/// The files an evaluation of `plan` reads.
pub fn inputs(plan: &plan::Plan) -> Vec<PathBuf> {
    let mut files = vec![plan.spec_path.clone(), plan.data.path.clone()];
    if let plan::PolicyOrigin::File(path) = &plan.policy.origin {
        files.push(path.clone());
    }
    files.extend(plan.config.clone());
    files.extend(plan.templates.clone());
    files
}

/// Spec → plan → data → facts → decision → report: the one pipeline behind
/// `xos run` and `xos watch`.
pub fn run_once(spec: &Path, options: &RunOptions) -> Result<Outcome, Diagnostics> {
    run_source(&check::read_source(spec)?, options)
}

/// [`run_once`] on a spec already read (`source.path` still locates its
/// `xos.toml`, policy and data): `xos run DIR` reads each spec once, in
/// [`find_spec_sources`].
pub fn run_source(
    source: &std::sync::Arc<diagnostic::SourceFile>,
    options: &RunOptions,
) -> Result<Outcome, Diagnostics> {
    let load = check::LoadOptions {
        data_override: options.data.clone(),
        allow_outside: options.allow_outside,
        folders: options.folders.clone(),
    };
    let checked = check::check_source(source, &load)?;
    let plan = checked.plan;
    let data = data::load(&plan).map_err(|mut errors| {
        // Keep the spec's warnings with the data's errors.
        let mut all = checked.warnings.clone();
        all.0.append(&mut errors.0);
        all
    })?;
    let report = evaluate_decide_report(&plan, &data, options.date.clone());
    Ok(Outcome {
        plan,
        report,
        warnings: checked.warnings,
    })
}

/// The three stages after the data: evaluates validated data against a
/// plan (every comparison and health fact), decides by the plan's policy,
/// and builds the report of both. `date` is printed in the memo when given.
pub fn evaluate_decide_report(
    plan: &plan::Plan,
    data: &data::Data,
    date: Option<String>,
) -> report::Report {
    let evaluation = evaluate::evaluate(plan, data);
    let decision = decide::decide(plan, &evaluation);
    report::build(plan, &evaluation, decision, date)
}

/// `xos check FILE`: checks an experiment (with its policy) or a policy file
/// on its own, then adds the static analysis of its rules over the scenario
/// space (warnings only; `run` and `watch` do not pay for it).
pub fn check_path(path: &Path, options: &LoadOptions) -> Result<check::CheckedFile, Diagnostics> {
    let checked = check::check_file(path, options)?;
    Ok(review::analysis::with_warnings(
        checked.checked,
        &checked.source,
        checked.name,
    ))
}

/// Writes `contents` to `path` atomically and durably: a temporary file in
/// the same folder, `fsync`ed, then a rename, so readers never see a
/// half-written file and the new contents survive a power loss once this
/// returns. Same as [`write_atomic_with`] with [`Durability::PerFile`].
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Diagnostic> {
    write_atomic_with(path, contents, Durability::PerFile)
}

/// When written files reach stable storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` each file before its rename (`xos run --sync`): a file that
    /// was written is on disk, whatever happens next. About 1–3 ms per file
    /// on this project's test machine.
    #[default]
    PerFile,
    /// No `fsync` per file; the caller syncs the filesystem once at the end
    /// with [`sync_filesystem`] (the default of `xos run`). A power loss before
    /// that sync can leave some memos with their old contents, or empty on
    /// filesystems that do not order data before a rename (ext4 does, with
    /// its default `auto_da_alloc`); a crash of the process alone cannot, as
    /// the rename stays atomic.
    Deferred,
}

/// Writes `contents` to `path` atomically (a temporary file in the same
/// folder, then a rename), syncing it first when `durability` is
/// [`Durability::PerFile`]. A rewritten file keeps its permissions.
/// The same as [`stage_atomic`] followed at once by [`StagedWrite::commit`].
///
/// # Errors
/// `xos::io::write` with the OS error when the folder cannot be created or
/// the file cannot be written, synced or renamed (the temporary is removed).
pub fn write_atomic_with(
    path: &Path,
    contents: &[u8],
    durability: Durability,
) -> Result<(), Diagnostic> {
    stage_atomic(path, contents, durability)?.commit()
}

/// A file written in full under a temporary name in its folder, waiting for
/// [`commit`](Self::commit) to rename it to its own name. Dropped without a
/// commit, the temporary is removed and the file at `path` is untouched. It
/// holds no open file descriptor, so a run may stage thousands at once.
#[derive(Debug)]
pub struct StagedWrite {
    temp: tempfile::TempPath,
    path: PathBuf,
    /// `path`'s folder when it did not exist: the temporary waits in the
    /// nearest folder above that does, and the commit creates the folder.
    create: Option<PathBuf>,
}

impl StagedWrite {
    /// Renames the temporary to its file's name: readers see the old file or
    /// the new one, never part of one.
    ///
    /// # Errors
    /// `xos::io::write` with the OS error (the temporary is removed).
    pub fn commit(self) -> Result<(), Diagnostic> {
        let StagedWrite { temp, path, create } = self;
        // On failure the temporary is removed when `persist`'s error is dropped.
        let fail = |err: tempfile::PathPersistError| write_error(&path, err.error);
        match (temp.persist(&path), create) {
            (Ok(()), None) => Ok(()),
            // The folder exists now (made by an earlier commit, or by hand).
            (Ok(()), Some(dir)) => {
                missing_folders(|missing| missing.retain(|(d, _)| *d != dir));
                Ok(())
            }
            // The folder is still missing: the first commit into it creates it.
            (Err(err), Some(dir)) if err.error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| write_error(&path, folder_error(&dir, e)))?;
                missing_folders(|missing| missing.retain(|(d, _)| *d != dir));
                err.path.persist(&path).map_err(fail)
            }
            (Err(err), _) => Err(fail(err)),
        }
    }
}

/// What a write does when the file's path is a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Write the file the link leads to and keep the link: for a file the
    /// user named (`xos fmt link.xos`, `xos run -o link.md`).
    Follow,
    /// Refuse with `xos::io::memo_link`, writing nothing: for a memo, whose
    /// name xos chose in an output folder, where a planted link could make
    /// xos overwrite any file the user can write.
    Refuse,
}

/// [`stage_atomic`] of a memo named by xos (`OUT/NAME.md`): a symlink at
/// `path` is refused ([`Links::Refuse`]), whatever it leads to. A link
/// planted after this check is replaced by the commit's rename, never
/// written through.
///
/// # Errors
/// `xos::io::memo_link` at `path` when it is a symlink, naming where it
/// leads; otherwise those of [`stage_atomic`].
pub fn stage_memo(
    path: &Path,
    contents: &[u8],
    durability: Durability,
) -> Result<StagedWrite, Diagnostic> {
    stage(path, contents, durability, Links::Refuse)
}

/// The first half of [`write_atomic_with`]: `contents` written (and, with
/// [`Durability::PerFile`], synced) to a temporary file in `path`'s folder,
/// which [`StagedWrite::commit`] renames to `path`. `xos run` stages every
/// memo on the workers that render them and commits them once every spec
/// has been evaluated, so a failed spec or a clash of names leaves every
/// memo, and every folder, as it was. A missing folder is created by the
/// commit (the temporary waits in the nearest folder above it that exists,
/// on the same filesystem); writing through a symlink writes the file it
/// points to and keeps the link; a rewritten file keeps its permissions.
///
/// # Errors
/// `xos::io::write` with the OS error when `path` is a folder, or the
/// folder cannot be created or the temporary cannot be created, written or
/// synced (it is then removed).
pub fn stage_atomic(
    path: &Path,
    contents: &[u8],
    durability: Durability,
) -> Result<StagedWrite, Diagnostic> {
    stage(path, contents, durability, Links::Follow)
}

/// [`stage_atomic`] and [`stage_memo`], which differ in `links`.
fn stage(
    path: &Path,
    contents: &[u8],
    durability: Durability,
    links: Links,
) -> Result<StagedWrite, Diagnostic> {
    let fail = |err: std::io::Error| write_error(path, err);
    // One `lstat` tells a symlink (`xos fmt` of a linked spec: rewrite the
    // file it points to, keep the link) and the permissions to keep.
    // A folder where the file goes is refused now, not at the rename: a
    // folder run commits nothing when one memo cannot be written.
    let folder = || fail(std::io::ErrorKind::IsADirectory.into());
    let (path, permissions) = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() && links == Links::Refuse => {
            return Err(memo_link(path));
        }
        Ok(meta) if meta.file_type().is_symlink() => {
            let resolved = std::fs::canonicalize(path).map_err(fail)?;
            let meta = std::fs::metadata(&resolved).ok();
            if meta.as_ref().is_some_and(std::fs::Metadata::is_dir) {
                return Err(folder());
            }
            (resolved, meta.map(|m| m.permissions()))
        }
        Ok(meta) if meta.is_dir() => return Err(folder()),
        Ok(meta) => (path.to_path_buf(), Some(meta.permissions())),
        Err(_) => (path.to_path_buf(), None),
    };
    let dir = parent_folder(&path);
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    remove_stale_temp_files(&dir);
    // `tempfile` creates the file with O_EXCL and a random name (it never
    // follows a planted symlink); the process id in the name lets the next
    // write tell a temporary of a killed run from one in use. A missing
    // folder shows as `NotFound` here (no `stat` of the folder per memo).
    let prefix = format!(".{name}{TEMP_MARK}{}-", process_id());
    // A new memo gets the mode any new file gets (0666 less the umask:
    // readable by the team, like a file written by `>`), not tempfile's
    // private 0600; an existing file's permissions are kept (below).
    let temp_in = |dir: &Path| {
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        builder.tempfile_in(dir)
    };
    // A folder found missing before waits with its nearest existing folder
    // until a commit creates it (no failed create per memo of a fleet run
    // into a new folder).
    let known = missing_folders(|missing| {
        missing
            .iter()
            .find(|(d, _)| *d == dir)
            .map(|(_, existing)| existing.clone())
    });
    let (mut tmp, create) = match known {
        Some(existing) => (temp_in(&existing).map_err(fail)?, Some(dir.clone())),
        None => match temp_in(&dir) {
            Ok(tmp) => (tmp, None),
            // The folder is there but refuses new files (`/proc`, `/sys`):
            // waiting in a folder above would end in a cross-device rename.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && dir.is_dir() => {
                return Err(fail(std::io::Error::new(
                    err.kind(),
                    format!("the folder `{}` does not take new files", dir.display()),
                )));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let existing = dir
                    .ancestors()
                    .skip(1)
                    .map(|a| {
                        if a.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            a
                        }
                    })
                    .find(|a| a.is_dir())
                    .ok_or_else(|| fail(err))?
                    .to_path_buf();
                remove_stale_temp_files(&existing);
                let tmp = temp_in(&existing).map_err(fail)?;
                missing_folders(|missing| missing.push((dir.clone(), existing)));
                (tmp, Some(dir.clone()))
            }
            Err(err) => return Err(fail(err)),
        },
    };
    std::io::Write::write_all(&mut tmp, contents).map_err(fail)?;
    if durability == Durability::PerFile {
        tmp.as_file().sync_all().map_err(fail)?;
    }
    if let Some(permissions) = permissions {
        let _ = tmp.as_file().set_permissions(permissions);
    }
    Ok(StagedWrite {
        temp: tmp.into_temp_path(),
        path,
        create,
    })
}

/// The folders [`stage_atomic`] found missing, each with the existing folder
/// above it where their temporaries wait; [`StagedWrite::commit`] drops a
/// folder once it has created it.
fn missing_folders<R>(f: impl FnOnce(&mut Vec<(PathBuf, PathBuf)>) -> R) -> R {
    static MISSING: std::sync::Mutex<Vec<(PathBuf, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    f(&mut locked(&MISSING))
}

/// The value behind `mutex`, also after a panic of another thread that
/// held it: xos's mutexes guard caches and queues that a panic leaves
/// whole, never half-updated.
pub(crate) fn locked<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `xos::io::memo_link`: the memo's path `link` is a symlink.
fn memo_link(link: &Path) -> Diagnostic {
    let target = std::fs::read_link(link).map_or_else(
        |_| "another file".to_string(),
        |target| format!("`{}`", target.display()),
    );
    Diagnostic::error(
        "xos::io::memo_link",
        format!(
            "cannot write the memo `{}`: it is a symlink to {target}",
            link.display()
        ),
    )
    .at_path(link)
    .help(
        "a memo is never written through a symlink, so that a link planted in an output folder \
         cannot make xos overwrite another file (outside the repository); remove the link \
         (`xos run SPEC -o FILE` writes through a link named on the command line)",
    )
}

/// `xos::io::write` at `path`, with the OS error as its help.
fn write_error(path: &Path, err: std::io::Error) -> Diagnostic {
    // `tempfile` appends "at path DIR/.NAME.xos-tmp-PID-RANDOM" to its errors:
    // a name the user never chose (and, for a missing folder, in the folder
    // above it). The OS error alone says what went wrong.
    // Its error type is private, so the suffix is cut from the text.
    let text = err.to_string();
    let plain = match text.rfind(" at path \"") {
        Some(at) if err.get_ref().is_some() => &text[..at],
        _ => &text,
    };
    Diagnostic::error(
        "xos::io::write",
        format!("cannot write `{}`", path.display()),
    )
    .at_path(path)
    .help(plain.to_string())
}

/// The error of creating the folder `dir`, said plainly where a symlink to
/// nothing stands in its path: the OS says only "File exists".
fn folder_error(dir: &Path, err: std::io::Error) -> std::io::Error {
    if err.kind() != std::io::ErrorKind::AlreadyExists {
        return err;
    }
    let dangling = dir.ancestors().find_map(|at| {
        let target = std::fs::read_link(at).ok()?;
        (!at.exists()).then_some((at, target))
    });
    match dangling {
        Some((link, target)) => std::io::Error::new(
            err.kind(),
            format!(
                "`{}` is a symlink to `{}`, which does not exist",
                link.display(),
                target.display()
            ),
        ),
        None => err,
    }
}

/// What marks xos's own temporary files: `.NAME.xos-tmp-PID-RANDOM`.
pub const TEMP_MARK: &str = ".xos-tmp-";

/// Removes the temporaries in `dir` left by xos runs that were killed
/// between creating and renaming them (their process no longer exists).
/// Each folder is cleaned once per process, so a folder run of n memos
/// reads the folder once, not n times.
fn remove_stale_temp_files(dir: &Path) {
    static CLEANED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    {
        let mut cleaned = locked(&CLEANED);
        if cleaned.iter().any(|d| d == dir) {
            return;
        }
        cleaned.push(dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some((_, rest)) = file_name
            .to_str()
            .filter(|n| n.starts_with('.'))
            .and_then(|n| n.split_once(TEMP_MARK))
        else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|pid| pid == process_id() || Path::new(&format!("/proc/{pid}")).exists());
        if !alive && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The folder a file is written into: its parent, or `.` for a bare name.
pub fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Flushes every written file and directory entry of the filesystem that
/// holds `dir` to stable storage (Linux `syncfs(2)`, one call however many
/// files were written with [`Durability::Deferred`]).
///
/// # Errors
/// `xos::io::sync` with the OS error when `dir` cannot be opened or synced.
pub fn sync_filesystem(dir: &Path) -> Result<(), Diagnostic> {
    let fail = |err: std::io::Error| {
        Diagnostic::error(
            "xos::io::sync",
            format!("cannot sync the filesystem of `{}`", dir.display()),
        )
        .at_path(dir)
        .help(err.to_string())
    };
    let folder = std::fs::File::open(dir).map_err(fail)?;
    rustix::fs::syncfs(&folder).map_err(|errno| fail(errno.into()))
}

/// `work(item)` for every item, computed on all available cores (a shared
/// counter is the work queue, so a slow item does not hold back the others'
/// core), returned in the items' order: what `xos run DIR` evaluates its
/// specs with, and `find_specs` reads their first words with. A panic in
/// `work` is resumed on the calling thread.
pub fn map_on_every_core<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.iter().map(work).collect();
    }
    // Asked once per process: the standard library reads the cgroup's CPU
    // quota from /proc and /sys on every call (eight system calls).
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let workers = cores.min(items.len());
    if workers <= 1 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, work(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, result)| result).collect()
}

/// [`map_on_every_core`] for work that takes its item by value (each item
/// is handed to exactly one worker).
pub fn map_owned_on_every_core<T: Send, R: Send>(
    items: Vec<T>,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let slots: Vec<std::sync::Mutex<Option<T>>> = items
        .into_iter()
        .map(|item| std::sync::Mutex::new(Some(item)))
        .collect();
    map_on_every_core(&slots, |slot| {
        let item = locked(slot).take();
        // INVARIANT: the work queue hands each index to one worker once.
        work(item.expect("each item is taken once"))
    })
}

/// This process's id, asked of the kernel once: `std::process::id` is a
/// system call each time, one per memo of a folder run. xos never forks.
fn process_id() -> u32 {
    static ID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *ID.get_or_init(std::process::id)
}

/// Every experiment spec under `dir`, sorted; policy files are skipped.
pub fn find_specs(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let files = xos_files(dir)?;
    // A first read of every file, on every core.
    let experiment = map_on_every_core(&files, |path| is_experiment(path));
    Ok(files
        .into_iter()
        .zip(experiment)
        .filter_map(|(path, experiment)| experiment.then_some(path))
        .collect())
}

/// A spec found by [`find_spec_sources`]: its path, and its text as
/// [`check::read_source`] read it (or why it could not); `None` when the
/// text was not kept and the run reads the spec itself.
pub type SpecSource = (
    PathBuf,
    Option<Result<std::sync::Arc<diagnostic::SourceFile>, Diagnostics>>,
);

/// The head of a file that tells a spec from a policy file.
const HEAD_BYTES: usize = 64 << 10;

/// Most bytes of spec text [`find_spec_sources`] keeps for a run: a folder
/// of huge specs is read again spec by spec instead of held in memory.
const KEPT_SOURCE_BYTES: usize = 64 << 20;

/// [`find_specs`] for a run that reads every spec anyway (`xos run DIR`):
/// each file is read once, whole, on every core, and handed back with its
/// path, instead of a first read to tell specs from policies and a second
/// one to check them (in a 1,000-spec run, 4,000 of its 22,000 system
/// calls). Specs and policies are told apart by the first 64 KiB of
/// the text, as [`is_experiment`] reads them; a file that cannot be read as
/// source text is told apart by [`is_experiment`] itself, and its reading
/// error goes to its run. Texts of at most 64 KiB are kept, up to 64 MiB in
/// all; the others are read again by their run.
pub fn find_spec_sources(dir: &Path) -> Result<Vec<SpecSource>, Diagnostic> {
    let files = xos_files(dir)?;
    let kept = AtomicUsize::new(0);
    let read = map_owned_on_every_core(files, |path| {
        let source = check::read_source(&path);
        let experiment = match &source {
            Ok(source) => {
                let bytes = source.text.as_bytes();
                starts_as_experiment(&String::from_utf8_lossy(
                    &bytes[..bytes.len().min(HEAD_BYTES)],
                ))
            }
            Err(_) => is_experiment(&path),
        };
        if !experiment {
            return None;
        }
        let size = source.as_ref().map_or(0, |source| source.text.len());
        let keep = size <= HEAD_BYTES
            && kept.fetch_add(size, Ordering::Relaxed) + size <= KEPT_SOURCE_BYTES;
        Some((path, keep.then_some(source)))
    });
    Ok(read.into_iter().flatten().collect())
}

/// Every `.xos` file under `dir` (specs and policies), sorted; hidden files
/// and folders are skipped.
///
/// A symlink (to a spec or to a folder) is followed only when it leads to a
/// place inside `dir`: a link planted in a repository, `evil.xos ->
/// /etc/passwd`, would otherwise be read, and quoted in a diagnostic or served
/// as a spec's source. Such a link is refused with `xos::io::walk_outside`,
/// naming it and where it leads; a file named on the command line is the
/// user's own and is not checked.
pub fn xos_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut files = Vec::new();
    let mut visited = std::collections::HashSet::new();
    let root = std::fs::canonicalize(dir).ok();
    if let Some(real) = &root {
        visited.insert(real.clone());
    }
    let top = dir;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|err| {
            Diagnostic::error(
                "xos::io::unreadable_dir",
                format!("cannot read `{}`", dir.display()),
            )
            .at_path(&dir)
            .help(err.to_string())
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            // The entry's type comes with the listing; only a symlink needs a
            // `stat` to tell whether it leads to a folder.
            let folder = match entry.file_type() {
                Ok(kind) if !kind.is_symlink() => kind.is_dir(),
                _ => {
                    let is_dir = path.is_dir();
                    let leads_to_xos = path.extension().is_some_and(|e| e == "xos");
                    if let Some(root) = &root
                        && (leads_to_xos || is_dir)
                        && let Some(target) = outside_link(&path, root)
                    {
                        return Err(walk_outside(top, &path, &target));
                    }
                    is_dir
                }
            };
            if folder {
                // A folder reached again through a symlink (a loop, or two
                // links to one folder) is walked once.
                if std::fs::canonicalize(&path).is_ok_and(|real| !visited.insert(real)) {
                    continue;
                }
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "xos") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Where the symlink `link` leads when that is outside the folder whose
/// canonical path is `root`; `None` inside it, or when it leads nowhere (a
/// dangling link is reported by whatever reads it).
pub fn outside_link(link: &Path, root: &Path) -> Option<PathBuf> {
    let target = std::fs::canonicalize(link).ok()?;
    (!target.starts_with(root)).then_some(target)
}

/// `xos::io::walk_outside`: the walk of `dir` met `link`, a symlink to
/// `target` outside it.
pub fn walk_outside(dir: &Path, link: &Path, target: &Path) -> Diagnostic {
    Diagnostic::error(
        "xos::io::walk_outside",
        format!(
            "`{}` is a symlink to `{}`, outside `{}`",
            link.display(),
            target.display(),
            dir.display()
        ),
    )
    .at_path(link)
    .help(
        "a folder is walked without leaving it, so that a link planted in a repository cannot \
         make xos read (and quote, or serve) another file; remove the link or copy what it \
         leads to into the folder, or name a spec on the command line to run it from where it is",
    )
}

/// A spec's first word is `experiment`; a policy file's is `policy`.
pub fn is_experiment(path: &Path) -> bool {
    // The first 64 KiB of a regular file tell; anything else is left for
    // the run to report.
    // One `read` into a buffer sized from the `fstat` (a growing read made
    // three or four system calls per file of a 1,000-spec folder).
    let Ok(head) = limits::open_regular_sized(path).and_then(|(mut file, size)| {
        let mut head = vec![0; usize::try_from(size).unwrap_or(HEAD_BYTES).min(HEAD_BYTES)];
        let mut filled = 0;
        while filled < head.len() {
            match std::io::Read::read(&mut file, &mut head[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        head.truncate(filled);
        Ok(head)
    }) else {
        return true;
    };
    starts_as_experiment(&String::from_utf8_lossy(&head))
}

/// Whether the first word of `text`, past a byte-order mark, blank lines
/// and comments, is not `policy`.
fn starts_as_experiment(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split("//").next().unwrap_or("").trim())
        .find(|l| !l.is_empty())
        .unwrap_or("");
    !first.starts_with("policy")
}
