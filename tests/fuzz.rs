//! The fuzzing harness that stays, on stable Rust (`cargo fuzz` needs a
//! nightly toolchain): grammar-aware generated specs and policies, byte-level
//! mutations of the shipped examples and rules, CSV mutations, long lines
//! and names, deep nesting — each case through parse, check, fmt, explain,
//! the data reader, evaluate and decide, with these properties checked:
//!
//! - no panic, and no case slower than the per-case limit (a hang);
//! - every diagnostic names its file, and its line and column when it
//!   points into one;
//! - no non-finite number in a report, checked on the values before
//!   serialisation;
//! - `fmt` keeps the meaning: `explain` and the JSON report are the same
//!   before and after formatting, and formatting twice changes nothing;
//! - peak memory stays under a bound.
//!
//! `XOS_FUZZ_SECONDS` sets the time budget (default 2 s, so `cargo test`
//! stays quick; CI is meant to give it 60 s; `0` runs until `XOS_FUZZ_CASES`
//! cases or forever); `XOS_FUZZ_SEED` replays a run. A failing input is
//! minimised and stored in `tests/fuzz-regressions/` (`NAME.xos`, with
//! `NAME.csv` when data took part), which [`regressions_stay_fixed`]
//! replays in every `cargo test`.
//!
//! ```sh
//! XOS_FUZZ_SECONDS=600 cargo test --release --test fuzz -- --nocapture
//! ```

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use xos::check::{LoadOptions, check_source};
use xos::diagnostic::{Diagnostics, SourceFile};
use xos::syntax::fmt::format_source;

/// A case slower than this is a failure (a hang, or quadratic work). Huge
/// inputs (a 65,536-character line, 100,000 `not`s, a name of 70,000
/// characters) cost about 1 µs a byte through all the stages, so the
/// generators make them rare (a few cases in 1,000) and a run of a million
/// cases fits in minutes.
const CASE_LIMIT: Duration = Duration::from_secs(10);

/// Peak resident memory of the whole test process.
const MEMORY_LIMIT_KIB: u64 = 4 << 20;

const REGRESSIONS: &str = "tests/fuzz-regressions";

const SEEDS: [&str; 8] = [
    include_str!("../examples/checkout/checkout.xos"),
    include_str!("../examples/latency_guard/search.xos"),
    include_str!("../examples/multiarm/pricing.xos"),
    include_str!("../examples/search_ratio/search.xos"),
    include_str!("../examples/signup_rows/signup.xos"),
    include_str!("../rules/default.xos"),
    include_str!("../rules/strict.xos"),
    include_str!("../rules/bayesian.xos"),
];

const CSV_SEEDS: [&str; 3] = [
    include_str!("../examples/checkout/checkout.csv"),
    include_str!("../examples/multiarm/pricing.csv"),
    include_str!("../examples/latency_guard/search.csv"),
];

/// xorshift64*: small, fast, and replayable from a printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// One input: a spec (or policy) and, optionally, aggregated data.
#[derive(Clone, Debug)]
struct Case {
    spec: String,
    csv: Option<String>,
}

// ---------------------------------------------------------------- generators

const NAMES: [&str; 8] = [
    "control",
    "treatment",
    "conversion",
    "revenue",
    "cancel_rate",
    "latency",
    "a",
    "b",
];

fn name(rng: &mut Rng) -> String {
    match rng.below(2_000) {
        0 => "n".repeat(70_000),
        1 => format!("x{}", rng.next()),
        2 => "é_ü".to_string(),
        _ => rng.pick(&NAMES).to_string(),
    }
}

fn number(rng: &mut Rng) -> String {
    let n = match rng.below(12) {
        0 => "1e307".to_string(),
        1 => "1.8e308".to_string(),
        2 => "0".to_string(),
        3 => "-1".to_string(),
        4 => "1_000_000_000_000".to_string(),
        5 => "0.0000001".to_string(),
        _ => format!("{}", rng.below(1000)),
    };
    let unit = rng.pick(&["", "%", "pp", " relative", "ms", "% relative"]);
    format!("{n}{unit}")
}

