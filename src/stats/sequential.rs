//! Group-sequential efficacy boundaries by Lan–DeMets α-spending, computed
//! by exact recursive numerical integration (the convention of R's
//! ldbounds / gsDesign).

use super::dist::{normal_pdf, normal_quantile, normal_sf};

/// α-spending function family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spending {
    /// `α₁(t) = 2 − 2Φ(z_{1−α/4}/√t)` per side.
    OBrienFleming,
    /// `α₁(t) = (α/2) ln(1 + (e − 1) t)` per side.
    Pocock,
}

/// Two-sided symmetric boundaries, one entry per look.
#[derive(Clone, Debug, PartialEq)]
pub struct Boundaries {
    /// Reject at look `k` when `|Z_k| ≥ z_bounds[k]`.
    pub z_bounds: Vec<f64>,
    /// Two-sided α spent up to each look, `2α₁(t_k)`.
    pub cumulative_alpha: Vec<f64>,
}

/// Grid resolution parameter `r` of Jennison & Turnbull (2000, §19.2); the
/// grid has at most `12r − 3` points. At `r = 16` the boundaries of the 40
/// reference designs (`sequential.json`, a converged `r = 256` computation)
/// agree to 3.2e-5 at worst (the file's tolerance is 1e-3); `r = 32` gains
/// 1e-6 for four times the work (the kernel is quadratic in the grid), which
/// the repeated p-value of [`analyze`] multiplies by its ~10 designs.
const GRID_R: usize = 16;

/// Two-sided Lan–DeMets boundaries at information fractions
/// `0 < t_1 < … < t_K ≤ 1`, each side spending `α/2` through `α₁(t)`.
///
/// Under H₀ the `Z_k` are Brownian motion on the information scale
/// (`corr(Z_i, Z_j) = √(t_i/t_j)`). `b_1 = Φ⁻¹(1 − α₁(t_1))` exactly; each later
/// `b_k` solves `P(|Z_j| < b_j, j < k; |Z_k| ≥ b_k) = 2(α₁(t_k) − α₁(t_{k−1}))`,
/// with the sub-density of `Z_{k−1}` on the continuation region propagated
/// by the Armitage–McPherson–Rowe recursion on Jennison & Turnbull's grid
/// (Simpson's rule, `r = 16`), and the root found by Newton's method on the
/// log crossing probability, safeguarded by bisection. `cumulative_alpha` is the closed
/// form `2α₁(t_k)`.
///
/// `None` when `α ∉ (0, 1)`, `fractions` is empty, not strictly increasing,
/// or outside `(0, 1]`, or a look spends so little α that it underflows
/// (O'Brien–Fleming at `t` below about 0.003), which has no finite bound.
pub fn boundaries(alpha: f64, spending: Spending, fractions: &[f64]) -> Option<Boundaries> {
    if fractions.is_empty() {
        return None;
    }
    let mut recursion = Recursion::new(alpha, spending)?;
    let mut z_bounds = Vec::with_capacity(fractions.len());
    for &t in fractions {
        z_bounds.push(recursion.next(t)?);
    }
    Some(Boundaries {
        z_bounds,
        cumulative_alpha: fractions
            .iter()
            .map(|&t| 2.0 * recursion.spend(t))
            .collect(),
    })
}

/// The Armitage–McPherson–Rowe recursion, one look at a time: the sub-density
/// of `Z` at the last look on its continuation region, on that look's grid.
struct Recursion {
    alpha: f64,
    spending: Spending,
    /// `z_{1−α/4}`, the O'Brien–Fleming constant.
    z_quarter: f64,
    /// The last look's fraction and grid; `None` before the first look.
    last: Option<(f64, Grid)>,
    /// Sub-density of `Z` at the last look times the Simpson weights.
    mass: Vec<f64>,
}

