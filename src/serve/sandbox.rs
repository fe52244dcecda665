//! A spec and its data received over HTTP, evaluated without reading a file.
//!
//! A spec sent to the server must not make it read the server's files: its
//! `policy "path"` is refused with a located diagnostic, no `xos.toml` is
//! looked up (so no templates folder and no configured policy), and its
//! `data "path"` is never opened — the data is the upload, always. The
//! spec is named `spec.xos` in diagnostics, relative to nothing. The
//! pipeline is otherwise the one of `xos run`: the same checker, the same
//! data validation, [`crate::evaluate_decide_report`].
//!
//! Checked plans are cached by spec text (a bounded map): a client that
//! posts the same spec with new data pays for the data and the statistics
//! only, as `xos watch` does for a spec whose data changed.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::check::{Checked, LoadOptions};
use crate::data;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::output::report::Report;
use crate::plan::Shape;
use crate::stats::credible;
use crate::syntax::{ast, parse};

use super::{MAX_COMPARISONS, MAX_DRAWS, MAX_VARIANTS};

/// How the spec received over HTTP is named in diagnostics.
pub const SPEC_NAME: &str = "spec.xos";

/// How the uploaded data is named when the upload gives no file name.
pub const DATA_NAME: &str = "data.csv";

/// Most checked plans kept; the cache is emptied when full.
const CACHE_CAPACITY: usize = 256;

/// Checked plans by (data name, spec text).
#[derive(Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<(String, String), Arc<Checked>>>,
}

impl PlanCache {
    fn get(&self, key: &(String, String)) -> Option<Arc<Checked>> {
        self.plans.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: (String, String), checked: Arc<Checked>) {
        if let Ok(mut plans) = self.plans.lock() {
            if plans.len() >= CACHE_CAPACITY {
                plans.clear();
            }
            plans.insert(key, checked);
        }
    }
}

/// A spec and data evaluated.
#[derive(Clone, Debug)]
pub struct Uploaded {
    /// The checked spec (shared with the plan cache).
    pub checked: Arc<Checked>,
    /// The report of the spec on the uploaded data.
    pub report: Report,
}

/// The file name an upload is shown under: its last path component, or
/// [`DATA_NAME`]. Never a path: `../../etc/passwd.csv` is `passwd.csv`.
pub fn data_name(file_name: Option<&str>) -> String {
    file_name
        .and_then(|name| name.rsplit(['/', '\\']).next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && *name != "." && *name != "..")
        .map_or_else(|| DATA_NAME.to_string(), str::to_string)
}

/// Parses and checks a spec received over HTTP; `data_name` names the upload
/// that will replace its data.
pub fn check(cache: &PlanCache, spec: &str, data_name: &str) -> Result<Arc<Checked>, Diagnostics> {
    let key = (data_name.to_string(), spec.to_string());
    if let Some(checked) = cache.get(&key) {
        return Ok(checked);
    }
    let source = SourceFile::new(SPEC_NAME, spec);
    let experiment = match parse::parse(&source)? {
        ast::File::Experiment(experiment) => experiment,
        // A policy file: the checker says so, reading nothing.
        ast::File::Policy(_) => {
            return crate::check::check_source(&source, &LoadOptions::default()).map(Arc::new);
        }
    };
    let mut refused = Diagnostics(
        experiment
            .items
            .iter()
            .filter_map(|item| match item {
                ast::Item::Policy(decl) => Some(
                    Diagnostic::error(
                        "xos::serve::reads_files",
                        "a spec sent over HTTP cannot name a policy file",
                    )
                    .label(decl.span, "the server reads no file for an uploaded spec")
                    .help(
                        "remove this line to use the built-in default policy, or write \
                         the rules in the spec itself (`rule NAME { when … then … }`)",
                    )
                    .in_file(&source),
                ),
                _ => None,
            })
            .collect(),
    );
    refused.0.extend(too_much_work(&experiment, &source));
    if !refused.is_empty() {
        return Err(refused);
    }
    let options = LoadOptions {
        data_override: Some(PathBuf::from(data_name)),
        allow_outside: false,
        folders: None,
    };
    let checked = crate::check::check_experiment_without_config(&source, &experiment, &options)?;
    if checked.plan.settings().draws > MAX_DRAWS {
        return Err(too_many_draws(&experiment, &source, checked.plan.settings().draws).into());
    }
    let checked = Arc::new(checked);
    cache.put(key, Arc::clone(&checked));
    Ok(checked)
}

