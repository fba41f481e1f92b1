//! Published RFC 6962 test vectors, and a 100,000-leaf log built through `append_nodes`.
//!
//! Vector data (only the data; the tests are our own) comes from the Certificate Transparency /
//! transparency-dev Go Merkle library, Apache-2.0:
//! - github.com/transparency-dev/merkle `proof/verify_test.go`: the eight leaves, the roots of the
//!   trees of sizes 1..=8, the inclusion proofs and the consistency proofs (the same vectors as the
//!   original certificate-transparency `merkle_tree_test` suite);
//! - github.com/transparency-dev/merkle `rfc6962/rfc6962_test.go`: the empty-root and leaf hashes;
//! - github.com/transparency-dev/merkle `testdata/consistency/1/happy-path.json`: the 1→8 consistency
//!   proof in base64.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealbid_seal::merkle::{
    append_nodes, consistency_proof, empty_root, inclusion_proof, leaf_hash, nodes_for_consistency,
    nodes_for_inclusion, nodes_for_root, root, root_from_inclusion, verify_consistency,
    verify_inclusion, Hash, LogError, MemoryLog, NodeMap, NodeReader,
};

/// The eight leaf inputs, hex.
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the trees of sizes 1..=8 over `LEAVES`.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (0-based leaf index, tree size, audit path). The Go file numbers leaves from 1.
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency proof).
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// `testdata/consistency/1/happy-path.json`: size1 1, size2 8, base64 roots and proof.
const HAPPY_PATH_JSON: (&str, &str, [&str; 3]) = (
    "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
    "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
    [
        "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
        "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
        "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
    ],
);

/// An arbitrary hash used as a wrong value in probes (`sha256SomeHash` in the Go suite).
const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

fn h(s: &str) -> Hash {
    let v = hex::decode(s).unwrap();
    v.try_into().unwrap()
}

fn b64(s: &str) -> Hash {
    STANDARD.decode(s).unwrap().try_into().unwrap()
}

fn hs(v: &[&str]) -> Vec<Hash> {
    v.iter().map(|s| h(s)).collect()
}

fn vector_log() -> MemoryLog {
    let mut log = MemoryLog::new();
    for leaf in LEAVES {
        log.append(&hex::decode(leaf).unwrap());
    }
    log
}

fn root_of(size: u64) -> Hash {
    h(ROOTS[size as usize - 1])
}

fn leaf_of(index: u64) -> Hash {
    leaf_hash(&hex::decode(LEAVES[index as usize]).unwrap())
}