impl Recursion {
    /// `None` unless `0 < α < 1`.
    fn new(alpha: f64, spending: Spending) -> Option<Recursion> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return None;
        }
        Some(Recursion {
            alpha,
            spending,
            z_quarter: -normal_quantile(0.25 * alpha),
            last: None,
            mass: Vec::new(),
        })
    }

    /// One side's cumulative spending `α₁(t)`.
    fn spend(&self, t: f64) -> f64 {
        match self.spending {
            Spending::OBrienFleming => 2.0 * normal_sf(self.z_quarter / t.sqrt()),
            Spending::Pocock => 0.5 * self.alpha * ((std::f64::consts::E - 1.0) * t).ln_1p(),
        }
    }

    /// The bound at the next look, at fraction `t`, and the recursion advanced
    /// past it. `None` (and the recursion unchanged) when `t` is not above the
    /// last look's fraction or above 1, or when the look spends no
    /// representable α (its bound would be infinite).
    fn next(&mut self, t: f64) -> Option<f64> {
        let t_prev = self.last.as_ref().map_or(0.0, |(t_prev, _)| *t_prev);
        if !(t > t_prev && t <= 1.0) {
            return None;
        }
        let target = 2.0 * (self.spend(t) - self.spend(t_prev));
        if target.is_nan() || target <= 0.0 {
            return None;
        }
        let Some((t_prev, grid)) = self.last.take() else {
            let b1 = -normal_quantile(0.5 * target);
            if !b1.is_finite() {
                return None;
            }
            let grid = Grid::new(b1);
            self.mass = grid
                .z
                .iter()
                .zip(&grid.w)
                .map(|(&z, &w)| w * normal_pdf(z))
                .collect();
            self.last = Some((t, grid));
            return Some(b1);
        };
        let s_prev = t_prev.sqrt();
        let s_k = t.sqrt();
        let sd = (t - t_prev).sqrt();
        let mass = &self.mass;
        // P(continue to here, |Z_k| ≥ b) and its derivative in b.
        let crossing = |b: f64| -> (f64, f64) {
            grid.z
                .iter()
                .zip(mass)
                .fold((0.0, 0.0), |(p, dp), (&z, &m)| {
                    let (up, down) = ((b * s_k - z * s_prev) / sd, (b * s_k + z * s_prev) / sd);
                    (
                        p + m * (normal_sf(up) + normal_sf(down)),
                        dp - m * (normal_pdf(up) + normal_pdf(down)) * s_k / sd,
                    )
                })
        };
        let Some(b) = solve_bound(&crossing, target) else {
            self.last = Some((t_prev, grid));
            return None;
        };
        let next = Grid::new(b);
        let scale = s_k / sd;
        let next_mass: Vec<f64> = next
            .z
            .iter()
            .zip(&next.w)
            .map(|(&zj, &wj)| {
                let density: f64 = grid
                    .z
                    .iter()
                    .zip(mass)
                    .map(|(&zi, &m)| m * normal_pdf((zj * s_k - zi * s_prev) / sd))
                    .sum();
                wj * scale * density
            })
            .collect();
        self.last = Some((t, next));
        self.mass = next_mass;
        Some(b)
    }
}

/// A group-sequential design on the **observed** looks of an experiment:
/// each look's information fraction `t_k = min(1, N_k/N_max)` (`N_k` the
/// cumulative units at look `k`, `N_max` the units at which all α is spent)
/// and its two-sided bound (DESIGN.md §2, `sequential.json`).
///
/// Lan–DeMets spending makes the bound at look `k` depend only on
/// `t_1, …, t_k`, so earlier bounds never move as looks accrue. Looks that
/// add no information (the same `N` as the previous look) share its bound.
/// A look that spends no representable α (O'Brien–Fleming before
/// `t ≈ 0.003`) has no bound (`None`: it cannot cross), which is exact: a
/// look spending nothing leaves the continuation region unrestricted. All α
/// is spent at the first look with `t = 1`; later looks have no bound, and
/// the inference stays the one of that final look.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    /// Two-sided α of the design.
    pub alpha: f64,
    /// The α-spending family (O'Brien–Fleming or Pocock type).
    pub spending: Spending,
    /// `N_max`.
    pub max_units: u64,
    /// `t_k` per look.
    pub fractions: Vec<f64>,
    /// `b_k` per look (`None`: the look cannot cross, see above).
    pub bounds: Vec<Option<f64>>,
    /// Two-sided α spent up to each look, `2α₁(t_k)`.
    pub cumulative_alpha: Vec<f64>,
    /// Index of the final analysis (the first look with `t = 1`), if reached.
    pub final_look: Option<usize>,
}

/// Why a [`Design`] cannot be formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DesignError {
    /// `α ∉ (0, 1)`.
    Alpha,
    /// No looks.
    NoLooks,
    /// `N_max = 0`.
    MaxUnits,
    /// Look `k` (0-based) has fewer cumulative units than the look before.
    Decreasing(usize),
}

