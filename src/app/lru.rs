//! A map of kept values bounded by their total weight (events held, say), shared by
//! threads: the write path's convoy states and the convoy pages' details.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Values by key, at most `max` in total weight once a [`Bounded::put`] is done: when a
/// put takes the total over `max`, the least recently used entries go first, down to
/// three quarters of `max`, so that evicting is not paid again on every put.
pub struct Bounded<V> {
    inner: Mutex<Entries<V>>,
    max: usize,
    weight: fn(&V) -> usize,
}

struct Entries<V> {
    /// By key: (last use, value).
    entries: HashMap<String, (u64, V)>,
    total: usize,
    clock: u64,
}

impl<V> Bounded<V> {
    pub fn new(max: usize, weight: fn(&V) -> usize) -> Bounded<V> {
        Bounded {
            inner: Mutex::new(Entries {
                entries: HashMap::new(),
                total: 0,
                clock: 0,
            }),
            max,
            weight,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes the value kept under `key` and hands it over.
    pub fn take(&self, key: &str) -> Option<V> {
        let mut inner = self.lock();
        let (_, value) = inner.entries.remove(key)?;
        inner.total -= (self.weight)(&value);
        Some(value)
    }

    /// What `f` makes of the value kept under `key`, which counts as a use of it.
    pub fn get<R>(&self, key: &str, f: impl FnOnce(&V) -> R) -> Option<R> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let (used, value) = inner.entries.get_mut(key)?;
        *used = now;
        Some(f(value))
    }

    /// Keeps these values, each replacing what its key held, then evicts down to the
    /// bound. Evicted values are dropped after the lock is released: a long convoy's
    /// state takes a while to free, and other threads need not wait for it.
    pub fn put(&self, values: impl IntoIterator<Item = (String, V)>) {
        let mut evicted = Vec::new();
        {
            let mut inner = self.lock();
            for (key, value) in values {
                inner.clock += 1;
                let (now, w) = (inner.clock, (self.weight)(&value));
                inner.total += w;
                if let Some((_, old)) = inner.entries.insert(key, (now, value)) {
                    inner.total -= (self.weight)(&old);
                    evicted.push(old);
                }
            }
            if inner.total > self.max {
                let mut by_age: Vec<(u64, String)> = inner
                    .entries
                    .iter()
                    .map(|(key, (at, _))| (*at, key.clone()))
                    .collect();
                by_age.sort_unstable();
                for (_, key) in by_age {
                    if inner.total <= self.max * 3 / 4 {
                        break;
                    }
                    if let Some((_, old)) = inner.entries.remove(&key) {
                        inner.total -= (self.weight)(&old);
                        evicted.push(old);
                    }
                }
            }
        }
        drop(evicted);
    }

    /// The total weight kept.
    #[cfg(test)]
    fn weight(&self) -> usize {
        self.lock().total
    }
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    /// Values that are their own weight.
    fn weighed(cache_max: usize) -> Bounded<usize> {
        Bounded::new(cache_max, |w| *w)
    }

    fn kept(cache: &Bounded<usize>, of: &[&str]) -> Vec<String> {
        of.iter()
            .filter(|k| cache.get(k, |_| ()).is_some())
            .map(|k| k.to_string())
            .collect()
    }

    #[test]
    fn a_put_over_the_bound_evicts_the_least_recently_used_down_to_three_quarters() {
        let cache = weighed(10);
        cache.put([("a".to_string(), 3), ("b".to_string(), 3)]);
        cache.put([("c".to_string(), 3)]);
        // "a" is used, so "b" is now the least recently used.
        assert_eq!(cache.get("a", |w| *w), Some(3));
        assert_eq!(cache.weight(), 9);
        cache.put([("d".to_string(), 3)]);
        // 12 > 10: "b" goes (9 left), then "c" (6 ≤ 7.5).
        assert_eq!(kept(&cache, &["a", "b", "c", "d"]), ["a", "d"]);
        assert_eq!(cache.weight(), 6);
    }

    #[test]
    fn a_value_replaced_or_taken_no_longer_counts() {
        let cache = weighed(100);
        cache.put([("a".to_string(), 5)]);
        cache.put([("a".to_string(), 2)]);
        assert_eq!(cache.weight(), 2);
        assert_eq!(cache.take("a"), Some(2));
        assert_eq!(cache.take("a"), None);
        assert_eq!(cache.weight(), 0);
    }

    #[test]
    fn eviction_goes_by_last_use_not_by_weight() {
        let cache = weighed(10);
        cache.put([("heavy".to_string(), 8)]);
        cache.put([("a".to_string(), 2), ("b".to_string(), 2)]);
        // 12 > 10: the oldest goes, although the two light ones would have been enough.
        assert_eq!(kept(&cache, &["heavy", "a", "b"]), ["a", "b"]);
        assert_eq!(cache.weight(), 4);
    }
}
