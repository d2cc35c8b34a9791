//! [`Shard`]: one part of a stable partition of item ids, for splitting one list across
//! machines with no coordination.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::error::{invalid, BatchError};

/// Part `number` of `count` of a partition of item ids, counted from 1 (`1/4` … `4/4`), as
/// `--shard` is in Jest, Playwright and Vitest. An id belongs to part 1 + (the first 8 bytes
/// of its SHA-256, big-endian, modulo `count`): the same on every machine, every run and every
/// Rust release, and every id is in exactly one part.
///
/// ```
/// use removebgvideo::batch::Shard;
///
/// let shard: Shard = "1/4".parse()?;
/// let mine = ["a", "b", "c", "d", "e"].iter().filter(|id| shard.contains(id)).count();
/// # let _ = mine;
/// # Ok::<(), removebgvideo::batch::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 0, below `count`.
    index: u32,
    count: u32,
}

impl Shard {
    /// Part `number` (from 1) of `count`.
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] when `count` is 0, `number` is 0 (parts count from 1) or
    /// `number` is above `count`.
    pub fn new(number: u32, count: u32) -> Result<Self, BatchError> {
        if count == 0 {
            return Err(invalid("shard", "a shard count must be at least 1"));
        }
        if number == 0 {
            return Err(invalid(
                "shard",
                format!("shard 0/{count}: shards count from 1, as in 1/{count} … {count}/{count}"),
            ));
        }
        if number > count {
            return Err(invalid("shard", format!("shard {number}/{count}: the part must be from 1 to {count}")));
        }
        Ok(Self { index: number - 1, count })
    }

    /// The part, from 1.
    #[must_use]
    pub fn number(&self) -> u32 {
        self.index + 1
    }

    /// How many parts.
    #[must_use]
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether the item with this id is in this part.
    #[must_use]
    pub fn contains(&self, item_id: &str) -> bool {
        part_of(item_id, self.count) == self.index
    }
}

/// The part of `count` that `item_id` belongs to.
fn part_of(item_id: &str, count: u32) -> u32 {
    let digest = Sha256::digest(item_id.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    // `count` is at least 1 (checked in `Shard::new`); the remainder is below it, so it fits.
    u32::try_from(u64::from_be_bytes(head) % u64::from(count)).unwrap_or_default()
}

impl FromStr for Shard {
    type Err = BatchError;

    /// Reads `I/N` counted from 1, for example `1/4`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || invalid("shard", format!("shard {text:?} is not I/N counted from 1 (for example 1/4)"));
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index = index.trim().parse().map_err(|_| bad())?;
        let count = count.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number(), self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_fixed_values() {
        // Pinned (computed independently with Python's hashlib): a change here would move items
        // between machines in the middle of a batch.
        let parts: Vec<u32> = ["a", "b", "video-0001", ""].iter().map(|id| part_of(id, 7)).collect();
        let again: Vec<u32> = ["a", "b", "video-0001", ""].iter().map(|id| part_of(id, 7)).collect();
        assert_eq!(parts, again);
        assert_eq!(part_of("a", 1), 0);
        assert_eq!(parts, PINNED);
    }

    const PINNED: [u32; 4] = [4, 0, 5, 1];

    #[test]
    fn bad_shards_are_refused() {
        assert!(Shard::new(0, 0).is_err());
        assert!(Shard::new(4, 3).is_err());
        assert!(Shard::new(u32::MAX, u32::MAX - 1).is_err());
        for text in ["", "1", "a/b", "1/0", "3/2", "-1/2", "1/2/3", "0/2"] {
            assert!(text.parse::<Shard>().is_err(), "{text:?}");
        }
        let zero = "0/4".parse::<Shard>().unwrap_err().to_string();
        assert!(zero.contains("count from 1"), "{zero}");
        assert_eq!("2/3".parse::<Shard>().unwrap(), Shard::new(2, 3).unwrap());
        assert_eq!(Shard::new(2, 3).unwrap().to_string(), "2/3");
        assert_eq!(Shard::new(3, 3).unwrap().number(), 3);
        // Every id is in exactly one of the parts 1..=N.
        let parts: Vec<Shard> = (1..=3).map(|n| Shard::new(n, 3).unwrap()).collect();
        for id in ["a", "b", "c", "video-0001", ""] {
            assert_eq!(parts.iter().filter(|shard| shard.contains(id)).count(), 1, "{id}");
        }
    }
}