impl Design {
    /// The design for looks with cumulative units `units` (one entry per look,
    /// non-decreasing) and all α spent at `max_units`.
    pub fn new(
        alpha: f64,
        spending: Spending,
        units: &[u64],
        max_units: u64,
    ) -> Result<Design, DesignError> {
        let mut recursion = Recursion::new(alpha, spending).ok_or(DesignError::Alpha)?;
        if units.is_empty() {
            return Err(DesignError::NoLooks);
        }
        if max_units == 0 {
            return Err(DesignError::MaxUnits);
        }
        let mut fractions = Vec::with_capacity(units.len());
        let mut bounds: Vec<Option<f64>> = Vec::with_capacity(units.len());
        let mut final_look = None;
        for (k, &n) in units.iter().enumerate() {
            if k > 0 && n < units[k - 1] {
                return Err(DesignError::Decreasing(k));
            }
            let t = (n as f64 / max_units as f64).min(1.0);
            fractions.push(t);
            let bound = if final_look.is_some() {
                None
            } else if k > 0 && n == units[k - 1] {
                bounds[k - 1]
            } else if n == 0 {
                None
            } else {
                recursion.next(t)
            };
            if t >= 1.0 && final_look.is_none() {
                final_look = Some(k);
            }
            bounds.push(bound);
        }
        let cumulative_alpha = fractions
            .iter()
            .map(|&t| {
                if t > 0.0 {
                    2.0 * recursion.spend(t)
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Design {
            alpha,
            spending,
            max_units,
            fractions,
            bounds,
            cumulative_alpha,
            final_look,
        })
    }

    /// The same looks at another α (`None` unless `0 < α < 1`).
    fn at_alpha(&self, alpha: f64, looks: usize) -> Option<Vec<Option<f64>>> {
        let mut recursion = Recursion::new(alpha, self.spending)?;
        let mut bounds: Vec<Option<f64>> = Vec::with_capacity(looks);
        for k in 0..looks.min(self.fractions.len()) {
            let t = self.fractions[k];
            let bound = if self.final_look.is_some_and(|f| k > f) {
                None
            } else if k > 0 && t == self.fractions[k - 1] {
                bounds[k - 1]
            } else if t == 0.0 {
                None
            } else {
                recursion.next(t)
            };
            bounds.push(bound);
        }
        Some(bounds)
    }
}

/// One look's estimate of the lift and its standard error (the fixed-horizon
/// SE of that look's cumulative data: unpooled Wald for rates, Welch for
/// means).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LookEstimate {
    /// The lift `Δ̂_k` on the look's cumulative data, in the metric's units.
    pub estimate: f64,
    /// Its standard error `SE_k`, in the metric's units.
    pub se: f64,
}

/// The group-sequential inference at the latest look.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSequential {
    /// `Δ̂_k/SE_k` per look; `None` when `SE_k = 0`.
    pub z: Vec<Option<f64>>,
    /// Repeated confidence interval per look, `Δ̂_k ∓ b_k·SE_k` (Jennison &
    /// Turnbull 2000, ch. 9; simultaneous coverage ≥ 1 − α); `None` without a
    /// bound or with `SE_k = 0`.
    pub rci: Vec<Option<(f64, f64)>>,
    /// The look the inference is about: the latest, or the final analysis
    /// when later looks follow it.
    pub analysis_look: usize,
    /// The first look with `|z_k| ≥ b_k`, at or before the analysis look.
    /// Crossing persists: a later look never undoes it.
    pub crossed_at: Option<usize>,
    /// The bound at the analysis look.
    pub boundary: Option<f64>,
    /// The interval reported: the analysis look's RCI, intersected with the
    /// crossing look's RCI after a crossing (the intersection of simultaneous
    /// intervals keeps their coverage); the crossing look's RCI alone if the
    /// two are disjoint. It excludes 0 exactly when the design crossed.
    pub ci: Option<(f64, f64)>,
    /// The repeated p-value (Jennison & Turnbull §9.2) `inf{α' : the design
    /// at level α' crosses at some look ≤ the analysis look}`, so
    /// `p < α ⇔ crossed` (it is clamped to that side of α where the root
    /// finder's last step leaves it within 1e-6 relative of α). `1` when no
    /// look has a standard error.
    pub p_value: f64,
}

impl GroupSequential {
    /// Crossed at some look ≤ the analysis look.
    pub fn significant(&self) -> bool {
        self.crossed_at.is_some()
    }
}

/// The group-sequential inference of one comparison, `looks[k]` its estimate
/// at look `k` of `design` (`looks.len()` must equal the design's looks;
/// `None` otherwise or when an estimate is not finite).
pub fn analyze(design: &Design, looks: &[LookEstimate]) -> Option<GroupSequential> {
    if looks.len() != design.fractions.len()
        || looks.is_empty()
        || looks
            .iter()
            .any(|l| !(l.estimate.is_finite() && l.se.is_finite() && l.se >= 0.0))
    {
        return None;
    }
    let analysis_look = design.final_look.unwrap_or(looks.len() - 1);
    let z: Vec<Option<f64>> = looks
        .iter()
        .map(|l| (l.se > 0.0).then(|| l.estimate / l.se))
        .collect();
    let rci = rcis(&design.bounds, looks);
    let crossed_at = first_crossing(&design.bounds, &z, analysis_look);
    let ci = reported_interval(|k| rci[k], crossed_at, analysis_look);
    let p_value = repeated_p_value(design, &z, analysis_look, crossed_at.is_some());
    Some(GroupSequential {
        z,
        rci,
        analysis_look,
        crossed_at,
        boundary: design.bounds[analysis_look],
        ci,
        p_value,
    })
}

