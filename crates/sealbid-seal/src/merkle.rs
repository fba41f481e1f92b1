//! The append-only Merkle log: RFC 6962 §2.1 hashing (as restated by RFC 9162 §2.1), proof generation
//! from stored subtree hashes, and the RFC 9162 §2.1.3.2 / §2.1.4.2 proof verifiers.
//!
//! # Storage model
//!
//! A log kept in a database stores the hash of every **complete** subtree as a node `(level, index)`:
//! the hash of leaves `[index·2^level, (index+1)·2^level)`, level 0 being the leaf hashes. A tree of size
//! `n` therefore holds node `(level, index)` exactly when `(index+1)·2^level ≤ n`, and nodes never change
//! once written. [`append_nodes`] returns the nodes that become complete when one leaf is appended, so
//! the caller stores them in the same transaction as the leaf.
//!
//! Every RFC 6962 subtree that is not complete lies on the right edge of the tree and splits into
//! O(log n) complete nodes, so [`root`], [`inclusion_proof`] and [`consistency_proof`] read O(log n),
//! O(log² n) and O(log² n) nodes at most. The `nodes_for_*` functions list exactly the coordinates each
//! of them reads, so a caller can fetch them in one query and pass a [`NodeMap`].

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, a subtree hash or a tree root.
pub type Hash = [u8; 32];

/// Errors of the transparency log: Merkle proofs, signed notes and checkpoints.
///
/// [`LogError::code`] gives a stable snake_case code for APIs and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A Merkle proof, or the root or sizes it is checked against, does not verify.
    #[error("Merkle proof does not verify: {0}")]
    BadProof(&'static str),
    /// A leaf index or tree size lies outside the tree it refers to.
    #[error("index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The index (leaf index or old tree size) that was asked for.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A subtree hash that the computation needs is not stored.
    #[error("missing tree node at level {level}, index {index}")]
    MissingNode {
        /// Level of the node (0 = leaf hashes).
        level: u8,
        /// Index of the node within its level.
        index: u64,
    },
    /// A checkpoint body is malformed, or does not match the log that signed it.
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(String),
    /// A signed note is malformed (syntax, size or signature lines).
    #[error("malformed signed note: {0}")]
    BadNote(String),
    /// A signer or verifier key string is malformed.
    #[error("malformed note key: {0}")]
    BadKey(String),
    /// Two different configured verifier keys share one key name and key ID.
    #[error("ambiguous verifier key {0}")]
    AmbiguousKey(String),
    /// No signature on the note is from a known key.
    #[error("the note has no signature from a known key")]
    UnknownKey,
    /// A signature from a known key does not verify (the whole note is rejected).
    #[error("invalid signature for key {0}")]
    BadSignature(String),
}

impl LogError {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            LogError::BadProof(_) => "bad_proof",
            LogError::IndexOutOfRange { .. } => "index_out_of_range",
            LogError::MissingNode { .. } => "missing_node",
            LogError::BadCheckpoint(_) => "bad_checkpoint",
            LogError::BadNote(_) => "bad_note",
            LogError::BadKey(_) => "bad_key",
            LogError::AmbiguousKey(_) => "ambiguous_key",
            LogError::UnknownKey => "unknown_key",
            LogError::BadSignature(_) => "bad_signature",
        }
    }
}

/// RFC 6962 leaf hash: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Read access to the stored complete-subtree hashes of a log.
pub trait NodeReader {
    /// The hash of the complete subtree `(level, index)`, or [`LogError::MissingNode`].
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError>;
}

impl<R: NodeReader + ?Sized> NodeReader for &R {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        (**self).node(level, index)
    }
}

/// Nodes fetched in advance (for example in one database query), keyed by `(level, index)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeMap(pub HashMap<(u8, u64), Hash>);

