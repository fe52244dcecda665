//! `unit_id` bookkeeping: units seen in more than one variant (mixed
//! assignment) or on more than one row of one variant (duplicates).
//!
//! Every row leaves a 24-byte sighting: a 128-bit hash of its unit id, its
//! variant and where its line starts. Each range sorts its own sightings (on
//! its own thread); the sorted runs are merged, and one pass over the equal
//! hashes counts units, mixed and duplicated ones. Sorting keeps the memory
//! access sequential — a hash table of millions of units misses the cache on
//! nearly every row, and was 30 times slower on 10M units. Memory is 24 bytes
//! a row: it grows with the file, up to the bound below.
//!
//! The rows recorded are bounded ([`Budget`]): past the most rows allowed
//! (`XOS_MAX_UNIT_ID_ROWS`, default [`crate::limits::MAX_UNIT_ID_ROWS`]) the
//! ranges stop recording and the caller refuses the file, so the check never
//! holds more than 24 bytes times that bound (plus one batch per range),
//! and the merge's buffer half as much again.
//!
//! Two different ids are confused only if their 128-bit hashes collide
//! (odds about n²/2¹²⁹: nil for any real file). The hash is XXH3's 128-bit
//! variant (`xxhash-rust`): fast and not cryptographic, which is enough as
//! the file is the user's own data, not an attacker's.

/// Example ids kept for each kind of assignment problem.
pub const ASSIGNMENT_EXAMPLES: usize = 5;

/// The sightings of one range (or, merged, of the file).
#[derive(Default)]
pub(super) struct Units {
    sightings: Vec<Sighting>,
    /// Rows seen since the last report to the [`Budget`].
    pending: u64,
    /// The budget ran out: this range stopped recording.
    over: bool,
}

/// The most rows the ranges of one file may record together, counted in
/// batches so that the ranges' threads rarely touch the shared count.
pub(super) struct Budget {
    max: u64,
    batch: u64,
    used: std::sync::atomic::AtomicU64,
}