/// The interval a group-sequential analysis reports, from the per-look
/// intervals `at(k)`: the analysis look's; after a crossing at an earlier
/// look, its intersection with the crossing look's (the intersection of
/// simultaneous intervals keeps their coverage), or the crossing look's
/// alone when the two are disjoint. [`analyze`] applies it to the RCIs of
/// the lift; the relative lift's intervals follow the same rule.
pub fn reported_interval(
    at: impl Fn(usize) -> Option<(f64, f64)>,
    crossed_at: Option<usize>,
    analysis_look: usize,
) -> Option<(f64, f64)> {
    match crossed_at {
        Some(j) if j < analysis_look => {
            let at_cross = at(j);
            match (at_cross, at(analysis_look)) {
                (Some((l1, h1)), Some((l2, h2))) if l1.max(l2) <= h1.min(h2) => {
                    Some((l1.max(l2), h1.min(h2)))
                }
                _ => at_cross,
            }
        }
        _ => at(analysis_look),
    }
}

/// The repeated confidence intervals at the design's α, computed at another
/// level `alpha` (for instance `2α` for a one-sided non-inferiority bound):
/// `Δ̂_k ∓ b_k(alpha)·SE_k` per look, with the same looks and spending.
/// `None` unless `0 < alpha < 1` and the looks match the design.
pub fn repeated_intervals(
    design: &Design,
    looks: &[LookEstimate],
    alpha: f64,
) -> Option<Vec<Option<(f64, f64)>>> {
    if looks.len() != design.fractions.len() {
        return None;
    }
    let bounds = design.at_alpha(alpha, looks.len())?;
    Some(rcis(&bounds, looks))
}

fn rcis(bounds: &[Option<f64>], looks: &[LookEstimate]) -> Vec<Option<(f64, f64)>> {
    bounds
        .iter()
        .zip(looks)
        .map(|(b, l)| {
            let b = (*b)?;
            (l.se > 0.0).then_some((l.estimate - b * l.se, l.estimate + b * l.se))
        })
        .collect()
}

fn first_crossing(bounds: &[Option<f64>], z: &[Option<f64>], last: usize) -> Option<usize> {
    (0..=last).find(|&k| matches!((bounds[k], z[k]), (Some(b), Some(z)) if z.abs() >= b))
}

/// `inf{α' : crossed by look `last` at level α'}` by Illinois regula falsi on
/// `ln α'` over `g(α') = max_k (|z_k| − b_k(α'))`, which increases with α'
/// (every bound falls as α' grows). The bracket starts at the design's own α,
/// whose side is known, so the result is on the side of α the crossing says.
fn repeated_p_value(design: &Design, z: &[Option<f64>], last: usize, crossed: bool) -> f64 {
    if z[..=last].iter().all(Option::is_none) {
        return 1.0;
    }
    let g = |ln_alpha: f64| -> f64 {
        let Some(bounds) = design.at_alpha(ln_alpha.exp(), last + 1) else {
            return f64::NEG_INFINITY;
        };
        bounds
            .iter()
            .zip(z)
            .filter_map(|(b, z)| Some(z.as_ref()?.abs() - (*b)?))
            .fold(f64::NEG_INFINITY, f64::max)
    };
    const LN_SMALLEST: f64 = -690.0; // ln 1e-300
    const LN_LARGEST: f64 = -1e-9; // α' = 1 − 1e-9
    let ln_alpha = design.alpha.ln();
    // (lo, g(lo) < 0) and (hi, g(hi) ≥ 0).
    let (mut lo, mut g_lo, mut hi, mut g_hi);
    if crossed {
        // b_k(α') ≥ z_{1−α'/2} at every look (a look spends at most α'), so
        // crossing needs α' ≥ 2Φ(−|z_k|): the smallest nominal p-value is a
        // lower end of the bracket.
        let nominal = z[..=last]
            .iter()
            .flatten()
            .map(|z| 2.0 * normal_sf(z.abs()))
            .fold(1.0, f64::min);
        if nominal <= 0.0 {
            return 0.0;
        }
        hi = ln_alpha;
        g_hi = g(hi).max(0.0);
        lo = nominal.ln().max(LN_SMALLEST).min(hi);
        g_lo = g(lo);
        if g_lo >= 0.0 {
            // Crossing at the nominal level itself: a single final look.
            return lo.exp().min(design.alpha.next_down());
        }
    } else {
        lo = ln_alpha;
        g_lo = g(lo).min(-f64::MIN_POSITIVE);
        hi = lo;
        loop {
            // Halve the distance to α' = 1 on the log scale.
            hi = (0.5 * hi).max(LN_LARGEST);
            g_hi = g(hi);
            if g_hi >= 0.0 {
                break;
            }
            if hi >= LN_LARGEST {
                return 1.0;
            }
            lo = hi;
            g_lo = g_hi;
        }
    }
    let mut side = 0;
    for _ in 0..60 {
        if hi - lo <= 1e-6 {
            break;
        }
        let secant = if g_lo.is_finite() && g_hi.is_finite() {
            (lo * g_hi - hi * g_lo) / (g_hi - g_lo)
        } else {
            f64::NAN
        };
        let mid = if secant > lo && secant < hi {
            secant
        } else {
            0.5 * (lo + hi)
        };
        let g_mid = g(mid);
        if g_mid >= 0.0 {
            hi = mid;
            g_hi = g_mid;
            if side == -1 {
                g_lo *= 0.5;
            }
            side = -1;
        } else {
            lo = mid;
            g_lo = g_mid;
            if side == 1 {
                g_hi *= 0.5;
            }
            side = 1;
        }
    }
    let p = hi.exp();
    if crossed {
        p.min(design.alpha.next_down())
    } else {
        p.max(design.alpha).min(1.0)
    }
}

