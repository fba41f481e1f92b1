//! Longest shared runs between two normalised texts, grown from matching shingles.
use std::collections::HashMap;

/// A run of identical normalised characters: `a[a_start..a_start+len] == b[b_start..b_start+len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub a_start: usize,
    pub b_start: usize,
    pub len: usize,
}

/// Grows each seed `(i, j)` (positions where `a` and `b` agree) into the maximal run through it,
/// skipping seeds inside a run already found on the same diagonal. Runs shorter than `min_len` are
/// dropped. Sorted longest first.
pub fn grow(a: &[char], b: &[char], seeds: &[(usize, usize)], min_len: usize) -> Vec<Run> {
    let mut seeds: Vec<(usize, usize)> = seeds
        .iter()
        .copied()
        .filter(|&(i, j)| i < a.len() && j < b.len() && a[i] == b[j])
        .collect();
    // By diagonal, then position: a seed covered by the previous run on its diagonal is skipped.
    seeds.sort_unstable_by_key(|&(i, j)| (i as i64 - j as i64, i));
    let mut runs = Vec::new();
    let mut covered: Option<(i64, usize)> = None; // (diagonal, end in a)
    for (i, j) in seeds {
        let diag = i as i64 - j as i64;
        if covered.is_some_and(|(d, end)| d == diag && i < end) {
            continue;
        }
        let (mut s, mut t) = (i, j);
        while s > 0 && t > 0 && a[s - 1] == b[t - 1] {
            s -= 1;
            t -= 1;
        }
        let mut len = i - s;
        while s + len < a.len() && t + len < b.len() && a[s + len] == b[t + len] {
            len += 1;
        }
        covered = Some((diag, s + len));
        if len >= min_len {
            runs.push(Run {
                a_start: s,
                b_start: t,
                len,
            });
        }
    }
    runs.sort_unstable_by(|x, y| {
        y.len
            .cmp(&x.len)
            .then(x.a_start.cmp(&y.a_start))
            .then(x.b_start.cmp(&y.b_start))
    });
    runs
}

/// Keeps runs (longest first) that overlap no kept run on either side by more than half, up to `max`.
pub fn distinct(runs: Vec<Run>, max: usize) -> Vec<Run> {
    let overlap = |s1: usize, l1: usize, s2: usize, l2: usize| {
        let lo = s1.max(s2);
        let hi = (s1 + l1).min(s2 + l2);
        hi.saturating_sub(lo)
    };
    let mut kept: Vec<Run> = Vec::new();
    for r in runs {
        if kept.len() >= max {
            break;
        }
        let clash = kept.iter().any(|k| {
            overlap(r.a_start, r.len, k.a_start, k.len) * 2 > r.len
                || overlap(r.b_start, r.len, k.b_start, k.len) * 2 > r.len
        });
        if !clash {
            kept.push(r);
        }
    }
    kept
}

/// Seeds for two whole texts: each position of `a` whose shingle occurs in `b` (first occurrence).
pub fn shingle_seeds(a_hashes: &[u64], b_hashes: &[u64]) -> Vec<(usize, usize)> {
    let mut first: HashMap<u64, usize> = HashMap::with_capacity(b_hashes.len());
    for (j, h) in b_hashes.iter().enumerate() {
        first.entry(*h).or_insert(j);
    }
    a_hashes
        .iter()
        .enumerate()
        .filter_map(|(i, h)| first.get(h).map(|&j| (i, j)))
        .collect()
}

/// The longest shared runs of two texts (at most `max`, each at least `min_len` characters).
pub fn longest_shared(
    a: &[char],
    a_hashes: &[u64],
    b: &[char],
    b_hashes: &[u64],
    min_len: usize,
    max: usize,
) -> Vec<Run> {
    distinct(grow(a, b, &shingle_seeds(a_hashes, b_hashes), min_len), max)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::shingle::shingle_hashes;
    use super::*;

    #[test]
    fn grows_maximal_runs() {
        let a: Vec<char> = "甲乙丙丁戊己庚辛壬癸子丑寅卯".chars().collect();
        let b: Vec<char> = "天地丙丁戊己庚辛玄黄子丑寅卯".chars().collect();
        let ha = shingle_hashes(&a, 3);
        let hb = shingle_hashes(&b, 3);
        let runs = longest_shared(&a, &ha, &b, &hb, 3, 5);
        assert_eq!(
            runs,
            vec![
                Run {
                    a_start: 2,
                    b_start: 2,
                    len: 6
                },
                Run {
                    a_start: 10,
                    b_start: 10,
                    len: 4
                }
            ]
        );
        assert_eq!(longest_shared(&a, &ha, &b, &hb, 5, 5).len(), 1);
    }
}