fn condition(rng: &mut Rng, depth: usize) -> String {
    if depth > 6 || rng.chance(35) {
        let atom = rng.pick(&[
            "primary.better",
            "primary.worse",
            "any guardrail severe",
            "any guardrail worsened",
            "all guardrail ok",
            "health == blocked",
            "srm.p < 0.001",
            "primary.lift > 1pp",
            "primary.p < settings.alpha",
            "true",
            "false",
            "conversion.better",
            "primary.prob_better > 95%",
        ]);
        return atom.to_string();
    }
    match rng.below(5) {
        0 => format!("not {}", condition(rng, depth + 1)),
        1 => format!("({})", condition(rng, depth + 1)),
        2 => format!(
            "{} or {}",
            condition(rng, depth + 1),
            condition(rng, depth + 1)
        ),
        3 if rng.below(1_000) == 0 => format!(
            "{}{}",
            "not ".repeat(rng.below(100_000)),
            condition(rng, depth + 1)
        ),
        3 => format!(
            "{}{}",
            "not ".repeat(rng.below(600)),
            condition(rng, depth + 1)
        ),
        _ => format!(
            "{} and {}",
            condition(rng, depth + 1),
            condition(rng, depth + 1)
        ),
    }
}

fn quoted(rng: &mut Rng) -> String {
    let text = rng.pick(&[
        "Launch it",
        "<script>alert(1)</script>",
        "x | y | z",
        "\\u{1b}[31mred",
        "[x](javascript:alert(1))",
        "line\\n# LAUNCH",
        "",
        "{{ report }}",
    ]);
    format!("\"{text}\"")
}

fn rule(rng: &mut Rng) -> String {
    format!(
        "    rule {} {{\n        when {}\n        then {}\n        because {}\n    }}\n",
        name(rng),
        condition(rng, 0),
        rng.pick(&["launch", "hold", "rollback"]),
        quoted(rng)
    )
}

fn options(rng: &mut Rng, keys: &[&str]) -> String {
    let mut out = String::new();
    for _ in 0..rng.below(4) {
        out.push_str(&format!("        {} {}\n", rng.pick(keys), number(rng)));
    }
    out
}

/// A spec that mostly parses: the grammar's items with random names,
/// numbers, units and conditions.
fn generated_spec(rng: &mut Rng) -> String {
    let mut s = format!("experiment {} {{\n", name(rng));
    if rng.chance(70) {
        s.push_str(&format!("    title {}\n", quoted(rng)));
    }
    s.push_str("    data \"fuzz.csv\"\n    variants {\n");
    let arms = 1 + rng.below(4);
    for i in 0..arms {
        let arm = if i == 0 {
            "control".to_string()
        } else {
            format!("variant_{i}")
        };
        s.push_str(&format!("        {arm} {}\n", number(rng)));
    }
    s.push_str("    }\n");
    s.push_str(&format!(
        "    primary conversion = rate(conversions) {{\n{}    }}\n",
        options(rng, &["baseline", "mde", "alternative"])
    ));
    if rng.chance(50) {
        s.push_str(&format!(
            "    guardrail cancel_rate = rate(guardrail_cancel) {{\n{}    }}\n",
            options(rng, &["worsened", "severe", "direction"])
        ));
    }
    if rng.chance(30) {
        s.push_str("    metric revenue = mean(revenue)\n");
    }
    for _ in 0..rng.below(4) {
        s.push_str(&rule(rng));
    }
    if rng.chance(40) {
        s.push_str(&format!(
            "    plan {{\n{}    }}\n",
            options(rng, &["daily_users", "power", "days"])
        ));
    }
    if rng.chance(40) {
        s.push_str(&format!(
            "    settings {{\n{}    }}\n",
            options(rng, &["alpha", "srm_warning", "correction", "bogus"])
        ));
    }
    s.push_str("}\n");
    s
}