/// Root `b > 0` of `ln crossing(b) = ln target`, `crossing` decreasing;
/// `crossing(b)` returns the probability and its derivative in `b`.
///
/// Bracket: `crossing(0)` is the probability of reaching this look, at least
/// the target; `b = Φ⁻¹(1 − target/2)` crosses with at most the target, since
/// `P(|Z_k| ≥ b)` alone is the target there. Newton's method on the log from
/// that upper end (the log crossing probability is nearly linear in `b`, so
/// it converges in 3–5 steps), kept inside the bracket by bisection.
fn solve_bound(crossing: &impl Fn(f64) -> (f64, f64), target: f64) -> Option<f64> {
    let ln_target = target.ln();
    let mut lo = 0.0;
    let mut hi = -normal_quantile(0.5 * target);
    if !hi.is_finite() {
        return None;
    }
    let mut b = hi;
    for _ in 0..100 {
        let (c, dc) = crossing(b);
        let g = c.ln() - ln_target;
        if g == 0.0 {
            return Some(b);
        }
        if g > 0.0 {
            lo = b;
        } else {
            hi = b;
        }
        let newton = b - g * c / dc;
        let next = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - b).abs() < 1e-11 || hi - lo < 1e-11 {
            return Some(next);
        }
        b = next;
    }
    Some(b)
}

/// Jennison & Turnbull's grid on the continuation region `(−b, b)` with
/// Simpson weights: the points `−3 − 4 ln(r/i)`, `−3 + 3(i − r)/(2r)`,
/// `3 + 4 ln(r/(6r − i))` inside the region, the endpoints `±b`, and the
/// midpoints between successive points.
struct Grid {
    z: Vec<f64>,
    w: Vec<f64>,
}

impl Grid {
    fn new(b: f64) -> Grid {
        let r = GRID_R as f64;
        let mut base = vec![-b];
        for i in 1..(6 * GRID_R) {
            let fi = i as f64;
            let x = if i < GRID_R {
                -3.0 - 4.0 * (r / fi).ln()
            } else if i <= 5 * GRID_R {
                -3.0 + 3.0 * (fi - r) / (2.0 * r)
            } else {
                3.0 + 4.0 * (r / (6.0 * r - fi)).ln()
            };
            if x > -b && x < b {
                base.push(x);
            }
        }
        base.push(b);
        let mut z = Vec::with_capacity(2 * base.len() - 1);
        let mut w = vec![0.0; 2 * base.len() - 1];
        for (j, pair) in base.windows(2).enumerate() {
            let d = pair[1] - pair[0];
            z.push(pair[0]);
            z.push(0.5 * (pair[0] + pair[1]));
            w[2 * j] += d / 6.0;
            w[2 * j + 1] += 4.0 * d / 6.0;
            w[2 * j + 2] += d / 6.0;
        }
        z.push(b);
        Grid { z, w }
    }
}