impl Budget {
    /// A budget of `max` rows.
    pub(super) fn new(max: u64) -> Budget {
        Budget {
            max,
            batch: (max / 64).clamp(1, 1 << 16),
            used: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The most rows allowed.
    pub(super) fn max(&self) -> u64 {
        self.max
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Sighting {
    hash: u128,
    /// Offset of the row's line start << 6 | the variant (below 64).
    at: u64,
}

const VARIANT_BITS: u32 = 6;

/// What one pass over the sorted sightings finds.
#[derive(Debug, PartialEq)]
pub(super) struct Counted {
    pub units: u64,
    pub mixed: u64,
    pub duplicated: u64,
    /// Line starts of the first rows of the first mixed / duplicated units,
    /// in file order: the caller reads their ids back from the file.
    pub mixed_at: Vec<u64>,
    pub duplicated_at: Vec<u64>,
}

impl Units {
    /// Records a row of unit `id` in `variant` (below 64) whose line starts
    /// at stream offset `offset`.
    /// Past `budget` (with the other ranges' rows), it records nothing more
    /// and [`Units::over`] says so.
    #[inline]
    pub(super) fn see(&mut self, id: &[u8], variant: usize, offset: u64, budget: &Budget) {
        if self.over {
            return;
        }
        self.pending += 1;
        if self.pending == budget.batch {
            self.pending = 0;
            let used = budget
                .used
                .fetch_add(budget.batch, std::sync::atomic::Ordering::Relaxed);
            if used + budget.batch > budget.max {
                self.over = true;
                return;
            }
        }
        self.sightings.push(Sighting {
            hash: hash128(id),
            at: offset << VARIANT_BITS | variant as u64,
        });
    }

    /// Room for `more` rows, so the list is not copied as it grows.
    pub(super) fn reserve(&mut self, more: usize) {
        self.sightings.reserve(more);
    }

    /// Sorts by unit; ranges call it on their own threads.
    pub(super) fn sort(&mut self) {
        self.sightings.sort_unstable();
    }

    /// Appends a later range's sorted sightings (sort again before counting:
    /// the merge of sorted runs is linear).
    pub(super) fn merge(&mut self, other: Units) {
        self.over |= other.over;
        if self.sightings.is_empty() {
            self.sightings = other.sightings;
        } else {
            self.sightings.extend(other.sightings);
        }
    }

    /// Whether more rows than `budget` allows were seen.
    pub(super) fn over(&self, budget: &Budget) -> bool {
        self.over || self.sightings.len() as u64 > budget.max
    }

    pub(super) fn count(mut self) -> Counted {
        // Stable sort: it finds the ranges' sorted runs and merges them.
        self.sightings.sort();
        let mut counted = Counted {
            units: 0,
            mixed: 0,
            duplicated: 0,
            mixed_at: Vec::new(),
            duplicated_at: Vec::new(),
        };
        for unit in self.sightings.chunk_by(|a, b| a.hash == b.hash) {
            let mut variants = 0u64;
            let mut twice = false;
            for sighting in unit {
                let bit = 1u64 << (sighting.at & ((1 << VARIANT_BITS) - 1));
                twice |= variants & bit != 0;
                variants |= bit;
            }
            // INVARIANT: sorted by (hash, at), so a unit's first row comes first.
            let first = unit[0].at >> VARIANT_BITS;
            counted.units += 1;
            if variants.count_ones() > 1 {
                counted.mixed += 1;
                keep_earliest(&mut counted.mixed_at, first);
            }
            if twice {
                counted.duplicated += 1;
                keep_earliest(&mut counted.duplicated_at, first);
            }
        }
        counted
    }
}

/// Keeps the [`ASSIGNMENT_EXAMPLES`] smallest offsets, sorted.
fn keep_earliest(kept: &mut Vec<u64>, offset: u64) {
    let at = kept.partition_point(|&k| k < offset);
    if at < ASSIGNMENT_EXAMPLES {
        kept.insert(at, offset);
        kept.truncate(ASSIGNMENT_EXAMPLES);
    }
}

/// The unit id's 128-bit XXH3 hash (`xxhash-rust`).
#[inline]
fn hash128(id: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sightings_fold_into_mixed_and_duplicated() {
        let mut units = Units::default();
        let budget = Budget::new(u64::MAX);
        units.see(b"a", 0, 10, &budget);
        units.see(b"b", 1, 20, &budget);
        units.see(b"a", 1, 30, &budget);
        units.sort();
        let mut later = Units::default();
        later.see(b"b", 1, 40, &budget);
        later.see(b"c", 0, 50, &budget);
        later.see(b"a", 1, 60, &budget);
        later.see(b"d", 63, 70, &budget);
        later.sort();
        units.merge(later);
        assert_eq!(
            units.count(),
            Counted {
                units: 4,
                mixed: 1,
                duplicated: 2,
                mixed_at: vec![10],
                duplicated_at: vec![10, 20],
            }
        );
    }

    #[test]
    fn only_the_earliest_examples_are_kept() {
        let mut kept = Vec::new();
        for offset in [90, 10, 80, 20, 70, 30, 60, 40, 50] {
            keep_earliest(&mut kept, offset);
        }
        assert_eq!(kept, [10, 20, 30, 40, 50]);
    }

    #[test]
    fn hashes_tell_similar_ids_apart() {
        let mut hashes: Vec<u128> = (0..100_000)
            .map(|i| hash128(format!("100000{i:06}").as_bytes()))
            .chain([hash128(b""), hash128(b"\0"), hash128(b"\0\0")])
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 100_003);
    }

    #[test]
    fn the_budget_bounds_the_rows_of_all_ranges_together() {
        let run = |rows_per_range: u64, max: u64| {
            let budget = Budget::new(max);
            let mut merged = Units::default();
            for range in 0..2u64 {
                let mut units = Units::default();
                for row in 0..rows_per_range {
                    units.see(&row.to_le_bytes(), 0, range * 1000 + row, &budget);
                }
                assert!(units.sightings.len() as u64 <= max);
                merged.merge(units);
            }
            merged.over(&budget)
        };
        assert!(!run(50, 100));
        assert!(run(51, 100));
        assert!(run(1_000, 100));
    }
}