fn generated_policy(rng: &mut Rng) -> String {
    let mut s = format!("policy {} {{\n", name(rng));
    for _ in 0..rng.below(6) {
        s.push_str(&rule(rng));
    }
    s.push_str(&format!(
        "    otherwise {} because {}\n}}\n",
        rng.pick(&["launch", "hold", "rollback"]),
        quoted(rng)
    ));
    s
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

const SNIPPETS: [&str; 16] = [
    "{",
    "}",
    "\"",
    "//",
    "%",
    " relative",
    " and ",
    "(",
    "not ",
    "\\",
    "é",
    "\u{1b}[2J",
    "|",
    "\n",
    "1e308",
    "\0",
];

/// Byte-level mutations of `text`: deletions, insertions, duplications,
/// truncations, long runs.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut text = text.to_string();
    for _ in 0..1 + rng.below(6) {
        if text.is_empty() {
            text.push_str(rng.pick(&SNIPPETS));
            continue;
        }
        let at = boundary(&text, rng.below(text.len() + 1));
        match rng.below(7) {
            0 => {
                let end = boundary(&text, at + rng.below(40));
                text.replace_range(at..end, "");
            }
            1 => text.insert_str(at, rng.pick(&SNIPPETS)),
            2 => {
                let end = boundary(&text, at + rng.below(80));
                let piece = text[at..end].to_string();
                let times = if rng.below(200) == 0 {
                    1 + rng.below(2_000)
                } else {
                    1 + rng.below(5)
                };
                text.insert_str(end, &piece.repeat(times));
            }
            3 => text.truncate(at),
            4 if rng.below(300) == 0 => text.insert_str(at, &"a".repeat(65_536 + rng.below(10))),
            4 => text.insert_str(at, &"a".repeat(rng.below(5_000))),
            5 => {
                let byte = (rng.next() % 128) as u8 as char;
                text.insert(at, byte);
            }
            _ => {
                let end = boundary(&text, at + rng.below(20));
                let piece = text[at..end].to_string();
                let to = boundary(&text, rng.below(text.len() + 1));
                text.insert_str(to, &piece);
            }
        }
    }
    text
}

fn csv(rng: &mut Rng) -> String {
    let base = rng.pick(&CSV_SEEDS);
    match rng.below(5) {
        // A file that is no CSV (`/etc/passwd`, an environment): long lines
        // that no diagnostic may quote whole.
        4 => {
            let mut s = String::new();
            for i in 0..rng.below(6) + 1 {
                let cell = if rng.chance(50) { "," } else { ":" };
                s.push_str(&format!(
                    "secret{i}{cell}x{cell}0{cell}0{cell}/home/secret{i}{cell}{}\n",
                    "s".repeat(rng.below(200))
                ));
            }
            s
        }
        0 => base.to_string(),
        1 => mutate(rng, base),
        2 => {
            let mut s = String::from(
                "variant,users,conversions,guardrail_cancel,revenue_sum,revenue_sum_sq\n",
            );
            for arm in ["control", "variant_1", "variant_2", "variant_3"] {
                s.push_str(&format!(
                    "{arm},{},{},{},{},{}\n",
                    rng.below(100_000),
                    rng.below(10_000),
                    rng.below(1_000),
                    rng.below(100_000),
                    rng.next() % 10_000_000_000
                ));
            }
            s
        }
        _ => {
            let mut s = String::from("variant,users,conversions\n");
            for _ in 0..rng.below(200) {
                s.push_str(rng.pick(&["control,1,1\n", "variant_1,2\n", ",,,\n", "x,1e308,1\n"]));
            }
            s
        }
    }
}

fn case(rng: &mut Rng) -> Case {
    let spec = match rng.below(10) {
        0..=3 => generated_spec(rng),
        4 => generated_policy(rng),
        _ => {
            let seed = SEEDS[rng.below(SEEDS.len())];
            mutate(rng, seed)
        }
    };
    let csv = rng.chance(40).then(|| csv(rng));
    Case { spec, csv }
}

// ---------------------------------------------------------------- properties

/// Where the case's files seem to live: a folder with no `xos.toml`, so
/// nothing outside the case takes part.
fn spec_path() -> PathBuf {
    PathBuf::from("/nonexistent-xos-fuzz/fuzz.xos")
}