/// The probability of stopping at each look of a group-sequential design
/// when the standardized effect is `drift`: `Z_k` has mean `drift·√t_k` and
/// `corr(Z_i, Z_j) = √(t_i/t_j)` (Brownian motion with drift on the
/// information scale). A look without a bound (`None`) cannot stop. By the
/// same recursion as the bounds (Armitage–McPherson–Rowe on Jennison &
/// Turnbull's grid, Simpson's rule), with the increment
/// `S_k − S_{k−1} ~ N(drift·Δt, Δt)`, `S = Z·√t`. `None` when the fractions
/// are not increasing in `(0, 1]` or the lengths differ.
pub fn stopping_probabilities(
    fractions: &[f64],
    bounds: &[Option<f64>],
    drift: f64,
) -> Option<Vec<f64>> {
    if fractions.len() != bounds.len() {
        return None;
    }
    let mut out = Vec::with_capacity(fractions.len());
    // The last look with a bound: its fraction, grid and sub-density × weights.
    let mut last: Option<(f64, Grid, Vec<f64>)> = None;
    let mut t_prev = 0.0;
    for (&t, bound) in fractions.iter().zip(bounds) {
        if !(t > t_prev && t <= 1.0) {
            return None;
        }
        t_prev = t;
        let Some(b) = *bound else {
            out.push(0.0);
            continue;
        };
        let next = Grid::new(b);
        let s_k = t.sqrt();
        let Some((t0, grid, mass)) = last.take() else {
            let mean = drift * s_k;
            out.push(normal_sf(b - mean) + normal_sf(b + mean));
            let mass = next
                .z
                .iter()
                .zip(&next.w)
                .map(|(&z, &w)| w * normal_pdf(z - mean))
                .collect();
            last = Some((t, next, mass));
            continue;
        };
        let (s0, sd) = (t0.sqrt(), (t - t0).sqrt());
        let shift = drift * (t - t0);
        let stop: f64 = grid
            .z
            .iter()
            .zip(&mass)
            .map(|(&z, &m)| {
                let centre = z * s0 + shift;
                m * (normal_sf((b * s_k - centre) / sd) + normal_sf((b * s_k + centre) / sd))
            })
            .sum();
        out.push(stop);
        let scale = s_k / sd;
        let next_mass = next
            .z
            .iter()
            .zip(&next.w)
            .map(|(&zj, &wj)| {
                let density: f64 = grid
                    .z
                    .iter()
                    .zip(&mass)
                    .map(|(&zi, &m)| m * normal_pdf((zj * s_k - zi * s0 - shift) / sd))
                    .sum();
                wj * scale * density
            })
            .collect();
        last = Some((t, next, next_mass));
    }
    Some(out)
}

/// What a group-sequential design costs against a fixed-horizon test of the
/// same α and power ([`inflation`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inflation {
    /// `N_max / N_fixed`: the maximum sample over the fixed-horizon sample
    /// that keeps the power (Jennison & Turnbull 2000, §2.7, table 2.3:
    /// 1.026 for O'Brien–Fleming and 1.207 for Pocock at K = 5, α = 5%,
    /// power 80%).
    pub factor: f64,
    /// Expected sample under the alternative, as a fraction of `N_max`.
    pub expected_fraction: f64,
}

