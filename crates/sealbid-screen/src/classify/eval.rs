//! Evaluation helpers: ROC AUC (Mann–Whitney, ties counted half), balanced and plain accuracy, and
//! stratified fold assignment by tender (a tender's bids never land in two folds).
use std::collections::BTreeMap;

/// Area under the ROC curve as the Mann–Whitney statistic: the probability that a random positive
/// scores above a random negative, ties counting one half. `None` without both classes, or when a
/// score is not finite.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.len() != labels.len() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Mid-ranks (1-based) over tie groups.
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_pos += idx[i..=j].iter().filter(|&&k| labels[k]).count() as f64 * mid;
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    Some((rank_sum_pos - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Mean of the true-positive and true-negative rates; `None` without both classes.
pub fn balanced_accuracy(predicted: &[bool], labels: &[bool]) -> Option<f64> {
    if predicted.len() != labels.len() {
        return None;
    }
    let (mut tp, mut pos, mut tn, mut neg) = (0usize, 0usize, 0usize, 0usize);
    for (&p, &l) in predicted.iter().zip(labels) {
        if l {
            pos += 1;
            tp += usize::from(p);
        } else {
            neg += 1;
            tn += usize::from(!p);
        }
    }
    (pos > 0 && neg > 0).then(|| (tp as f64 / pos as f64 + tn as f64 / neg as f64) / 2.0)
}

/// Share of correct predictions; `None` for empty input.
pub fn accuracy(predicted: &[bool], labels: &[bool]) -> Option<f64> {
    if predicted.len() != labels.len() || labels.is_empty() {
        return None;
    }
    let right = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    Some(right as f64 / labels.len() as f64)
}

/// SplitMix64: a small, fixed, portable generator, so fold assignment is the same on every machine.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by rejection (no modulo bias).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n.max(1) as u64;
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let r = self.next_u64();
            if r < zone {
                return (r % n) as usize;
            }
        }
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Stratified `k`-fold assignment by group. `items` are `(group, stratum)` pairs — one per bid, or
/// one per tender — and every item of a group gets the same fold (the stratum of a group is that of
/// its first item). Within each stratum the groups are shuffled with `seed` and dealt round-robin,
/// continuing the deal across strata so fold sizes stay within one of each other. Deterministic.
pub fn assign_folds<G: Ord + Clone>(items: &[(G, usize)], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut stratum_of: BTreeMap<G, usize> = BTreeMap::new();
    let mut order: Vec<G> = Vec::new();
    for (g, s) in items {
        if !stratum_of.contains_key(g) {
            stratum_of.insert(g.clone(), *s);
            order.push(g.clone());
        }
    }
    let mut strata: BTreeMap<usize, Vec<G>> = BTreeMap::new();
    for g in order {
        let s = stratum_of.get(&g).copied().unwrap_or_default();
        strata.entry(s).or_default().push(g);
    }
    let mut rng = SplitMix64::new(seed);
    let mut fold_of: BTreeMap<G, usize> = BTreeMap::new();
    let mut next = 0usize;
    for (_, mut groups) in strata {
        rng.shuffle(&mut groups);
        for g in groups {
            fold_of.insert(g, next % k);
            next += 1;
        }
    }
    items
        .iter()
        .map(|(g, _)| fold_of.get(g).copied().unwrap_or_default())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn brute_auc(s: &[f64], l: &[bool]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &li) in l.iter().enumerate() {
            for (j, &lj) in l.iter().enumerate() {
                if li && !lj {
                    den += 1.0;
                    num += if s[i] > s[j] {
                        1.0
                    } else if s[i] == s[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        num / den
    }

    #[test]
    fn auc_perfect_reversed_and_constant() {
        let l = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &l), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &l), Some(0.0));
        assert_eq!(roc_auc(&[0.5; 4], &l), Some(0.5));
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[f64::NAN, 0.2], &[true, false]), None);
    }

    #[test]
    fn auc_counts_ties_half_like_mann_whitney() {
        // positives 0.5, 0.7; negatives 0.5, 0.3: pairs (0.5>0.5 tie)=0.5, (0.5>0.3)=1, (0.7>0.5)=1,
        // (0.7>0.3)=1 → 3.5/4.
        let s = [0.5, 0.7, 0.5, 0.3];
        let l = [true, true, false, false];
        assert_eq!(roc_auc(&s, &l), Some(0.875));
        // Against brute force on a tie-heavy sample.
        let mut rng = SplitMix64::new(7);
        let s: Vec<f64> = (0..200).map(|_| rng.below(6) as f64).collect();
        let l: Vec<bool> = (0..200).map(|_| rng.below(3) == 0).collect();
        let a = roc_auc(&s, &l).unwrap();
        assert!((a - brute_auc(&s, &l)).abs() < 1e-12);
    }

    #[test]
    fn balanced_accuracy_and_accuracy() {
        let l = [true, true, true, false];
        // Majority-class prediction: BA 0.5, accuracy 0.75.
        assert_eq!(balanced_accuracy(&[true; 4], &l), Some(0.5));
        assert_eq!(accuracy(&[true; 4], &l), Some(0.75));
        // TPR 2/3, TNR 1 → 5/6.
        let ba = balanced_accuracy(&[true, true, false, false], &l).unwrap();
        assert!((ba - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(balanced_accuracy(&[true], &[true]), None);
        assert_eq!(accuracy(&[], &[]), None);
    }

    #[test]
    fn folds_never_split_a_tender_and_are_stratified_and_deterministic() {
        // 60 tenders with 1..=7 bids each; every third tender is collusive.
        let mut items = Vec::new();
        for t in 0..60u32 {
            for _ in 0..=(t % 7) {
                items.push((format!("T{t}"), usize::from(t % 3 == 0)));
            }
        }
        let folds = assign_folds(&items, 5, 42);
        assert_eq!(folds, assign_folds(&items, 5, 42));
        let mut fold_of = BTreeMap::new();
        for ((g, _), f) in items.iter().zip(&folds) {
            assert_eq!(*fold_of.entry(g.clone()).or_insert(*f), *f, "{g} split");
        }
        // 20 collusive and 40 competitive tenders: 4 and 8 in each fold.
        for k in 0..5 {
            let pos = fold_of
                .iter()
                .filter(|(g, &f)| f == k && g[1..].parse::<u32>().unwrap() % 3 == 0)
                .count();
            let all = fold_of.values().filter(|&&f| f == k).count();
            assert_eq!((pos, all), (4, 12));
        }
        assert_ne!(folds, assign_folds(&items, 5, 43), "the seed matters");
    }
}