/// Every diagnostic names its file (and its line when it has labels), and
/// renders to a bounded size. With `data`, the text of the data file the
/// diagnostics are about: none of them may quote a line of it longer than a
/// token (issue "hostile input": a data file is quoted no further than its
/// offending token, at most `MAX_TOKEN_CHARS` characters).
fn located(diagnostics: &Diagnostics, data: Option<&str>) -> Result<(), String> {
    for (i, d) in diagnostics.iter().enumerate() {
        if d.file_name().is_none() {
            return Err(format!("unlocated diagnostic {}: {}", d.code, d.message));
        }
        if d.source.is_some() && !d.labels.is_empty() && d.location().is_none() {
            return Err(format!("diagnostic {} has labels but no line", d.code));
        }
        // Rendering is the costly part: the first few of each case.
        if i >= 3 {
            continue;
        }
        let rendered = xos::diagnostic::render(d, false, 100);
        if rendered.len() > 64 * 1024 {
            return Err(format!(
                "diagnostic {} renders to {} bytes",
                d.code,
                rendered.len()
            ));
        }
        let json = serde_json::to_string(&d.to_json()).map_err(|e| e.to_string())?;
        if let Some(line) = data.and_then(|text| {
            text.lines()
                .map(str::trim)
                .filter(|line| line.chars().count() > xos::text::MAX_TOKEN_CHARS + 2)
                .find(|line| rendered.contains(line) || json.contains(line))
        }) {
            return Err(format!(
                "diagnostic {} quotes a whole line of the data: {line:?}",
                d.code
            ));
        }
    }
    Ok(())
}

/// `explain` and, with data, the report (values checked finite first).
fn meaning(
    source: &Arc<SourceFile>,
    csv: Option<&str>,
) -> Result<Option<(String, String)>, String> {
    let checked = match check_source(source, &LoadOptions::default()) {
        Ok(checked) => checked,
        Err(errors) => {
            located(&errors, None)?;
            return Ok(None);
        }
    };
    located(&checked.warnings, None)?;
    let plan = checked.plan;
    let explained = xos::explain::explain(&plan);
    let mut report = String::new();
    if let Some(csv) = csv {
        let data_source = SourceFile::data("/nonexistent-xos-fuzz/fuzz.csv", csv, 1);
        match xos::data::aggregated::parse_aggregated(&plan, &data_source) {
            Ok(data) => {
                let built = xos::evaluate_decide_report(&plan, &data, None);
                let bad = common::finite::non_finite(&built);
                if !bad.is_empty() {
                    return Err(format!("non-finite numbers in the report: {bad:?}"));
                }
                report = serde_json::to_string(&built).map_err(|e| e.to_string())?;
            }
            Err(errors) => located(&errors, Some(csv))?,
        }
    }
    Ok(Some((explained, report)))
}

/// Every property on one case; `Err` says which failed.
fn check_case(case: &Case) -> Result<(), String> {
    let source = SourceFile::new(spec_path(), case.spec.clone());
    let before = meaning(&source, case.csv.as_deref())?;
    if let Err(errors) = xos::check::check_policy_source(&source) {
        located(&errors, None)?;
    }
    match format_source(&source) {
        Ok(formatted) => {
            let again_source = SourceFile::new(spec_path(), formatted.clone());
            let again = format_source(&again_source).map_err(|e| {
                format!(
                    "formatted text does not parse: {:?}",
                    e.0.first().map(|d| &d.message)
                )
            })?;
            if again != formatted {
                return Err("fmt is not idempotent".to_string());
            }
            let after = meaning(&again_source, case.csv.as_deref())?;
            if before != after {
                return Err("fmt changed the meaning (explain or report differ)".to_string());
            }
        }
        Err(errors) => located(&errors, None)?,
    }
    Ok(())
}