/// The inflation factor and expected sample of a design with `looks`
/// equally spaced looks (`t_k = k/K`), two-sided level `alpha`, at `power`:
/// the drift `θ` with `Σ P(stop at k | θ) = power` (bisection), against the
/// fixed-horizon drift `z_{1−α/2} + z_power`. `None` for invalid inputs.
pub fn inflation(alpha: f64, spending: Spending, looks: usize, power: f64) -> Option<Inflation> {
    if looks == 0 || !(power > 0.0 && power < 1.0) {
        return None;
    }
    let fractions: Vec<f64> = (1..=looks).map(|k| k as f64 / looks as f64).collect();
    let bounds = boundaries(alpha, spending, &fractions)?;
    // Looks that spend no α cannot stop (`Design` leaves them out likewise).
    let bounds: Vec<Option<f64>> = bounds
        .z_bounds
        .iter()
        .map(|&b| b.is_finite().then_some(b))
        .collect();
    let power_at = |theta: f64| -> Option<f64> {
        Some(
            stopping_probabilities(&fractions, &bounds, theta)?
                .iter()
                .sum(),
        )
    };
    let fixed = -normal_quantile(alpha / 2.0) - normal_quantile(1.0 - power);
    let (mut low, mut high) = (0.0, 2.0 * fixed + 2.0);
    if power_at(high)? < power {
        return None;
    }
    for _ in 0..60 {
        let mid = 0.5 * (low + high);
        if power_at(mid)? < power {
            low = mid;
        } else {
            high = mid;
        }
    }
    let theta = 0.5 * (low + high);
    let stops = stopping_probabilities(&fractions, &bounds, theta)?;
    let stopped: f64 = stops.iter().sum();
    let expected = stops
        .iter()
        .zip(&fractions)
        .map(|(p, t)| p * t)
        .sum::<f64>()
        + (1.0 - stopped);
    Some(Inflation {
        factor: (theta / fixed).powi(2),
        expected_fraction: expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_obrien_fleming_k5() {
        let b =
            boundaries(0.05, Spending::OBrienFleming, &[0.2, 0.4, 0.6, 0.8, 1.0]).expect("valid");
        for (a, e) in b.z_bounds.iter().zip([4.877, 3.357, 2.680, 2.290, 2.031]) {
            assert!((a - e).abs() < 1e-3, "{a} vs {e}");
        }
        assert!((b.cumulative_alpha[4] - 0.05).abs() < 1e-15);
    }

    #[test]
    fn published_pocock_k5() {
        let b = boundaries(0.05, Spending::Pocock, &[0.2, 0.4, 0.6, 0.8, 1.0]).expect("valid");
        for (a, e) in b.z_bounds.iter().zip([2.438, 2.427, 2.410, 2.397, 2.386]) {
            assert!((a - e).abs() < 1e-3, "{a} vs {e}");
        }
    }

    #[test]
    fn a_single_look_is_the_fixed_design() {
        let b = boundaries(0.05, Spending::Pocock, &[1.0]).expect("valid");
        assert!((b.z_bounds[0] - 1.959_963_984_540_054).abs() < 1e-12);
    }

    #[test]
    fn invalid_designs_are_undefined() {
        assert_eq!(boundaries(0.0, Spending::Pocock, &[1.0]), None);
        assert_eq!(boundaries(0.05, Spending::Pocock, &[]), None);
        assert_eq!(boundaries(0.05, Spending::Pocock, &[0.5, 0.5, 1.0]), None);
        assert_eq!(boundaries(0.05, Spending::Pocock, &[0.0, 1.0]), None);
        assert_eq!(boundaries(0.05, Spending::Pocock, &[0.5, 1.2]), None);
        // O'Brien–Fleming spends nothing representable this early.
        assert_eq!(
            boundaries(0.05, Spending::OBrienFleming, &[0.001, 1.0]),
            None
        );
    }

    fn look(estimate: f64, se: f64) -> LookEstimate {
        LookEstimate { estimate, se }
    }

    #[test]
    fn observed_fractions_cap_at_one_and_share_bounds() {
        let d = Design::new(
            0.05,
            Spending::OBrienFleming,
            &[200, 400, 400, 1_000, 1_200],
            1_000,
        )
        .expect("valid");
        assert_eq!(d.fractions, vec![0.2, 0.4, 0.4, 1.0, 1.0]);
        assert_eq!(d.bounds[1], d.bounds[2]);
        assert_eq!(d.final_look, Some(3));
        assert_eq!(d.bounds[4], None);
        // The same as the published design without the repeated look.
        let b = boundaries(0.05, Spending::OBrienFleming, &[0.2, 0.4, 1.0]).expect("valid");
        assert_eq!(d.bounds[3], Some(b.z_bounds[2]));
        assert!((d.cumulative_alpha[3] - 0.05).abs() < 1e-15);
    }

    #[test]
    fn design_errors() {
        let obf = Spending::OBrienFleming;
        assert_eq!(Design::new(0.05, obf, &[], 10), Err(DesignError::NoLooks));
        assert_eq!(Design::new(1.0, obf, &[5], 10), Err(DesignError::Alpha));
        assert_eq!(Design::new(0.05, obf, &[5], 0), Err(DesignError::MaxUnits));
        assert_eq!(
            Design::new(0.05, obf, &[5, 4], 10),
            Err(DesignError::Decreasing(1))
        );
    }

    #[test]
    fn a_look_spending_nothing_cannot_cross() {
        // t = 0.001: O'Brien–Fleming spends less than the smallest double.
        let d = Design::new(0.05, Spending::OBrienFleming, &[100, 50_000], 100_000).expect("valid");
        assert_eq!(d.bounds[0], None);
        let b = boundaries(0.05, Spending::OBrienFleming, &[0.5]).expect("valid");
        assert_eq!(d.bounds[1], Some(b.z_bounds[0]));
        let g = analyze(&d, &[look(1.0, 0.01), look(0.0, 0.01)]).expect("valid");
        assert_eq!(g.crossed_at, None);
    }

    #[test]
    fn crossing_persists_and_p_agrees() {
        let d =
            Design::new(0.05, Spending::OBrienFleming, &[500, 1_000, 1_500], 2_000).expect("valid");
        let b0 = d.bounds[0].expect("bound");
        // Crossed at look 0 by a hair, then the estimate drifts back to 0.
        let g =
            analyze(&d, &[look(b0 + 1e-6, 1.0), look(1.0, 1.0), look(0.1, 1.0)]).expect("valid");
        assert_eq!(g.crossed_at, Some(0));
        assert!(g.significant() && g.p_value < 0.05, "{}", g.p_value);
        let (low, high) = g.ci.expect("interval");
        assert!(low > 0.0 && high >= low, "{low} {high}");
        // Never crossed: p ≥ α, interval covers 0.
        let g = analyze(&d, &[look(1.0, 1.0), look(2.0, 1.0), look(2.2, 1.0)]).expect("ok");
        assert_eq!(g.crossed_at, None);
        assert!(g.p_value >= 0.05 && g.p_value <= 1.0);
        let (low, high) = g.ci.expect("interval");
        assert!(low < 0.0 && high > 0.0);
    }

    #[test]
    fn repeated_p_value_is_the_level_that_just_crosses() {
        let d = Design::new(0.05, Spending::Pocock, &[1_000, 2_000], 2_000).expect("valid");
        let g = analyze(&d, &[look(0.5, 1.0), look(2.1, 1.0)]).expect("valid");
        // At α' = p the last bound equals |z| = 2.1 (the first look cannot
        // matter: |z_1| = 0.5 is far below every bound near p).
        let at_p = d.at_alpha(g.p_value, 2).expect("valid");
        assert!((at_p[1].expect("bound") - 2.1).abs() < 1e-5, "{at_p:?}");
        // A single final look is the fixed-horizon test.
        let d = Design::new(0.05, Spending::OBrienFleming, &[10], 10).expect("valid");
        let g = analyze(&d, &[look(2.5, 1.0)]).expect("valid");
        let fixed = 2.0 * normal_sf(2.5);
        assert!(
            (g.p_value - fixed).abs() < 1e-6 * fixed,
            "{} vs {fixed}",
            g.p_value
        );
    }

    #[test]
    fn no_information_means_p_one() {
        let d = Design::new(0.05, Spending::Pocock, &[10, 20], 40).expect("valid");
        let g = analyze(&d, &[look(0.0, 0.0), look(0.3, 0.0)]).expect("valid");
        assert_eq!(g.p_value, 1.0);
        assert_eq!(g.ci, None);
        assert_eq!(analyze(&d, &[look(0.0, 1.0)]), None);
    }

    #[test]
    fn interim_looks_before_full_information() {
        let b = boundaries(0.05, Spending::OBrienFleming, &[0.3, 0.6]).expect("valid");
        assert_eq!(b.z_bounds.len(), 2);
        assert!(b.z_bounds[0] > b.z_bounds[1] && b.cumulative_alpha[1] < 0.05);
    }

    #[test]
    fn inflation_factors_match_jennison_and_turnbull() {
        // Table 2.3 of Jennison & Turnbull (2000), α = 0.05, 1 − β = 0.8.
        for (spending, looks, expected) in [
            (Spending::OBrienFleming, 5, 1.026),
            (Spending::Pocock, 5, 1.207),
        ] {
            let i = inflation(0.05, spending, looks, 0.8).expect("design");
            // The Lan–DeMets spending versions are within 1% of the table's
            // classical boundaries.
            assert!(
                (i.factor - expected).abs() < 0.01 * expected,
                "{spending:?}: {}",
                i.factor
            );
            assert!(i.expected_fraction > 0.5 && i.expected_fraction < 1.0);
        }
        // One look is the fixed-horizon test (less the far tail's 1e-6 of
        // power, which the two-sided crossing counts and `z_α/2 + z_β` not).
        let one = inflation(0.05, Spending::OBrienFleming, 1, 0.8).unwrap();
        assert!((one.factor - 1.0).abs() < 1e-5, "{}", one.factor);
    }

    #[test]
    fn stopping_under_no_drift_spends_alpha() {
        let fractions = [0.2, 0.4, 0.6, 0.8, 1.0];
        let b = boundaries(0.05, Spending::Pocock, &fractions).unwrap();
        let bounds: Vec<Option<f64>> = b.z_bounds.iter().map(|&z| Some(z)).collect();
        let stops = stopping_probabilities(&fractions, &bounds, 0.0).unwrap();
        let total: f64 = stops.iter().sum();
        assert!((total - 0.05).abs() < 1e-6, "{total}");
    }
}