/// The bounds of the work one request may ask for ([`MAX_VARIANTS`],
/// [`MAX_COMPARISONS`]), checked on the syntax before anything is
/// evaluated: an error at the `variants` block when a bound is passed.
fn too_much_work(experiment: &ast::Experiment, source: &Arc<SourceFile>) -> Option<Diagnostic> {
    let variants = experiment.items.iter().find_map(|item| match item {
        ast::Item::Variants(decl) => Some(decl),
        _ => None,
    })?;
    let arms = variants.variants.len();
    let metrics = experiment
        .items
        .iter()
        .filter(|item| matches!(item, ast::Item::Metric(_)))
        .count();
    let comparisons = arms.saturating_sub(1) * metrics;
    let diagnostic = if arms > MAX_VARIANTS {
        Diagnostic::error(
            "xos::serve::too_large",
            format!(
                "{arms} variants are more than a spec sent over HTTP may have ({MAX_VARIANTS})"
            ),
        )
        .label(variants.span, format!("{arms} variants"))
    } else if comparisons > MAX_COMPARISONS {
        Diagnostic::error(
            "xos::serve::too_large",
            format!(
                "{} treatment arms × {metrics} metrics are {comparisons} comparisons, more than \
                 a spec sent over HTTP may ask for ({MAX_COMPARISONS})",
                arms - 1
            ),
        )
        .label(variants.span, format!("{} treatment arms", arms - 1))
    } else {
        return None;
    };
    Some(
        diagnostic
            .help(
                "`xos serve` bounds the work of one request; evaluate this spec with \
                 `xos run` on the command line, which has no such bound",
            )
            .in_file(source),
    )
}

/// The error of a `draws` setting above [`MAX_DRAWS`], at the setting.
fn too_many_draws(
    experiment: &ast::Experiment,
    source: &Arc<SourceFile>,
    draws: u64,
) -> Diagnostic {
    let setting = experiment
        .items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Settings(decl) => Some(decl),
            _ => None,
        })
        .flat_map(|decl| &decl.block.options)
        .find(|kv| kv.key.name == "draws");
    let diagnostic = Diagnostic::error(
        "xos::serve::too_large",
        format!(
            "{draws} Monte Carlo draws are more than a spec sent over HTTP may ask for ({MAX_DRAWS})"
        ),
    )
    .help(
        "remove `draws` to use the default, or evaluate this spec with `xos run` on the \
         command line, which allows up to 10,000,000",
    );
    match setting {
        Some(kv) => diagnostic.label(kv.span, "draws").in_file(source),
        None => diagnostic.in_file(source),
    }
}

/// Checks `spec`, validates `bytes` against it and evaluates: the report, or
/// every problem found (spec and data), located in `spec.xos` and in the
/// upload's name. `limit` bounds the size of a gzip upload once inflated.
pub fn run(
    cache: &PlanCache,
    spec: &str,
    bytes: Vec<u8>,
    data_name: &str,
    limit: usize,
) -> Result<Uploaded, Diagnostics> {
    prepare(cache, spec, bytes, data_name, limit).map(Prepared::evaluate)
}

/// A spec received over HTTP, checked, with its upload validated: what
/// [`Prepared::evaluate`] turns into a report.
pub struct Prepared {
    checked: Arc<Checked>,
    data: data::Data,
}

/// The first half of [`run`]: `spec` checked and `bytes` validated against
/// it, or every problem found.
pub fn prepare(
    cache: &PlanCache,
    spec: &str,
    bytes: Vec<u8>,
    data_name: &str,
    limit: usize,
) -> Result<Prepared, Diagnostics> {
    let checked = check(cache, spec, data_name)?;
    let with_warnings = |mut errors: Diagnostics| {
        let mut all = checked.warnings.clone();
        all.0.append(&mut errors.0);
        all
    };
    let data = load(&checked.plan, bytes, data_name, limit).map_err(with_warnings)?;
    Ok(Prepared { checked, data })
}

impl Prepared {
    /// The statistics, the decision and the report
    /// ([`crate::evaluate_decide_report`]).
    pub fn evaluate(self) -> Uploaded {
        let report = crate::evaluate_decide_report(&self.checked.plan, &self.data, None);
        Uploaded {
            checked: self.checked,
            report,
        }
    }

    /// Whether [`Prepared::evaluate`] may draw a credible interval by Monte
    /// Carlo: a rate with fewer than [`credible::MIN_SHAPE`] units with
    /// the event, or without it, in some arm at some look (with a positive
    /// prior that is a superset of the intervals
    /// [`credible::relative_lift_credible`] samples). Such an evaluation
    /// takes milliseconds to a few hundred (up to [`MAX_COMPARISONS`] ×
    /// [`MAX_DRAWS`] draws: 0.35 s in a release build); any other, at
    /// most the [`MAX_COMPARISONS`] closed-form comparisons, tens of
    /// microseconds.
    pub fn samples(&self) -> bool {
        self.data.history().iter().any(|arms| {
            arms.iter().any(|arm| {
                arm.metrics.iter().any(|metric| match metric.unadjusted() {
                    data::MetricData::Rate { count } => {
                        let rarest = count.min(arm.units.saturating_sub(count));
                        (rarest as f64) < credible::MIN_SHAPE
                    }
                    _ => false,
                })
            })
        })
    }
}