impl NodeMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores one node.
    pub fn insert(&mut self, level: u8, index: u64, hash: Hash) {
        self.0.insert((level, index), hash);
    }

    /// Stores the nodes returned by [`append_nodes`].
    pub fn extend_nodes(&mut self, nodes: &[(u8, u64, Hash)]) {
        for &(level, index, hash) in nodes {
            self.0.insert((level, index), hash);
        }
    }

    /// Number of stored nodes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no node is stored.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<((u8, u64), Hash)> for NodeMap {
    fn from_iter<T: IntoIterator<Item = ((u8, u64), Hash)>>(iter: T) -> Self {
        NodeMap(iter.into_iter().collect())
    }
}

impl NodeReader for NodeMap {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or(LogError::MissingNode { level, index })
    }
}

/// The nodes that become complete when leaf number `size_before` (0-based) with hash `leaf` is appended
/// to a tree of `size_before` leaves, lowest level first, level 0 (the leaf itself) included.
///
/// Reads one left sibling per new interior node (at most 64 reads).
pub fn append_nodes(
    size_before: u64,
    leaf: Hash,
    reader: &impl NodeReader,
) -> Result<Vec<(u8, u64, Hash)>, LogError> {
    if size_before == u64::MAX {
        return Err(LogError::IndexOutOfRange {
            index: size_before,
            size: u64::MAX,
        });
    }
    let mut out = vec![(0u8, size_before, leaf)];
    let mut level = 0u8;
    let mut index = size_before;
    let mut hash = leaf;
    // A node is a right child when its index is odd; then its parent becomes complete with it.
    while index & 1 == 1 {
        let left = reader.node(level, index - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        index >>= 1;
        out.push((level, index, hash));
    }
    Ok(out)
}

/// Largest power of two strictly smaller than `n` (`n ≥ 2`): the RFC 6962 split point `k`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Hash of the RFC 6962 subtree over leaves `[start, end)`, where `start` is a multiple of the smallest
/// power of two ≥ `end - start` (true of every subtree the RFC's recursion visits). The range splits
/// into complete nodes following the bits of its size, highest first; they are folded right to left.
fn range_hash(reader: &impl NodeReader, start: u64, end: u64) -> Result<Hash, LogError> {
    let size = end - start;
    if size == 0 {
        return Ok(empty_root());
    }
    let mut nodes: Vec<Hash> = Vec::with_capacity(size.count_ones() as usize);
    let mut pos = start;
    for level in (0u8..64).rev() {
        if (size >> level) & 1 == 1 {
            nodes.push(reader.node(level, pos >> level)?);
            pos += 1u64 << level;
        }
    }
    let mut iter = nodes.iter().rev();
    let mut acc = match iter.next() {
        Some(h) => *h,
        None => return Ok(empty_root()),
    };
    for left in iter {
        acc = node_hash(left, &acc);
    }
    Ok(acc)
}

/// The RFC 6962 Merkle Tree Hash of the first `size` leaves.
pub fn root(reader: &impl NodeReader, size: u64) -> Result<Hash, LogError> {
    range_hash(reader, 0, size)
}

/// The RFC 6962 `PATH(leaf_index, D[size])` audit path, leaf-side sibling first.
pub fn inclusion_proof(
    reader: &impl NodeReader,
    leaf_index: u64,
    size: u64,
) -> Result<Vec<Hash>, LogError> {
    if leaf_index >= size {
        return Err(LogError::IndexOutOfRange {
            index: leaf_index,
            size,
        });
    }
    // Walk down from the root, collecting the sibling subtree at each split; the RFC lists them
    // bottom-up, so the list is reversed at the end.
    let (mut lo, mut hi) = (0u64, size);
    let mut path = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if leaf_index < lo + k {
            path.push(range_hash(reader, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(reader, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The RFC 6962 `PROOF(old_size, D[new_size])` consistency proof. Empty when `old_size` is 0 or equals
/// `new_size`.
pub fn consistency_proof(
    reader: &impl NodeReader,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, LogError> {
    if old_size > new_size {
        return Err(LogError::IndexOutOfRange {
            index: old_size,
            size: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled from the top: each level contributes one hash after the
    // sub-proof, so the collected hashes are reversed and the base case (if any) goes first.
    let (mut lo, mut hi) = (0u64, new_size);
    let mut complete_old = true; // the RFC's flag b
    let mut tail = Vec::new();
    let mut head = None;
    loop {
        if old_size == hi {
            if !complete_old {
                head = Some(range_hash(reader, lo, hi)?);
            }
            break;
        }
        let k = split_point(hi - lo);
        if old_size - lo <= k {
            tail.push(range_hash(reader, lo + k, hi)?);
            hi = lo + k;
        } else {
            tail.push(range_hash(reader, lo, lo + k)?);
            lo += k;
            complete_old = false;
        }
    }
    let mut proof = Vec::with_capacity(tail.len() + 1);
    proof.extend(head);
    proof.extend(tail.into_iter().rev());
    Ok(proof)
}

/// A reader that answers every request with a dummy hash and records what was asked. The proof
/// algorithms' control flow does not depend on hash values, so running them against it yields exactly
/// the coordinates they read.
struct Recorder {
    seen: RefCell<Vec<(u8, u64)>>,
}

impl Recorder {
    fn new() -> Self {
        Recorder {
            seen: RefCell::new(Vec::new()),
        }
    }

    fn into_nodes(self) -> Vec<(u8, u64)> {
        let mut set = HashSet::new();
        self.seen
            .into_inner()
            .into_iter()
            .filter(|c| set.insert(*c))
            .collect()
    }
}

impl NodeReader for Recorder {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        self.seen.borrow_mut().push((level, index));
        Ok([0u8; 32])
    }
}

/// The node coordinates [`root`]`(_, size)` reads, in reading order, without duplicates.
pub fn nodes_for_root(size: u64) -> Vec<(u8, u64)> {
    let rec = Recorder::new();
    let _ = root(&rec, size);
    rec.into_nodes()
}

/// The node coordinates [`inclusion_proof`] reads (empty when the index is out of range).
pub fn nodes_for_inclusion(leaf_index: u64, size: u64) -> Vec<(u8, u64)> {
    let rec = Recorder::new();
    let _ = inclusion_proof(&rec, leaf_index, size);
    rec.into_nodes()
}

/// The node coordinates [`consistency_proof`] reads (empty when the sizes are out of order).
pub fn nodes_for_consistency(old_size: u64, new_size: u64) -> Vec<(u8, u64)> {
    let rec = Recorder::new();
    let _ = consistency_proof(&rec, old_size, new_size);
    rec.into_nodes()
}

/// The root that an inclusion proof implies for `leaf_hash` at `index` in a tree of `size` leaves
/// (RFC 9162 §2.1.3.2 steps 1–5, less the final comparison with a known root).
pub fn root_from_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, LogError> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return Err(LogError::BadProof("inclusion proof is too long"));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(LogError::BadProof("inclusion proof is too short"));
    }
    Ok(r)
}

/// Verifies an RFC 9162 §2.1.3.2 inclusion proof of `leaf_hash` at `index` in the tree of `size` leaves
/// whose root is `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LogError> {
    let computed = root_from_inclusion(leaf_hash, index, size, proof)?;
    if computed != *root {
        return Err(LogError::BadProof(
            "inclusion proof does not lead to the root",
        ));
    }
    Ok(())
}

/// Verifies an RFC 9162 §2.1.4.2 consistency proof between the tree of `old_size` leaves with root
/// `old_root` and the tree of `new_size` leaves with root `new_root`.
///
/// Equal sizes need an empty proof and equal roots. An old size of 0 needs an empty proof and
/// `old_root` equal to [`empty_root`] (stricter than accepting any old root).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LogError> {
    if old_size > new_size {
        return Err(LogError::IndexOutOfRange {
            index: old_size,
            size: new_size,
        });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(LogError::BadProof(
                "proof between equal sizes must be empty",
            ));
        }
        if old_root != new_root {
            return Err(LogError::BadProof("roots of equal sizes differ"));
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(LogError::BadProof(
                "proof from the empty tree must be empty",
            ));
        }
        if *old_root != empty_root() {
            return Err(LogError::BadProof("root of the empty tree is wrong"));
        }
        return Ok(());
    }
    // Step 1: a non-trivial proof is never empty.
    let Some((first, rest)) = proof.split_first() else {
        return Err(LogError::BadProof("consistency proof is empty"));
    };
    // Step 2: when the old tree is a complete subtree its root is the implicit first element.
    let (start, rest): (Hash, &[Hash]) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (*first, rest)
    };
    // Steps 3–4.
    let mut fnode = old_size - 1;
    let mut snode = new_size - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // Steps 5–6.
    let mut fr = start;
    let mut sr = start;
    for c in rest {
        if snode == 0 {
            return Err(LogError::BadProof("consistency proof is too long"));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 7.
    if snode != 0 {
        return Err(LogError::BadProof("consistency proof is too short"));
    }
    if fr != *old_root {
        return Err(LogError::BadProof(
            "consistency proof does not lead to the old root",
        ));
    }
    if sr != *new_root {
        return Err(LogError::BadProof(
            "consistency proof does not lead to the new root",
        ));
    }
    Ok(())
}

/// A whole log in memory: every complete subtree hash, level by level. Used by tests and by offline
/// verifiers that rebuild a log from its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryLog {
    /// `levels[l][i]` is node `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry (hashed with [`leaf_hash`]) and returns its leaf index.
    pub fn append(&mut self, data: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(data))
    }

    /// Appends an already computed leaf hash and returns its leaf index.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let mut hash = leaf;
        let mut level = 0usize;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(nodes) = self.levels.get_mut(level) else {
                break;
            };
            nodes.push(hash);
            let len = nodes.len();
            // The node just stored is a right child: its parent is now complete.
            if len % 2 == 0 {
                if let Some(left) = nodes.get(len - 2) {
                    hash = node_hash(left, &hash);
                    level += 1;
                    continue;
                }
            }
            break;
        }
        index
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.node(0, index).ok()
    }

    /// The current root (equal to [`root`]`(self, self.size())`).
    pub fn root(&self) -> Hash {
        let size = self.size();
        // The right-edge node at each level whose size bit is set is the last node of that level;
        // levels in increasing order walk the decomposition right to left.
        let mut acc: Option<Hash> = None;
        for (level, nodes) in self.levels.iter().enumerate() {
            if (size >> level) & 1 == 1 {
                if let Some(h) = nodes.last() {
                    acc = Some(match acc {
                        None => *h,
                        Some(right) => node_hash(h, &right),
                    });
                }
            }
        }
        acc.unwrap_or_else(empty_root)
    }

    /// Inclusion proof for `leaf_index` in the tree of `size` leaves (`size ≤ self.size()`).
    pub fn inclusion_proof(&self, leaf_index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        inclusion_proof(self, leaf_index, size)
    }

    /// Consistency proof between two sizes of this log.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(new_size)?;
        consistency_proof(self, old_size, new_size)
    }

    /// Root of the tree of the first `size` leaves (`size ≤ self.size()`).
    pub fn root_at(&self, size: u64) -> Result<Hash, LogError> {
        self.check_size(size)?;
        root(self, size)
    }

    fn check_size(&self, size: u64) -> Result<(), LogError> {
        if size > self.size() {
            return Err(LogError::IndexOutOfRange {
                index: size,
                size: self.size(),
            });
        }
        Ok(())
    }
}

