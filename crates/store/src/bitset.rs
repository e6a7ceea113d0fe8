//! The "seen during this full run" bitset: one bit per dense entity number, persisted in
//! 128-byte chunks; only chunks changed since the last commit are rewritten.

/// Ids per persisted chunk (128 bytes).
pub const CHUNK_BITS: u64 = 1024;
const CHUNK_WORDS: usize = (CHUNK_BITS / 64) as usize;

#[derive(Debug, Default)]
pub struct SeenSet {
    words: Vec<u64>,
    /// Chunks changed since the last `take_dirty`, plus a bit per chunk to dedup them.
    dirty: Vec<u32>,
    dirty_mark: Vec<u64>,
}

impl SeenSet {
    pub fn contains(&self, n: u64) -> bool {
        self.words
            .get((n / 64) as usize)
            .is_some_and(|w| w & (1 << (n % 64)) != 0)
    }

    pub fn insert(&mut self, n: u64) {
        let w = (n / 64) as usize;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let bit = 1u64 << (n % 64);
        if self.words[w] & bit != 0 {
            return;
        }
        self.words[w] |= bit;
        let c = n / CHUNK_BITS;
        let cw = (c / 64) as usize;
        if cw >= self.dirty_mark.len() {
            self.dirty_mark.resize(cw + 1, 0);
        }
        if self.dirty_mark[cw] & (1 << (c % 64)) == 0 {
            self.dirty_mark[cw] |= 1 << (c % 64);
            self.dirty.push(c as u32);
        }
    }

    /// The chunks changed since the last call, and forgets them.
    pub fn take_dirty(&mut self) -> Vec<u32> {
        self.dirty_mark.iter_mut().for_each(|w| *w = 0);
        std::mem::take(&mut self.dirty)
    }

    /// The stored bytes of a chunk (16 little-endian words).
    pub fn chunk_bytes(&self, c: u32) -> Vec<u8> {
        let start = c as usize * CHUNK_WORDS;
        (start..start + CHUNK_WORDS)
            .flat_map(|i| self.words.get(i).copied().unwrap_or(0).to_le_bytes())
            .collect()
    }

    /// Restores a chunk read back from storage (not marked dirty).
    pub fn load_chunk(&mut self, c: u32, bytes: &[u8]) {
        let start = c as usize * CHUNK_WORDS;
        if self.words.len() < start + CHUNK_WORDS {
            self.words.resize(start + CHUNK_WORDS, 0);
        }
        for (i, b) in bytes.chunks_exact(8).take(CHUNK_WORDS).enumerate() {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            self.words[start + i] = u64::from_le_bytes(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_and_dirty_is_deduplicated() {
        let mut s = SeenSet::default();
        for n in [0, 5, 1023, 1024, 5000, 5] {
            s.insert(n);
        }
        assert_eq!(s.take_dirty(), vec![0, 1, 4]);
        assert!(s.take_dirty().is_empty());
        let mut t = SeenSet::default();
        for c in [0, 1, 4] {
            t.load_chunk(c, &s.chunk_bytes(c));
        }
        for n in 0..6000 {
            assert_eq!(s.contains(n), t.contains(n), "{n}");
        }
        assert!(t.take_dirty().is_empty());
    }
}