/// Validates uploaded bytes as the plan's data: aggregated in memory,
/// row-level through a private temporary file (the row reader streams files).
pub fn load(
    plan: &crate::plan::Plan,
    bytes: Vec<u8>,
    data_name: &str,
    limit: usize,
) -> Result<data::Data, Diagnostics> {
    let bytes = inflate(bytes, data_name, limit)?;
    if plan.data.shape == Shape::Rows {
        let file = tempfile::NamedTempFile::new().map_err(|err| internal(&err))?;
        std::fs::write(file.path(), &bytes).map_err(|err| internal(&err))?;
        return crate::data::rows::load_rows(plan, file.path())
            .map_err(|d| rename_path(d, file.path(), Path::new(data_name)));
    }
    let source = data::decode(Path::new(data_name), bytes)?;
    data::aggregated::parse_aggregated(plan, &source)
}

/// A gzip upload inflated, at most `limit` bytes.
fn inflate(bytes: Vec<u8>, data_name: &str, limit: usize) -> Result<Vec<u8>, Diagnostics> {
    if !crate::data::rows::is_gzip(&bytes) {
        return Ok(bytes);
    }
    let mut text = Vec::new();
    let read = flate2::read::MultiGzDecoder::new(&bytes[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut text);
    match read {
        Ok(n) if n > limit => Err(Diagnostic::error(
            "xos::serve::too_large",
            format!("the upload inflates to more than the limit of {limit} bytes"),
        )
        .at_path(data_name)
        .help("send fewer rows, or raise `--max-upload`")
        .into()),
        Ok(_) => Ok(text),
        Err(err) => Err(Diagnostic::error(
            "xos::data::unreadable",
            format!("cannot inflate `{data_name}`"),
        )
        .at_path(data_name)
        .help(err.to_string())
        .into()),
    }
}

fn internal(err: &std::io::Error) -> Diagnostics {
    Diagnostic::error(
        "xos::serve::io",
        "cannot stage the upload for the row reader",
    )
    .help(err.to_string())
    .into()
}

/// Diagnostics about the file `from` are shown as about `to`.
fn rename_path(diagnostics: Diagnostics, from: &Path, to: &Path) -> Diagnostics {
    Diagnostics(
        diagnostics
            .0
            .into_iter()
            .map(|mut d| {
                if let Some(source) = &d.source
                    && source.path == from
                {
                    d.source = Some(source.renamed(to));
                }
                if d.path.as_deref() == Some(from) {
                    d.path = Some(to.to_path_buf());
                }
                d
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_are_never_paths() {
        assert_eq!(data_name(Some("../../etc/passwd.csv")), "passwd.csv");
        assert_eq!(data_name(Some("C:\\x\\y.csv")), "y.csv");
        assert_eq!(data_name(Some("..")), DATA_NAME);
        assert_eq!(data_name(Some("  ")), DATA_NAME);
        assert_eq!(data_name(None), DATA_NAME);
    }

    /// An upload whose evaluation may sample is told from one that cannot,
    /// at either end of a rate (few events, or few units without one).
    #[test]
    fn uploads_that_sample_are_told_apart() {
        let spec = include_str!("../../examples/checkout/checkout.xos");
        let header = "variant,users,conversions,guardrail_cancel,guardrail_error,\
                      revenue_sum,revenue_sum_sq\n";
        let samples = |rows: &str| {
            let cache = PlanCache::default();
            let bytes = format!("{header}{rows}").into_bytes();
            prepare(&cache, spec, bytes, "d.csv", 1 << 20)
                .map(|p| p.samples())
                .map_err(|d| format!("{d:?}"))
        };
        let common = "control,48000,5760,576,168,1200000,72000000\n\
                      treatment,48100,6060,570,160,1231360,73610816\n";
        assert_eq!(samples(common), Ok(false));
        let rare = common.replace(",168,", ",19,");
        assert_eq!(samples(&rare), Ok(true));
        let rare = common.replace(",168,", ",20,");
        assert_eq!(samples(&rare), Ok(false));
        let nearly_all = common.replace(
            "48100,6060,570,160,1231360,73610816",
            "6070,6060,570,160,151750,10000000",
        );
        assert_eq!(samples(&nearly_all), Ok(true));
    }
}
