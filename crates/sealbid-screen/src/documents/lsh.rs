//! Locality-sensitive hashing by banding: split each signature into `bands` bands of `rows` rows; two
//! documents are candidates when they agree on every row of at least one band. A pair with Jaccard
//! similarity `s` becomes a candidate with probability `1 − (1 − s^rows)^bands`; with the defaults
//! (32 bands of 4 rows) that is 0.87 at `s = 0.5`, 0.99 at `s = 0.6` and 0.23 at `s = 0.3`, so the
//! verification step sees few pairs below the threshold and misses few above it.
use std::collections::HashMap;

use rayon::prelude::*;

use super::minhash::{is_empty, Signature};
use super::shingle::mix64;

/// The probability that a pair of similarity `s` becomes a candidate.
pub fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    let rows = i32::try_from(rows).unwrap_or(i32::MAX);
    let bands = i32::try_from(bands).unwrap_or(i32::MAX);
    1.0 - (1.0 - s.clamp(0.0, 1.0).powi(rows)).powi(bands)
}

/// Candidate pairs `(i, j)`, `i < j`, sorted and deduplicated, among the signatures for which `keep`
/// holds (e.g. documents of different bidders). Empty signatures are never candidates. Uses the
/// first `bands · rows` rows; `rows` at least 1.
pub fn candidates(
    sigs: &[Signature],
    bands: usize,
    rows: usize,
    keep: impl Fn(usize, usize) -> bool + Sync,
) -> Vec<(usize, usize)> {
    let rows = rows.max(1);
    let len = sigs.iter().map(Vec::len).min().unwrap_or(0);
    let bands = bands.min(len / rows);
    let live: Vec<usize> = (0..sigs.len()).filter(|&i| !is_empty(&sigs[i])).collect();
    let mut pairs: Vec<(usize, usize)> = (0..bands)
        .into_par_iter()
        .flat_map_iter(|band| {
            let mut buckets: HashMap<u64, Vec<usize>> = HashMap::new();
            for &i in &live {
                let rows = &sigs[i][band * rows..(band + 1) * rows];
                let key = rows
                    .iter()
                    .fold(mix64(band as u64), |acc, &v| mix64(acc ^ v));
                buckets.entry(key).or_default().push(i);
            }
            let mut out = Vec::new();
            for docs in buckets.values().filter(|d| d.len() > 1) {
                for (a, &i) in docs.iter().enumerate() {
                    for &j in &docs[a + 1..] {
                        // Same key by a 64-bit collision but different rows: not a candidate.
                        let (x, y) = (i.min(j), i.max(j));
                        if sigs[x][band * rows..(band + 1) * rows]
                            == sigs[y][band * rows..(band + 1) * rows]
                            && keep(x, y)
                        {
                            out.push((x, y));
                        }
                    }
                }
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::minhash::signature;
    use super::*;

    #[test]
    fn finds_similar_pairs_and_honours_keep() {
        let doc = |r: std::ops::Range<u64>| signature(r.map(mix64), 128);
        let sigs = vec![
            doc(0..1000),
            doc(50..1050), // J ≈ 0.9 with 0
            doc(5000..6000),
            doc(0..1000), // identical to 0
            signature(Vec::new(), 128),
        ];
        let all = candidates(&sigs, 32, 4, |_, _| true);
        assert!(all.contains(&(0, 1)) && all.contains(&(0, 3)) && all.contains(&(1, 3)));
        assert!(!all.iter().any(|&(i, j)| i == 2 || j == 2 || j == 4));
        let some = candidates(&sigs, 32, 4, |i, j| !(i == 0 && j == 3));
        assert!(!some.contains(&(0, 3)) && some.contains(&(0, 1)));
    }

    #[test]
    fn s_curve() {
        assert!((candidate_probability(0.5, 32, 4) - 0.873).abs() < 0.01);
        assert!(candidate_probability(0.3, 32, 4) < 0.25);
        assert_eq!(candidate_probability(1.0, 32, 4), 1.0);
    }
}
