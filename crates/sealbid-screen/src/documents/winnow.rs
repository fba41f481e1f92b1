//! Winnowing fingerprints (Schleimer, Wilkerson & Aiken, 2003): in every window of `w` consecutive
//! shingle hashes keep the smallest (the rightmost on ties), once. Any shared run of at least
//! `w + k − 1` normalised characters yields at least one shared fingerprint, and a text of `n`
//! shingles keeps about `2n / (w + 1)` of them, so fingerprints index a tender's documents cheaply.
//!
//! Two uses here: the overlap of two documents' fingerprint sets estimates how much of one is
//! contained in the other (candidates for the containment check), and fingerprints shared by few
//! bidders and absent from the tender's own documents mark *rare shared passages*, the classic one
//! being an identical typing error.
use std::collections::{HashMap, HashSet};

/// `(hash, position)` fingerprints of a shingle-hash sequence; window `w` at least 1.
pub fn fingerprints(hashes: &[u64], w: usize) -> Vec<(u64, usize)> {
    let w = w.max(1);
    let mut out: Vec<(u64, usize)> = Vec::new();
    if hashes.is_empty() {
        return out;
    }
    if hashes.len() <= w {
        let (pos, h) = hashes
            .iter()
            .enumerate()
            .rev()
            .min_by_key(|(_, h)| **h)
            .map(|(i, h)| (i, *h))
            .unwrap_or((0, hashes[0]));
        out.push((h, pos));
        return out;
    }
    // Monotone deque of positions with increasing hashes: the front is the window's minimum.
    let mut deque: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut last: Option<usize> = None;
    for (i, &h) in hashes.iter().enumerate() {
        while deque.back().is_some_and(|&b| hashes[b] >= h) {
            deque.pop_back();
        }
        deque.push_back(i);
        if i + 1 >= w {
            while deque.front().is_some_and(|&f| f + w <= i) {
                deque.pop_front();
            }
            if let Some(&m) = deque.front() {
                if last != Some(m) {
                    out.push((hashes[m], m));
                    last = Some(m);
                }
            }
        }
    }
    out
}

/// An inverted index from fingerprint hash to the documents holding it (each document once).
pub struct Index {
    pub postings: HashMap<u64, Vec<usize>>,
    /// Distinct fingerprints per document.
    pub counts: Vec<usize>,
}

impl Index {
    /// Indexes each document's fingerprints, leaving out those in `excluded` (boilerplate).
    pub fn new(docs: &[Vec<(u64, usize)>], excluded: &HashSet<u64>) -> Self {
        let mut postings: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut counts = vec![0; docs.len()];
        for (d, fps) in docs.iter().enumerate() {
            for &(h, _) in fps {
                if excluded.contains(&h) {
                    continue;
                }
                let list = postings.entry(h).or_default();
                if list.last() != Some(&d) {
                    list.push(d);
                    counts[d] += 1;
                }
            }
        }
        Self { postings, counts }
    }

    /// Number of shared fingerprints for every pair of documents `(i, j)`, `i < j`, that share any
    /// and for which `keep` holds. Fingerprints held by more than `max_docs` documents are skipped
    /// (common text; bounds the cost).
    pub fn shared_counts(
        &self,
        max_docs: usize,
        keep: impl Fn(usize, usize) -> bool,
    ) -> HashMap<(usize, usize), usize> {
        let mut out: HashMap<(usize, usize), usize> = HashMap::new();
        for docs in self.postings.values() {
            if docs.len() < 2 || docs.len() > max_docs {
                continue;
            }
            for (a, &i) in docs.iter().enumerate() {
                for &j in &docs[a + 1..] {
                    if keep(i, j) {
                        *out.entry((i, j)).or_default() += 1;
                    }
                }
            }
        }
        out
    }
}

/// Positions `(i, j)` where documents `a` and `b` share a fingerprint that `rare` accepts.
pub fn shared_positions(
    a: &[(u64, usize)],
    b: &[(u64, usize)],
    rare: impl Fn(u64) -> bool,
) -> Vec<(usize, usize)> {
    let mut in_b: HashMap<u64, usize> = HashMap::with_capacity(b.len());
    for &(h, p) in b {
        in_b.entry(h).or_insert(p);
    }
    a.iter()
        .filter(|(h, _)| rare(*h))
        .filter_map(|&(h, i)| in_b.get(&h).map(|&j| (i, j)))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::shingle::shingle_hashes;
    use super::*;

    /// The paper's definition, quadratic: for each window, its rightmost minimum.
    fn naive(hashes: &[u64], w: usize) -> Vec<(u64, usize)> {
        let mut out: Vec<(u64, usize)> = Vec::new();
        for start in 0..=hashes.len().saturating_sub(w) {
            let win = &hashes[start..(start + w).min(hashes.len())];
            let (off, h) = win
                .iter()
                .enumerate()
                .rev()
                .min_by_key(|(_, h)| **h)
                .unwrap();
            let pos = start + off;
            if out.last().map(|l| l.1) != Some(pos) {
                out.push((*h, pos));
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_and_guarantees_detection() {
        let text: Vec<char> =
            "本工程质量标准为合格，安全文明施工达到省级标准化工地要求，工期一百八十日历天"
                .chars()
                .collect();
        let hashes = shingle_hashes(&text, 3);
        for w in [1, 2, 4, 7] {
            assert_eq!(fingerprints(&hashes, w), naive(&hashes, w), "w={w}");
        }
        // Ties: rightmost minimum.
        assert_eq!(fingerprints(&[5, 1, 1, 9], 2), vec![(1, 1), (1, 2)]);
        // A shared run of w + k − 1 = 6 characters anywhere shares a fingerprint.
        let other: Vec<char> = "某某公司承诺安全文明施工达到某某要求".chars().collect();
        let fa: HashSet<u64> = fingerprints(&hashes, 4).into_iter().map(|f| f.0).collect();
        let fb = fingerprints(&shingle_hashes(&other, 3), 4);
        assert!(fb.iter().any(|f| fa.contains(&f.0)));
    }

    #[test]
    fn index_counts_shared_fingerprints() {
        let docs = vec![
            vec![(1, 0), (2, 5), (3, 9)],
            vec![(2, 0), (3, 4), (3, 8)],
            vec![(3, 1), (7, 2)],
        ];
        let idx = Index::new(&docs, &HashSet::from([7]));
        assert_eq!(idx.counts, vec![3, 2, 1]);
        let shared = idx.shared_counts(10, |_, _| true);
        assert_eq!(shared[&(0, 1)], 2);
        assert_eq!(shared[&(0, 2)], 1);
        let capped = idx.shared_counts(2, |_, _| true);
        assert_eq!(capped.get(&(0, 2)), None);
        assert_eq!(capped[&(0, 1)], 1);
        assert_eq!(
            shared_positions(&docs[0], &docs[1], |h| h == 3),
            vec![(9, 4)]
        );
    }
}