#[test]
fn rfc6962_hasher_vectors() {
    assert_eq!(
        empty_root(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(
        leaf_hash(b""),
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    assert_eq!(
        leaf_hash(b"L123456"),
        h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    );
}

#[test]
fn roots_of_sizes_1_to_8() {
    let log = vector_log();
    assert_eq!(log.size(), 8);
    for size in 1..=8u64 {
        assert_eq!(root(&log, size).unwrap(), root_of(size), "size {size}");
        assert_eq!(log.root_at(size).unwrap(), root_of(size));
    }
    assert_eq!(log.root(), root_of(8));
    assert_eq!(root(&log, 0).unwrap(), empty_root());
}

#[test]
fn inclusion_vectors_generate_and_verify() {
    let log = vector_log();
    for &(index, size, proof) in INCLUSION {
        let want = hs(proof);
        assert_eq!(
            inclusion_proof(&log, index, size).unwrap(),
            want,
            "{index}/{size}"
        );
        // The same proof from exactly the advertised nodes, as a database caller would fetch them.
        let map: NodeMap = nodes_for_inclusion(index, size)
            .into_iter()
            .map(|(l, i)| ((l, i), log.node(l, i).unwrap()))
            .collect();
        assert_eq!(inclusion_proof(&map, index, size).unwrap(), want);

        let leaf = leaf_of(index);
        let r = root_of(size);
        verify_inclusion(&leaf, index, size, &want, &r).unwrap();
        assert_eq!(root_from_inclusion(&leaf, index, size, &want).unwrap(), r);

        for (desc, probe) in inclusion_probes(index, size, &want, &r, &leaf) {
            let (i, s, lf, p, rt) = probe;
            assert!(
                verify_inclusion(&lf, i, s, &p, &rt).is_err(),
                "{index}/{size}: {desc} verified"
            );
        }
    }
}

type InclusionProbe = (u64, u64, Hash, Vec<Hash>, Hash);

/// Corruptions of a valid inclusion proof, after the probes of the Go suite.
fn inclusion_probes(
    index: u64,
    size: u64,
    proof: &[Hash],
    r: &Hash,
    leaf: &Hash,
) -> Vec<(String, InclusionProbe)> {
    let some = h(SOME_HASH);
    let p = proof.to_vec();
    let mut out: Vec<(String, InclusionProbe)> = vec![
        (
            "index - 1".into(),
            (index.wrapping_sub(1), size, *leaf, p.clone(), *r),
        ),
        ("index + 1".into(), (index + 1, size, *leaf, p.clone(), *r)),
        ("index ^ 2".into(), (index ^ 2, size, *leaf, p.clone(), *r)),
        ("size * 2".into(), (index, size * 2, *leaf, p.clone(), *r)),
        ("size / 2".into(), (index, size / 2, *leaf, p.clone(), *r)),
        (
            "wrong leaf".into(),
            (index, size, leaf_hash(b"WrongLeaf"), p.clone(), *r),
        ),
        (
            "empty root".into(),
            (index, size, *leaf, p.clone(), empty_root()),
        ),
        ("random root".into(), (index, size, *leaf, p.clone(), some)),
        (
            "trailing zero".into(),
            (index, size, *leaf, [p.clone(), vec![[0; 32]]].concat(), *r),
        ),
        (
            "trailing root".into(),
            (index, size, *leaf, [p.clone(), vec![*r]].concat(), *r),
        ),
        (
            "preceding zero".into(),
            (index, size, *leaf, [vec![[0; 32]], p.clone()].concat(), *r),
        ),
        (
            "preceding root".into(),
            (index, size, *leaf, [vec![*r], p.clone()].concat(), *r),
        ),
    ];
    for i in 0..p.len() {
        let mut q = p.clone();
        q[i][0] ^= 8;
        out.push((
            format!("modified proof[{i}] bit 3"),
            (index, size, *leaf, q, *r),
        ));
    }
    if !p.is_empty() {
        out.push((
            "removed component".into(),
            (index, size, *leaf, p[..p.len() - 1].to_vec(), *r),
        ));
    }
    if p.len() > 1 {
        let mut q = vec![p[0], some];
        q.extend_from_slice(&p[1..]);
        out.push(("inserted component".into(), (index, size, *leaf, q, *r)));
    }
    out
}

#[test]
fn inclusion_edge_cases() {
    // A one-leaf tree: the root is the leaf hash and the proof is empty.
    let hash = leaf_hash(b"data");
    verify_inclusion(&hash, 0, 1, &[], &hash).unwrap();
    assert!(verify_inclusion(&hash, 0, 1, &[], &empty_root()).is_err());
    assert!(verify_inclusion(&empty_root(), 0, 1, &[], &hash).is_err());
    // Out-of-range probes with an empty proof never verify.
    let some = h(SOME_HASH);
    for (index, size) in [(0, 0), (0, 1), (1, 0), (2, 1)] {
        assert!(verify_inclusion(&some, index, size, &[], &empty_root()).is_err());
        assert!(verify_inclusion(&empty_root(), index, size, &[], &some).is_err());
    }
    let err = verify_inclusion(&some, 1, 1, &[], &some).unwrap_err();
    assert_eq!(err, LogError::IndexOutOfRange { index: 1, size: 1 });
}

#[test]
fn consistency_vectors_generate_and_verify() {
    let log = vector_log();
    for &(old, new, proof) in CONSISTENCY {
        let want = hs(proof);
        assert_eq!(
            consistency_proof(&log, old, new).unwrap(),
            want,
            "{old}->{new}"
        );
        let map: NodeMap = nodes_for_consistency(old, new)
            .into_iter()
            .map(|(l, i)| ((l, i), log.node(l, i).unwrap()))
            .collect();
        assert_eq!(consistency_proof(&map, old, new).unwrap(), want);

        let (r1, r2) = (root_of(old), root_of(new));
        verify_consistency(old, new, &r1, &r2, &want).unwrap();
        if want.is_empty() {
            continue;
        }
        let some = h(SOME_HASH);
        let mut probes: Vec<(String, u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            ("old - 1".into(), old - 1, new, r1, r2, want.clone()),
            ("old + 1".into(), old + 1, new, r1, r2, want.clone()),
            ("old ^ 2".into(), old ^ 2, new, r1, r2, want.clone()),
            ("new * 2".into(), old, new * 2, r1, r2, want.clone()),
            ("new / 2".into(), old, new / 2, r1, r2, want.clone()),
            ("wrong old root".into(), old, new, some, r2, want.clone()),
            ("wrong new root".into(), old, new, r1, some, want.clone()),
            ("swapped roots".into(), old, new, r2, r1, want.clone()),
            ("empty proof".into(), old, new, r1, r2, vec![]),
        ];
        for extra in [[0u8; 32], r1, r2, want[0]] {
            probes.push((
                "trailing".into(),
                old,
                new,
                r1,
                r2,
                [want.clone(), vec![extra]].concat(),
            ));
            probes.push((
                "preceding".into(),
                old,
                new,
                r1,
                r2,
                [vec![extra], want.clone()].concat(),
            ));
        }
        probes.push((
            "truncated".into(),
            old,
            new,
            r1,
            r2,
            want[..want.len() - 1].to_vec(),
        ));
        for i in 0..want.len() {
            let mut q = want.clone();
            q[i][0] ^= 16;
            probes.push((format!("modified proof[{i}] bit 4"), old, new, r1, r2, q));
        }
        for (desc, s1, s2, a, b, p) in probes {
            assert!(
                verify_consistency(s1, s2, &a, &b, &p).is_err(),
                "{old}->{new}: {desc} verified"
            );
        }
    }
}

#[test]
fn consistency_json_vector() {
    let (root1, root2, proof) = HAPPY_PATH_JSON;
    let proof: Vec<Hash> = proof.iter().map(|s| b64(s)).collect();
    assert_eq!(b64(root1), root_of(1));
    assert_eq!(b64(root2), root_of(8));
    verify_consistency(1, 8, &b64(root1), &b64(root2), &proof).unwrap();
    assert_eq!(consistency_proof(&vector_log(), 1, 8).unwrap(), proof);
}

/// (old size, new size, old root, new root, proof, expected to verify).
type TrivialCase<'a> = (u64, u64, Hash, Hash, &'a [Hash], bool);

#[test]
fn trivial_consistency_cases() {
    let (a, b) = (leaf_hash(b"don't care 1"), leaf_hash(b"don't care 2"));
    let e = empty_root();
    // (old, new, old root, new root, proof, ok)
    let cases: &[TrivialCase] = &[
        (0, 0, a, b, &[], false),
        (1, 1, a, b, &[], false),
        (0, 0, a, a, &[], true),
        (0, 1, e, b, &[], true),
        // Stricter than the Go suite: size 0 must come with the empty root.
        (0, 1, a, b, &[], false),
        (1, 1, b, b, &[], true),
        (1, 0, a, b, &[], false),
        (2, 1, a, b, &[], false),
        (1, 2, a, b, &[], false),
        (0, 0, e, b, &[], false),
        (1, 1, e, b, &[], false),
        (0, 0, e, e, &[e], false),
        (0, 1, e, e, &[e], false),
        (1, 1, e, e, &[e], false),
    ];
    for (i, &(old, new, r1, r2, proof, ok)) in cases.iter().enumerate() {
        assert_eq!(
            verify_consistency(old, new, &r1, &r2, proof).is_ok(),
            ok,
            "case {i}"
        );
    }
}

/// 100,000 leaves appended through `append_nodes` into a node map standing in for the database, then
/// spot checks against an independently built `MemoryLog`.
#[test]
fn hundred_thousand_leaves_via_append_nodes() {
    const N: u64 = 100_000;
    let mut db = NodeMap::new();
    let mut mem = MemoryLog::new();
    let mut stored = 0usize;
    for i in 0..N {
        let leaf = leaf_hash(format!("bid manifest {i}").as_bytes());
        let nodes = append_nodes(i, leaf, &db).unwrap();
        assert_eq!(nodes.len() as u32, 1 + i.trailing_ones());
        stored += nodes.len();
        db.extend_nodes(&nodes);
        assert_eq!(mem.append_leaf_hash(leaf), i);
    }
    // Every complete subtree of a 100,000-leaf tree, and nothing else.
    let complete: u64 = (0..17).map(|l| N >> l).sum();
    assert_eq!(stored as u64, complete);
    assert_eq!(db.len() as u64, complete);
    assert_eq!(root(&db, N).unwrap(), mem.root());

    let sizes = [1u64, 2, 3, 1000, 1024, 65_535, 65_536, 65_537, 99_999, N];
    for &size in &sizes {
        let r = mem.root_at(size).unwrap();
        assert_eq!(root(&db, size).unwrap(), r);
        let coords = nodes_for_root(size);
        assert_eq!(coords.len() as u32, size.count_ones());
        for index in [0, size / 3, size / 2, size - 1] {
            let proof = inclusion_proof(&db, index, size).unwrap();
            assert_eq!(proof, mem.inclusion_proof(index, size).unwrap());
            verify_inclusion(&mem.leaf(index).unwrap(), index, size, &proof, &r).unwrap();
            assert!(nodes_for_inclusion(index, size).len() <= 17 * 17);
            if index + 1 < size {
                assert!(
                    verify_inclusion(&mem.leaf(index + 1).unwrap(), index, size, &proof, &r)
                        .is_err()
                );
            }
        }
        for &new in &sizes {
            if new < size {
                continue;
            }
            let proof = consistency_proof(&db, size, new).unwrap();
            assert_eq!(proof, mem.consistency_proof(size, new).unwrap());
            verify_consistency(size, new, &r, &mem.root_at(new).unwrap(), &proof).unwrap();
            let fetched: HashMap<(u8, u64), Hash> = nodes_for_consistency(size, new)
                .into_iter()
                .map(|(l, i)| ((l, i), db.node(l, i).unwrap()))
                .collect();
            assert_eq!(
                consistency_proof(&NodeMap(fetched), size, new).unwrap(),
                proof
            );
        }
    }
}