impl NodeReader for MemoryLog {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(level))?.get(i))
            .copied()
            .ok_or(LogError::MissingNode { level, index })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // ---- a naive reference implementation, straight from RFC 6962 §2.1 -------------------------

    fn ref_mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = ref_k(n);
                node_hash(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
            }
        }
    }

    fn ref_k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
        let n = d.len();
        if n <= 1 {
            return vec![];
        }
        let k = ref_k(n);
        if m < k {
            let mut p = ref_path(m, &d[..k]);
            p.push(ref_mth(&d[k..]));
            p
        } else {
            let mut p = ref_path(m - k, &d[k..]);
            p.push(ref_mth(&d[..k]));
            p
        }
    }

    fn ref_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![ref_mth(d)] };
        }
        let k = ref_k(n);
        if m <= k {
            let mut p = ref_subproof(m, &d[..k], b);
            p.push(ref_mth(&d[k..]));
            p
        } else {
            let mut p = ref_subproof(m - k, &d[k..], false);
            p.push(ref_mth(&d[..k]));
            p
        }
    }

    fn ref_proof(m: usize, d: &[Hash]) -> Vec<Hash> {
        if m == 0 || m == d.len() {
            return vec![];
        }
        ref_subproof(m, d, true)
    }

    const MAX: u64 = 70;
    /// Largest size of the wrong-index and wrong-size sweeps.
    const SWEEP: u64 = 40;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    fn build(n: u64) -> (MemoryLog, Vec<Hash>) {
        let d = leaves(n);
        let mut log = MemoryLog::new();
        for (i, h) in d.iter().enumerate() {
            assert_eq!(log.append_leaf_hash(*h), i as u64);
        }
        (log, d)
    }

    /// A reader that counts and records every read.
    struct Counting<'a> {
        inner: &'a MemoryLog,
        reads: RefCell<Vec<(u8, u64)>>,
    }

    impl NodeReader for Counting<'_> {
        fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
            self.reads.borrow_mut().push((level, index));
            self.inner.node(level, index)
        }
    }

    fn subset(log: &MemoryLog, coords: &[(u8, u64)]) -> NodeMap {
        coords
            .iter()
            .map(|&(l, i)| ((l, i), log.node(l, i).unwrap()))
            .collect()
    }

    fn dedup_sorted(v: &[(u8, u64)]) -> Vec<(u8, u64)> {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    }

    fn log2_ceil(n: u64) -> u64 {
        u64::from(64 - n.saturating_sub(1).leading_zeros())
    }

    #[test]
    fn hashes_are_domain_separated() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let a = leaf_hash(b"a");
        assert_ne!(node_hash(&a, &a), leaf_hash(&[a, a].concat()));
    }

    #[test]
    fn error_codes_are_stable() {
        assert_eq!(LogError::BadProof("x").code(), "bad_proof");
        assert_eq!(
            LogError::IndexOutOfRange { index: 1, size: 0 }.code(),
            "index_out_of_range"
        );
        assert_eq!(
            LogError::MissingNode { level: 0, index: 0 }.code(),
            "missing_node"
        );
        assert_eq!(
            LogError::BadCheckpoint(String::new()).code(),
            "bad_checkpoint"
        );
        assert_eq!(LogError::BadNote(String::new()).code(), "bad_note");
        assert_eq!(LogError::BadKey(String::new()).code(), "bad_key");
        assert_eq!(
            LogError::AmbiguousKey(String::new()).code(),
            "ambiguous_key"
        );
        assert_eq!(LogError::UnknownKey.code(), "unknown_key");
        assert_eq!(
            LogError::BadSignature(String::new()).code(),
            "bad_signature"
        );
    }

    #[test]
    fn roots_match_reference_for_every_size() {
        let (log, d) = build(MAX);
        assert_eq!(root(&log, 0).unwrap(), empty_root());
        assert_eq!(MemoryLog::new().root(), empty_root());
        for n in 1..=MAX {
            let want = ref_mth(&d[..n as usize]);
            assert_eq!(root(&log, n).unwrap(), want, "size {n}");
            let (small, _) = build(n);
            assert_eq!(small.root(), want, "MemoryLog::root size {n}");
            assert_eq!(small.size(), n);
            // nodes_for_root is exactly what root() reads, and enough.
            let counting = Counting {
                inner: &log,
                reads: RefCell::new(vec![]),
            };
            root(&counting, n).unwrap();
            let coords = nodes_for_root(n);
            assert_eq!(
                dedup_sorted(&coords),
                dedup_sorted(&counting.reads.borrow())
            );
            assert_eq!(coords.len() as u32, n.count_ones());
            assert_eq!(root(&subset(&log, &coords), n).unwrap(), want);
        }
    }

    #[test]
    fn append_nodes_matches_memory_log() {
        let mut map = NodeMap::new();
        let mut log = MemoryLog::new();
        for (i, h) in leaves(MAX).into_iter().enumerate() {
            let i = i as u64;
            let nodes = append_nodes(i, h, &map).unwrap();
            assert_eq!(nodes.len() as u32, 1 + i.trailing_ones());
            assert_eq!(nodes[0], (0, i, h));
            map.extend_nodes(&nodes);
            log.append_leaf_hash(h);
            for &(l, idx, hash) in &nodes {
                assert_eq!(log.node(l, idx).unwrap(), hash);
                // The node is complete in the new tree and was not complete before.
                assert!((idx + 1) << l <= i + 1);
                assert!((idx + 1) << l > i);
            }
            assert_eq!(map.len(), log.levels.iter().map(Vec::len).sum::<usize>());
            assert_eq!(root(&map, i + 1).unwrap(), log.root());
        }
        // A missing left sibling is reported, not invented.
        let err = append_nodes(1, leaf_hash(b"x"), &NodeMap::new()).unwrap_err();
        assert_eq!(err, LogError::MissingNode { level: 0, index: 0 });
        assert_eq!(err.code(), "missing_node");
        assert!(append_nodes(u64::MAX, leaf_hash(b"x"), &NodeMap::new()).is_err());
    }

    #[test]
    fn inclusion_proofs_match_reference_and_verify() {
        let (log, d) = build(MAX);
        let mut roots = vec![empty_root()];
        roots.extend((1..=MAX).map(|n| ref_mth(&d[..n as usize])));
        let mut proofs: HashMap<(u64, u64), Vec<Hash>> = HashMap::new();
        for n in 1..=MAX {
            for i in 0..n {
                let want = ref_path(i as usize, &d[..n as usize]);
                let got = inclusion_proof(&log, i, n).unwrap();
                assert_eq!(got, want, "PATH({i}, {n})");
                assert_eq!(log.inclusion_proof(i, n).unwrap(), want);
                assert!(got.len() as u64 <= log2_ceil(n));

                // Exactly the advertised nodes are read, and they suffice.
                let counting = Counting {
                    inner: &log,
                    reads: RefCell::new(vec![]),
                };
                inclusion_proof(&counting, i, n).unwrap();
                let coords = nodes_for_inclusion(i, n);
                assert_eq!(
                    dedup_sorted(&coords),
                    dedup_sorted(&counting.reads.borrow())
                );
                assert_eq!(coords.len(), dedup_sorted(&coords).len());
                let lg = log2_ceil(n).max(1);
                assert!(counting.reads.borrow().len() as u64 <= lg * lg);
                assert_eq!(inclusion_proof(&subset(&log, &coords), i, n).unwrap(), want);

                let root_n = roots[n as usize];
                let leaf = d[i as usize];
                verify_inclusion(&leaf, i, n, &got, &root_n).unwrap();
                assert_eq!(root_from_inclusion(&leaf, i, n, &got).unwrap(), root_n);
                proofs.insert((i, n), got);
            }
        }
        // Tampering: every probe must fail.
        for (&(i, n), proof) in &proofs {
            let leaf = d[i as usize];
            let root_n = roots[n as usize];
            let bad = |idx: u64, size: u64, leaf: &Hash, p: &[Hash], r: &Hash| {
                verify_inclusion(leaf, idx, size, p, r).is_err()
            };
            assert!(
                bad(i, n, &leaf_hash(b"other"), proof, &root_n),
                "wrong leaf"
            );
            assert!(bad(i, n, &leaf, proof, &empty_root()), "empty root");
            assert!(
                bad(i, n, &leaf, proof, &leaf_hash(b"random")),
                "random root"
            );
            // (Wrong-index and wrong-size sweeps over the smaller trees only, to keep debug runs short.)
            let sweep = if n <= SWEEP { n } else { 0 };
            for j in 0..sweep {
                if j != i {
                    assert!(bad(j, n, &leaf, proof, &root_n), "index {j} for {i} in {n}");
                }
            }
            assert!(bad(n, n, &leaf, proof, &root_n), "index = size");
            assert!(bad(i, 0, &leaf, proof, &root_n), "size 0");
            let mut longer = proof.clone();
            longer.push(root_n);
            assert!(bad(i, n, &leaf, &longer, &root_n), "trailing root");
            let mut longer = vec![root_n];
            longer.extend_from_slice(proof);
            assert!(bad(i, n, &leaf, &longer, &root_n), "preceding root");
            if !proof.is_empty() {
                assert!(
                    bad(i, n, &leaf, &proof[..proof.len() - 1], &root_n),
                    "truncated"
                );
                for k in 0..proof.len() {
                    let mut p = proof.clone();
                    p[k][0] ^= 8;
                    assert!(bad(i, n, &leaf, &p, &root_n), "bit flip in {k}");
                }
            }
            if proof.len() > 1 {
                let mut p = proof.clone();
                p.insert(1, leaf_hash(b"some"));
                assert!(bad(i, n, &leaf, &p, &root_n), "inserted component");
                let mut p = proof.clone();
                p.swap(0, 1);
                if p != *proof {
                    assert!(bad(i, n, &leaf, &p, &root_n), "swapped components");
                }
            }
            // Claiming another size with that size's true root: only the proof for that size works.
            for m in (i + 1)..=SWEEP {
                if m != n && n <= SWEEP {
                    let ok = verify_inclusion(&leaf, i, m, proof, &roots[m as usize]).is_ok();
                    assert_eq!(
                        ok,
                        proofs[&(i, m)] == *proof,
                        "proof for {n} claimed for {m}"
                    );
                }
            }
        }
        assert_eq!(
            inclusion_proof(&log, 3, 3).unwrap_err(),
            LogError::IndexOutOfRange { index: 3, size: 3 }
        );
        assert!(inclusion_proof(&log, 0, 0).is_err());
        assert!(nodes_for_inclusion(5, 5).is_empty());
        assert_eq!(
            log.inclusion_proof(0, MAX + 1).unwrap_err().code(),
            "index_out_of_range"
        );
        // A reader lacking the tree gives missing_node.
        assert_eq!(
            inclusion_proof(&NodeMap::new(), 0, 2).unwrap_err().code(),
            "missing_node"
        );
    }

    #[test]
    fn consistency_proofs_match_reference_and_verify() {
        let (log, d) = build(MAX);
        let mut roots = vec![empty_root()];
        roots.extend((1..=MAX).map(|n| ref_mth(&d[..n as usize])));
        let mut proofs: HashMap<(u64, u64), Vec<Hash>> = HashMap::new();
        for n in 0..=MAX {
            for m in 0..=n {
                let want = ref_proof(m as usize, &d[..n as usize]);
                let got = consistency_proof(&log, m, n).unwrap();
                assert_eq!(got, want, "PROOF({m}, {n})");
                assert_eq!(log.consistency_proof(m, n).unwrap(), want);

                let counting = Counting {
                    inner: &log,
                    reads: RefCell::new(vec![]),
                };
                consistency_proof(&counting, m, n).unwrap();
                let coords = nodes_for_consistency(m, n);
                assert_eq!(
                    dedup_sorted(&coords),
                    dedup_sorted(&counting.reads.borrow())
                );
                let lg = log2_ceil(n).max(1);
                assert!(counting.reads.borrow().len() as u64 <= lg * lg + 1);
                assert_eq!(
                    consistency_proof(&subset(&log, &coords), m, n).unwrap(),
                    want
                );

                verify_consistency(m, n, &roots[m as usize], &roots[n as usize], &got)
                    .unwrap_or_else(|e| panic!("verify({m}, {n}): {e}"));
                proofs.insert((m, n), got);
            }
        }
        for (&(m, n), proof) in &proofs {
            let (r1, r2) = (roots[m as usize], roots[n as usize]);
            let bad = |m: u64, n: u64, r1: &Hash, r2: &Hash, p: &[Hash]| {
                verify_consistency(m, n, r1, r2, p).is_err()
            };
            let other = leaf_hash(b"wrong root");
            assert!(bad(m, n, &other, &r2, proof), "wrong old root {m} {n}");
            if m > 0 {
                // (The empty tree is a prefix of every tree, whatever its root.)
                assert!(bad(m, n, &r1, &other, proof), "wrong new root {m} {n}");
            }
            if m > 0 && m < n {
                assert!(bad(m, n, &r2, &r1, proof), "swapped roots");
                assert!(bad(m, n, &r1, &r2, &[]), "empty proof");
                assert!(bad(n, m, &r1, &r2, proof), "sizes swapped");
                assert!(bad(m, n, &r1, &r2, &proof[..proof.len() - 1]), "truncated");
                for extra in [r1, r2, proof[0], [0u8; 32]] {
                    let mut p = proof.clone();
                    p.push(extra);
                    assert!(bad(m, n, &r1, &r2, &p), "trailing");
                    let mut p = vec![extra];
                    p.extend_from_slice(proof);
                    assert!(bad(m, n, &r1, &r2, &p), "preceding");
                }
                for k in 0..proof.len() {
                    let mut p = proof.clone();
                    p[k][0] ^= 16;
                    assert!(bad(m, n, &r1, &r2, &p), "bit flip in {k}");
                }
                // Another old size, with its true root: only that size's own proof verifies.
                // (Swept over the smaller trees only, to keep debug test runs short.)
                let sweep = if n <= SWEEP { n } else { 1 };
                for m2 in 1..sweep {
                    if m2 != m {
                        let ok = verify_consistency(m2, n, &roots[m2 as usize], &r2, proof).is_ok();
                        assert_eq!(ok, proofs[&(m2, n)] == *proof, "{m}->{n} claimed as {m2}");
                    }
                }
                // Another new size, with its true root.
                for n2 in (m + 1)..=SWEEP {
                    if n2 != n && n <= SWEEP {
                        let ok = verify_consistency(m, n2, &r1, &roots[n2 as usize], proof).is_ok();
                        assert_eq!(ok, proofs[&(m, n2)] == *proof, "{m}->{n} claimed as ->{n2}");
                    }
                }
            } else {
                // Trivial cases need an empty proof.
                assert!(bad(m, n, &r1, &r2, &[r1]), "non-empty trivial proof");
            }
        }
        assert_eq!(
            consistency_proof(&log, 5, 4).unwrap_err(),
            LogError::IndexOutOfRange { index: 5, size: 4 }
        );
        assert!(verify_consistency(5, 4, &roots[5], &roots[4], &[]).is_err());
        // Old size 0 needs the real empty root.
        assert!(verify_consistency(0, 3, &roots[1], &roots[3], &[]).is_err());
        assert!(nodes_for_consistency(3, 3).is_empty());
        assert!(nodes_for_consistency(0, 9).is_empty());
        assert!(nodes_for_consistency(9, 3).is_empty());
        assert_eq!(
            log.consistency_proof(1, MAX + 1).unwrap_err().code(),
            "index_out_of_range"
        );
    }

    #[test]
    fn large_sizes_do_not_overflow() {
        // Coordinates only: a near-maximal tree is never materialised.
        let n = u64::MAX;
        assert_eq!(nodes_for_root(n).len(), 64);
        let coords = nodes_for_inclusion(n - 1, n);
        assert!(!coords.is_empty() && coords.len() <= 64 * 64);
        let coords = nodes_for_consistency(n - 2, n);
        assert!(!coords.is_empty() && coords.len() <= 64 * 64 + 1);
        assert!(nodes_for_inclusion(1 << 40, (1 << 41) + 3).len() <= 42 * 42);
        assert!(root_from_inclusion(&[0; 32], n - 1, n, &[]).is_err());
    }

    #[test]
    fn memory_log_reader_reports_missing_nodes() {
        let (mut log, d) = build(5);
        assert_eq!(log.leaf(4), Some(d[4]));
        assert_eq!(log.leaf(5), None);
        assert_eq!(
            log.node(2, 1).unwrap_err(),
            LogError::MissingNode { level: 2, index: 1 }
        );
        assert!(log.node(63, u64::MAX).is_err());
        assert!(log.root_at(6).is_err());
        assert_eq!(log.root_at(5).unwrap(), log.root());
        assert_eq!(log.append(b"x"), 5);
        assert_eq!(log.leaf(5), Some(leaf_hash(b"x")));
    }
}