/// Runs [`check_case`], a panic counted as a failure.
fn run_case(case: &Case) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| check_case(case))) {
        Ok(result) => result,
        Err(payload) => Err(format!(
            "panic: {}",
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------- minimising

/// Removes lines, then halves of lines, while the case still fails.
fn minimise(case: &Case) -> Case {
    let fails = |c: &Case| run_case(c).is_err();
    let mut best = case.clone();
    let mut budget = 2_000;
    let mut chunk = best.spec.len() / 2;
    while chunk > 0 && budget > 0 {
        let mut at = 0;
        let mut progressed = false;
        while at < best.spec.len() && budget > 0 {
            budget -= 1;
            let start = boundary(&best.spec, at);
            let end = boundary(&best.spec, start + chunk);
            if end == start {
                break;
            }
            let mut smaller = best.clone();
            smaller.spec.replace_range(start..end, "");
            if fails(&smaller) {
                best = smaller;
                progressed = true;
            } else {
                at = end;
            }
        }
        if !progressed {
            chunk /= 2;
        }
    }
    best
}

fn store(case: &Case, why: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(REGRESSIONS);
    std::fs::create_dir_all(&dir).unwrap();
    let hash = case
        .spec
        .bytes()
        .chain(case.csv.as_deref().unwrap_or("").bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    let stem = dir.join(format!("case-{hash:016x}"));
    std::fs::write(stem.with_extension("xos"), &case.spec).unwrap();
    if let Some(csv) = &case.csv {
        std::fs::write(stem.with_extension("csv"), csv).unwrap();
    }
    std::fs::write(stem.with_extension("why"), why).unwrap();
    stem.with_extension("xos")
}

// ---------------------------------------------------------------- the tests

#[test]
fn fuzz_for_the_time_budget() {
    let seconds: u64 = std::env::var("XOS_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let max_cases: u64 = std::env::var("XOS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let seed: u64 = std::env::var("XOS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let deadline = (seconds > 0).then(|| Instant::now() + Duration::from_secs(seconds));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let done = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    // The watchdog: a case past the limit is a hang; the process cannot
    // interrupt it, so the case is stored and the process ends.
    let current: Vec<std::sync::Mutex<Option<(Instant, Case)>>> =
        (0..threads).map(|_| std::sync::Mutex::new(None)).collect();
    let finished = AtomicBool::new(false);
    eprintln!("fuzz: seed {seed}, {threads} threads, budget {seconds} s (0 = none)");
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                for slot in &current {
                    let slot = slot
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some((started, case)) = slot.as_ref()
                        && started.elapsed() > CASE_LIMIT
                    {
                        let path = store(case, "hang: slower than the per-case limit");
                        eprintln!(
                            "fuzz: a case ran past {CASE_LIMIT:?}: stored in {}",
                            path.display()
                        );
                        std::process::exit(101);
                    }
                }
            }
        });
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (done, failed, current) = (&done, &failed, &current);
                scope.spawn(move || {
                    let mut rng = Rng(seed ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    loop {
                        if failed.load(Ordering::SeqCst)
                            || deadline.is_some_and(|d| Instant::now() >= d)
                            || done.fetch_add(1, Ordering::SeqCst) >= max_cases
                        {
                            break;
                        }
                        let case = case(&mut rng);
                        *current[t].lock().unwrap() = Some((Instant::now(), case.clone()));
                        let result = run_case(&case);
                        *current[t].lock().unwrap() = None;
                        if let Err(why) = result {
                            failed.store(true, Ordering::SeqCst);
                            let small = minimise(&case);
                            let why = run_case(&small).err().unwrap_or(why);
                            let path = store(&small, &why);
                            return Some(format!(
                                "{why}\nstored (minimised) in {}",
                                path.display()
                            ));
                        }
                    }
                    None
                })
            })
            .collect();
        let failures: Vec<String> = workers
            .into_iter()
            .filter_map(|w| w.join().unwrap())
            .collect();
        finished.store(true, Ordering::SeqCst);
        let cases = done.load(Ordering::SeqCst).min(max_cases);
        let peak = peak_kib();
        eprintln!(
            "fuzz: {cases} cases, 0 failures so far, peak memory {} MiB",
            peak / 1024
        );
        assert!(
            failures.is_empty(),
            "fuzz failure (seed {seed}): {}",
            failures.join("\n")
        );
        assert!(peak < MEMORY_LIMIT_KIB, "peak memory {} MiB", peak / 1024);
    });
}

/// Every stored failure stays fixed.
#[test]
fn regressions_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(REGRESSIONS);
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz-regressions exists") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "xos") {
            continue;
        }
        count += 1;
        let case = Case {
            spec: std::fs::read_to_string(&path).unwrap(),
            csv: std::fs::read_to_string(path.with_extension("csv")).ok(),
        };
        let started = Instant::now();
        if let Err(why) = run_case(&case) {
            failures.push(format!("{}: {why}", path.display()));
        }
        if started.elapsed() > CASE_LIMIT {
            failures.push(format!("{}: slower than {CASE_LIMIT:?}", path.display()));
        }
    }
    assert!(count > 0, "no regression cases in {}", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
