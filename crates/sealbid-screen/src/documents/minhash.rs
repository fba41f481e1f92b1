//! MinHash signatures by one-permutation hashing with optimal densification.
//!
//! Classic MinHash applies `K` hash functions to every shingle (`O(n·K)`; with `K = 128` and 30,000
//! shingles per document that is 3.8 million multiplications a document). One-permutation hashing
//! (Li, Owen & Zhang, 2012) hashes each shingle once: the top bits of its 64-bit hash pick one of `K`
//! bins and each bin keeps the smallest hash it sees (`O(n + K)`). Two documents' bin `i` hold the same
//! value with probability equal to their Jaccard similarity, like one classic MinHash row; bins left
//! empty (short documents) borrow the value of a non-empty bin chosen by a fixed probe sequence
//! (Shrivastava, 2017, "optimal densification"), which keeps that property and makes the rows usable
//! for LSH banding.
use super::shingle::mix64;

/// Marks an empty signature (a document without shingles).
pub const EMPTY: u64 = u64::MAX;

/// A MinHash signature of `bins` rows.
pub type Signature = Vec<u64>;

/// The signature of a shingle-hash multiset (duplicates do not matter). All [`EMPTY`] if there is no
/// shingle. `bins` is at least 1.
pub fn signature(hashes: impl IntoIterator<Item = u64>, bins: usize) -> Signature {
    let bins = bins.max(1);
    let mut sig = vec![EMPTY; bins];
    let mut filled = vec![false; bins];
    for h in hashes {
        let bin = ((u128::from(h) * bins as u128) >> 64) as usize;
        if h <= sig[bin] {
            sig[bin] = h;
            filled[bin] = true;
        }
    }
    let nonempty = filled.iter().filter(|f| **f).count();
    if nonempty == 0 || nonempty == bins {
        return sig;
    }
    let out: Signature = (0..bins)
        .map(|i| {
            if filled[i] {
                return sig[i];
            }
            // Probe bins by a fixed hash sequence until a filled one; the expected number of probes
            // is bins / nonempty. Bounded, then a linear scan from the last probe.
            let mut probe = 0u64;
            loop {
                let j = ((u128::from(mix64(((i as u64) << 32) ^ probe ^ 0xd1b5_4a32_d192_ed03))
                    * bins as u128)
                    >> 64) as usize;
                if filled[j] {
                    return sig[j];
                }
                probe += 1;
                if probe > 64 * bins as u64 {
                    let k = (j..bins).chain(0..j).find(|&k| filled[k]).unwrap_or(j);
                    return sig[k];
                }
            }
        })
        .collect();
    out
}

/// Whether a signature came from an empty set.
pub fn is_empty(sig: &[u64]) -> bool {
    sig.iter().all(|&v| v == EMPTY)
}

/// The estimated Jaccard similarity: the share of rows where the signatures agree (0 if either is
/// empty or they differ in length).
pub fn estimate(a: &[u64], b: &[u64]) -> f64 {
    if a.len() != b.len() || a.is_empty() || is_empty(a) || is_empty(b) {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn set(range: std::ops::Range<u64>) -> Vec<u64> {
        range.map(mix64).collect()
    }

    #[test]
    fn estimates_jaccard_within_sampling_error() {
        // |A ∩ B| = 6,000, |A ∪ B| = 14,000: J = 0.4286.
        let a = set(0..10_000);
        let b = set(4_000..14_000);
        let est = estimate(&signature(a, 256), &signature(b, 256));
        assert!((est - 6.0 / 14.0).abs() < 0.1, "{est}");
        let same = estimate(&signature(set(0..500), 128), &signature(set(0..500), 128));
        assert_eq!(same, 1.0);
        let none = estimate(
            &signature(set(0..500), 128),
            &signature(set(500..1000), 128),
        );
        assert!(none < 0.05, "{none}");
    }

    #[test]
    fn densification_fills_every_bin_of_a_small_set() {
        let sig = signature(set(0..10), 128);
        assert!(sig.iter().all(|&v| v != EMPTY));
        // Same small set, same signature; overlapping small sets agree on some rows.
        assert_eq!(sig, signature(set(0..10), 128));
        let est = estimate(&sig, &signature(set(5..15), 128));
        assert!(est > 0.1 && est < 0.7, "{est}");
    }

    #[test]
    fn empty_sets() {
        let e = signature(Vec::new(), 64);
        assert!(is_empty(&e));
        assert_eq!(estimate(&e, &e), 0.0);
        assert_eq!(signature(set(0..3), 0).len(), 1);
    }
}
