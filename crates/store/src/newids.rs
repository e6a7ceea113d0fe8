//! The `_id`s a writer added to a dataset that had none when the writer opened (a first load),
//! as a Bloom filter: "certainly not written yet" lets change detection skip the `_id`-index
//! lookup, since every index entry of such a dataset was written by this writer (it holds the
//! dataset's lock). "Maybe" falls back to the lookup, so a false positive costs time, never
//! correctness. About 1.3 bytes per `_id`, at most `MAX_BYTES` in all: a larger first load
//! stops adding to the filters, and every later lookup is a "maybe" (memory stays flat, the
//! ids past that point take the index lookup).

use std::hash::BuildHasher;

/// Bits per `_id`: ~1% false positives with `PROBES` probes in a 512-bit block.
const BITS_PER_ID: usize = 10;
const PROBES: u32 = 6;
/// Capacity of the first filter (10 KiB); each next one holds `GROWTH` times as many.
const FIRST_CAPACITY: usize = 1 << 13;
const GROWTH: usize = 4;
/// Memory for all filters: 8 Ki + 32 Ki + 128 Ki + 512 Ki + 2 Mi `_id`s fit (3.3 MiB).
const MAX_BYTES: usize = 4 << 20;

/// One filter: 512-bit blocks (a cache line), each `_id` sets `PROBES` bits in one block.
struct Filter {
    blocks: Vec<[u64; 8]>,
    capacity: usize,
    len: usize,
}

impl Filter {
    fn new(capacity: usize) -> Filter {
        let blocks = (capacity * BITS_PER_ID).div_ceil(512).max(1);
        Filter {
            blocks: vec![[0; 8]; blocks],
            capacity,
            len: 0,
        }
    }

    /// The block and the bit positions (0..512) of hash `h`: the block from its high 32 bits,
    /// the positions (9 bits each) from its low 32 bits, spread by a multiplication.
    fn probes(&self, h: u64) -> (usize, impl Iterator<Item = usize>) {
        let block = (((h >> 32) * self.blocks.len() as u64) >> 32) as usize;
        let bits = (h & 0xffff_ffff).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 10;
        (
            block,
            (0..PROBES).map(move |i| ((bits >> (9 * i)) & 511) as usize),
        )
    }

    fn insert(&mut self, h: u64) {
        let (b, probes) = self.probes(h);
        let block = &mut self.blocks[b];
        for p in probes {
            block[p / 64] |= 1 << (p % 64);
        }
        self.len += 1;
    }

    fn may_contain(&self, h: u64) -> bool {
        let (b, mut probes) = self.probes(h);
        let block = &self.blocks[b];
        probes.all(|p| block[p / 64] & (1 << (p % 64)) != 0)
    }
}

/// The filters (a new, larger one is started when the last is full; none is ever rebuilt).
pub(crate) struct NewIds {
    filters: Vec<Filter>,
    hasher: foldhash::fast::FixedState,
    max_bytes: usize,
    /// Set when the next filter would pass `max_bytes`: ids are no longer recorded, so
    /// every id may have been inserted.
    full: bool,
}

impl Default for NewIds {
    fn default() -> Self {
        NewIds {
            filters: vec![Filter::new(FIRST_CAPACITY)],
            hasher: foldhash::fast::FixedState::with_seed(0x5eed_1d5),
            max_bytes: MAX_BYTES,
            full: false,
        }
    }
}

impl NewIds {
    pub fn insert(&mut self, id: &str) {
        if self.full {
            return;
        }
        let h = self.hasher.hash_one(id);
        let last = self.filters.last().expect("at least one filter");
        if last.len >= last.capacity {
            let cap = last.capacity * GROWTH;
            let bytes: usize = self.filters.iter().map(|f| f.blocks.len() * 64).sum();
            if bytes + (cap * BITS_PER_ID).div_ceil(8) > self.max_bytes {
                self.full = true;
                return;
            }
            self.filters.push(Filter::new(cap));
        }
        self.filters
            .last_mut()
            .expect("at least one filter")
            .insert(h);
    }

    /// False: `id` was certainly not inserted.
    pub fn may_contain(&self, id: &str) -> bool {
        if self.full {
            return true;
        }
        let h = self.hasher.hash_one(id);
        self.filters.iter().any(|f| f.may_contain(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut s = NewIds::default();
        let n = 300_000; // spans four filters (8 Ki, 32 Ki, 128 Ki, 512 Ki)
        for i in 0..n {
            s.insert(&format!("contact-{i}"));
        }
        assert_eq!(s.filters.len(), 4);
        for i in 0..n {
            assert!(s.may_contain(&format!("contact-{i}")), "lost contact-{i}");
        }
        let fp = (n..2 * n)
            .filter(|i| s.may_contain(&format!("contact-{i}")))
            .count();
        // Four filters at ~1% each; the filter is useless well before 10%.
        assert!(fp < n / 20, "{fp} false positives of {n}");
    }

    #[test]
    fn stops_growing_at_its_budget_and_then_answers_maybe() {
        let mut s = NewIds {
            max_bytes: 50 << 10, // the 10 KiB and 40 KiB filters fit, the next does not
            ..NewIds::default()
        };
        let n = 100_000;
        for i in 0..n {
            s.insert(&format!("contact-{i}"));
        }
        assert_eq!(s.filters.len(), 2);
        let bytes: usize = s.filters.iter().map(|f| f.blocks.len() * 64).sum();
        assert!(bytes <= 50 << 10, "{bytes} bytes");
        // Ids past the budget were not recorded: they must still be "maybe".
        for i in 0..n {
            assert!(s.may_contain(&format!("contact-{i}")), "lost contact-{i}");
        }
        assert!(s.may_contain("never-inserted"));
    }
}
