//! The bid-document side of the collusion engine: what the files of a tender's bids say about who
//! prepared them. Pure computation over bytes handed in; nothing here opens a file or a socket.
//!
//! [`analyse`] reads every file ([`extract`]), then runs six detectors over the bidders' documents,
//! each ending in [`Alert`]s of family [`Family::Documents`], one per pair of bidders and indicator:
//!
//! | indicator | ground | finding | score |
//! | --- | --- | --- | --- |
//! | `identical_file` | 条例 40(5) | the same file (SHA-256) in two bids, not one of the tender's own files | 1.0 |
//! | `file_inside_other_bid` | 条例 40(5) | one bidder's document contained almost wholly in another's (shingle containment ≥ `containment.threshold`) though the two are not near-duplicates | the containment |
//! | `near_duplicate_text` | 条例 40(4) | two documents whose shingle sets have Jaccard similarity ≥ `near_duplicate.threshold` | the exact Jaccard similarity (highest over the pair's files) |
//! | `shared_rare_passages` | 条例 40(4) | passages two bidders share that at most `rare_passages.max_bidders` bidders have and the tender's documents do not (identical errors) | `1 − exp(−L / scale_chars)`, `L` the shared characters |
//! | `identical_metadata` | 条例 40(1) | the same author, tool, machine code, file-creation id or dongle id | `1 − Π(1 − sᵢ)` over distinct shared values, `sᵢ` the kind's score (machine 0.95, person 0.6, tool 0.2) |
//! | `same_upload_source` | 条例 40(2) | the same upload IP (outside the excluded networks) or device | `1 − Π(1 − sᵢ)` with IP 0.7, device 0.9 |
//!
//! Text comparison works on normalised text (no whitespace or punctuation) cut into `k`-character
//! shingles ([`shingle`]); the tender's own documents (the *boilerplate*: templates, the bill of
//! quantities, required declarations) are shingled too and their shingles removed from every bid
//! document before any comparison, so filling in the same template is not similarity. Near-duplicate
//! candidates come from MinHash signatures ([`minhash`]) and LSH banding ([`lsh`]) and are verified by
//! the exact Jaccard similarity; containment candidates and rare passages come from winnowing
//! fingerprints ([`winnow`]). Passages are shown side by side with their character offsets in the
//! extracted text.
//!
//! Files that cannot be read (encrypted, corrupt, an unsupported format) are listed in
//! [`DocumentReport::unreadable`]; the analysis goes on with the rest, and identical-file detection
//! still covers them (it needs only the bytes).
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alert::{grounds, Alert, Evidence, Family, LegalGround, Passage, PassagePair, Score};

pub mod extract;
pub mod lsh;
pub mod minhash;
pub mod passages;
pub mod settings;
pub mod shingle;
pub mod winnow;

pub use extract::{extract, ExtractError, Extracted};
pub use settings::{
    ContainmentSettings, DocumentSettings, MetadataKey, MetadataKind, MetadataSettings,
    NearDuplicateSettings, RarePassageSettings, UploadSettings,
};

use passages::Run;
use shingle::NormText;

/// One file of a bid.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocFile {
    /// File name inside the bid.
    pub name: String,
    /// The file as uploaded (may be empty when only `extracted` is known).
    pub bytes: Vec<u8>,
    /// Text and metadata extracted earlier; when set, `bytes` are not parsed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<Extracted>,
}

impl DocFile {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.into(),
            extracted: None,
        }
    }

    /// A file whose text and metadata are already known (bytes kept for identical-file checks).
    pub fn pre_extracted(
        name: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
        extracted: Extracted,
    ) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.into(),
            extracted: Some(extracted),
        }
    }
}

/// One bid's files and where they were uploaded from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BidDocuments {
    pub bidder: String,
    pub upload_ip: Option<IpAddr>,
    /// A device id reported by the bid-preparation or upload client.
    pub device: Option<String>,
    pub files: Vec<DocFile>,
}

/// A file the analysis could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableFile {
    pub bidder: String,
    pub file: String,
    pub reason: ExtractError,
}

/// What [`analyse`] found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocumentReport {
    /// Sorted by indicator, then bidders.
    pub alerts: Vec<Alert>,
    pub unreadable: Vec<UnreadableFile>,
}

/// One file after reading.
struct FileRec<'a> {
    bidder: usize,
    name: &'a str,
    /// `None` for a file without bytes.
    sha: Option<[u8; 32]>,
    extracted: Option<Extracted>,
}

/// One readable document, shingled.
struct Doc {
    file: usize,
    bidder: usize,
    text: String,
    norm: NormText,
    /// Shingle hash at each normalised position.
    hashes: Vec<u64>,
    /// Sorted, deduplicated shingles, boilerplate removed.
    set: Vec<u64>,
    /// Winnowing fingerprints, boilerplate removed.
    fps: Vec<(u64, usize)>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs every document detector over one tender's bids. `boilerplate` holds the tender's own
/// documents (the invitation, templates, bill of quantities): their text and their files are not
/// evidence of anything.
pub fn analyse(
    tender: &str,
    bids: &[BidDocuments],
    boilerplate: &[DocFile],
    settings: &DocumentSettings,
) -> DocumentReport {
    let k = settings.shingle_chars.max(1);
    let read = |f: &DocFile| match &f.extracted {
        Some(e) => Ok(e.clone()),
        None => extract(&f.name, &f.bytes),
    };
    // Read every file in parallel.
    let flat: Vec<(usize, &DocFile)> = bids
        .iter()
        .enumerate()
        .flat_map(|(b, bid)| bid.files.iter().map(move |f| (b, f)))
        .collect();
    let read_all: Vec<(FileRec<'_>, Option<ExtractError>)> = flat
        .par_iter()
        .map(|&(bidder, f)| {
            let sha = (!f.bytes.is_empty()).then(|| sha256(&f.bytes));
            let (extracted, err) = match read(f) {
                Ok(e) => (Some(e), None),
                Err(e) => (None, Some(e)),
            };
            (
                FileRec {
                    bidder,
                    name: &f.name,
                    sha,
                    extracted,
                },
                err,
            )
        })
        .collect();
    let mut unreadable = Vec::new();
    let mut files = Vec::with_capacity(read_all.len());
    for (rec, err) in read_all {
        if let Some(reason) = err {
            unreadable.push(UnreadableFile {
                bidder: bids[rec.bidder].bidder.clone(),
                file: rec.name.to_string(),
                reason,
            });
        }
        files.push(rec);
    }

    // The tender's own documents.
    let boiler_sha: HashSet<[u8; 32]> = boilerplate
        .iter()
        .filter(|f| !f.bytes.is_empty())
        .map(|f| sha256(&f.bytes))
        .collect();
    let boiler_shingles: HashSet<u64> = boilerplate
        .par_iter()
        .filter_map(|f| read(f).ok())
        .flat_map_iter(|e| shingle::shingle_hashes(&NormText::new(&e.text).chars, k))
        .collect();

    // Shingle every readable document.
    let window = settings.rare_passages.window.max(1);
    let docs: Vec<Doc> = files
        .par_iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let text = f.extracted.as_ref()?.text.clone();
            let norm = NormText::new(&text);
            let hashes = shingle::shingle_hashes(&norm.chars, k);
            let mut set: Vec<u64> = hashes
                .iter()
                .copied()
                .filter(|h| !boiler_shingles.contains(h))
                .collect();
            set.sort_unstable();
            set.dedup();
            let fps = winnow::fingerprints(&hashes, window)
                .into_iter()
                .filter(|(h, _)| !boiler_shingles.contains(h))
                .collect();
            Some(Doc {
                file: i,
                bidder: f.bidder,
                text,
                norm,
                hashes,
                set,
                fps,
            })
        })
        .collect();

    let ctx = Ctx {
        tender,
        bids,
        files: &files,
        docs: &docs,
        settings,
    };
    let mut alerts = Vec::new();
    alerts.extend(identical_files(&ctx, &boiler_sha));
    let (near, near_pairs) = near_duplicates(&ctx);
    alerts.extend(near);
    let (inside, inside_pairs) = containment(&ctx);
    alerts.extend(inside);
    let mut flagged = near_pairs;
    flagged.extend(inside_pairs);
    alerts.extend(rare_passages(&ctx, &flagged));
    alerts.extend(metadata(&ctx));
    alerts.extend(upload_source(&ctx));
    alerts.sort_by(|a, b| {
        (a.indicator.as_str(), &a.bidders).cmp(&(b.indicator.as_str(), &b.bidders))
    });
    DocumentReport { alerts, unreadable }
}

struct Ctx<'a> {
    tender: &'a str,
    bids: &'a [BidDocuments],
    files: &'a [FileRec<'a>],
    docs: &'a [Doc],
    settings: &'a DocumentSettings,
}

impl Ctx<'_> {
    fn bidder(&self, b: usize) -> &str {
        &self.bids[b].bidder
    }

    fn same_bytes(&self, a: &Doc, b: &Doc) -> bool {
        let (x, y) = (&self.files[a.file].sha, &self.files[b.file].sha);
        x.is_some() && x == y
    }

    /// One side of a passage pair, cut to `max_passage_chars`.
    fn passage(&self, doc: &Doc, start: usize, len: usize) -> Passage {
        let (offset, mut text) = doc.norm.original(&doc.text, start, start + len);
        let max = self.settings.max_passage_chars.max(1);
        if text.chars().count() > max {
            text = text.chars().take(max).collect::<String>() + "…";
        }
        Passage {
            bidder: self.bidder(doc.bidder).to_string(),
            file: self.files[doc.file].name.to_string(),
            offset,
            text,
        }
    }

    fn pair(&self, a: &Doc, b: &Doc, run: &Run) -> PassagePair {
        PassagePair {
            left: self.passage(a, run.a_start, run.len),
            right: self.passage(b, run.b_start, run.len),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn alert(
        &self,
        indicator: &str,
        ground: LegalGround,
        bidders: (usize, usize),
        score: f64,
        method: &str,
        summary: String,
        evidence: Evidence,
    ) -> Alert {
        Alert::new(
            self.tender,
            Family::Documents,
            indicator,
            Some(ground),
            [
                self.bidder(bidders.0).to_string(),
                self.bidder(bidders.1).to_string(),
            ],
            Score {
                value: score,
                method: method.into(),
                parts: Vec::new(),
            },
            summary,
            evidence,
        )
    }
}

/// Orders a bidder pair.
fn key(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}

/// Doc pair as (smaller doc index, larger doc index).
type DocPair = (usize, usize);
/// Bidder pair as (lower index, higher index).
type BidderPair = (usize, usize);
/// Findings grouped by bidder pair (one alert each).
type ByBidders<T> = BTreeMap<BidderPair, Vec<T>>;
/// Two documents and two similarity figures.
type Hit = (usize, usize, f64, f64);

fn identical_files(ctx: &Ctx<'_>, boiler_sha: &HashSet<[u8; 32]>) -> Vec<Alert> {
    let mut by_hash: BTreeMap<[u8; 32], Vec<usize>> = BTreeMap::new();
    for (i, f) in ctx.files.iter().enumerate() {
        if let Some(sha) = f.sha {
            if !boiler_sha.contains(&sha) {
                by_hash.entry(sha).or_default().push(i);
            }
        }
    }
    // Bidder pair → (hash, file of the lower bidder, file of the higher bidder).
    let mut pairs: ByBidders<([u8; 32], usize, usize)> = BTreeMap::new();
    for (sha, list) in &by_hash {
        for (x, &i) in list.iter().enumerate() {
            for &j in &list[x + 1..] {
                let (bi, bj) = (ctx.files[i].bidder, ctx.files[j].bidder);
                if bi == bj {
                    continue;
                }
                let (fi, fj) = if bi < bj { (i, j) } else { (j, i) };
                let entry = pairs.entry(key(bi, bj)).or_default();
                if !entry.iter().any(|(s, _, _)| s == sha) {
                    entry.push((*sha, fi, fj));
                }
            }
        }
    }
    pairs
        .into_iter()
        .map(|((a, b), shared)| {
            let mut ev = Evidence::default();
            ev.figures
                .insert("shared_files".into(), shared.len() as f64);
            for (n, (sha, fa, fb)) in shared.iter().enumerate() {
                ev.facts.insert(
                    format!("file_{}", n + 1),
                    format!(
                        "{} / {} ↔ {} / {} (sha256 {})",
                        ctx.bidder(a),
                        ctx.files[*fa].name,
                        ctx.bidder(b),
                        ctx.files[*fb].name,
                        hex(sha)
                    ),
                );
            }
            let summary = format!(
                "{} and {} submitted {} byte-identical file(s), e.g. {}",
                ctx.bidder(a),
                ctx.bidder(b),
                shared.len(),
                ctx.files[shared[0].1].name
            );
            ctx.alert(
                "identical_file",
                grounds::art40_5(),
                (a, b),
                1.0,
                "fixed: the same SHA-256 in two bids is the same file",
                summary,
                ev,
            )
        })
        .collect()
}

/// Near-duplicate documents; also returns the doc pairs found, for the later detectors to skip.
fn near_duplicates(ctx: &Ctx<'_>) -> (Vec<Alert>, HashSet<DocPair>) {
    let s = &ctx.settings.near_duplicate;
    let eligible: Vec<usize> = (0..ctx.docs.len())
        .filter(|&d| ctx.docs[d].set.len() >= s.min_chars.max(1))
        .collect();
    let sigs: Vec<minhash::Signature> = eligible
        .par_iter()
        .map(|&d| minhash::signature(ctx.docs[d].set.iter().copied(), s.bins))
        .collect();
    let candidates = lsh::candidates(&sigs, s.bands, s.rows, |i, j| {
        ctx.docs[eligible[i]].bidder != ctx.docs[eligible[j]].bidder
    });
    let verified: Vec<(usize, usize, f64, f64)> = candidates
        .par_iter()
        .filter_map(|&(i, j)| {
            let (a, b) = (eligible[i], eligible[j]);
            let (da, db) = (&ctx.docs[a], &ctx.docs[b]);
            if ctx.same_bytes(da, db) {
                return None;
            }
            let est = minhash::estimate(&sigs[i], &sigs[j]);
            let exact = shingle::jaccard(&da.set, &db.set);
            (exact >= s.threshold).then_some((a, b, exact, est))
        })
        .collect();
    let found: HashSet<DocPair> = verified.iter().map(|&(a, b, _, _)| key(a, b)).collect();
    let mut by_bidders: ByBidders<Hit> = BTreeMap::new();
    for v in verified {
        let (da, db) = (&ctx.docs[v.0], &ctx.docs[v.1]);
        // Orient each doc pair as (lower bidder's doc, higher bidder's doc).
        let v = if da.bidder < db.bidder {
            v
        } else {
            (v.1, v.0, v.2, v.3)
        };
        by_bidders
            .entry(key(da.bidder, db.bidder))
            .or_default()
            .push(v);
    }
    let alerts = by_bidders
        .into_iter()
        .map(|((ba, bb), mut pairs)| {
            pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
            let (a, b, jac, est) = pairs[0];
            let (da, db) = (&ctx.docs[a], &ctx.docs[b]);
            let runs = passages::longest_shared(
                &da.norm.chars,
                &da.hashes,
                &db.norm.chars,
                &db.hashes,
                ctx.settings.shingle_chars.max(20),
                s.max_passages,
            );
            let mut ev = Evidence::default();
            ev.figures.insert("jaccard".into(), jac);
            ev.figures.insert("minhash_estimate".into(), est);
            ev.figures.insert("document_pairs".into(), pairs.len() as f64);
            ev.figures
                .insert("shingles_left".into(), da.set.len() as f64);
            ev.figures
                .insert("shingles_right".into(), db.set.len() as f64);
            ev.figures.insert(
                "longest_run_chars".into(),
                runs.first().map_or(0.0, |r| r.len as f64),
            );
            for (n, &(x, y, j, _)) in pairs.iter().enumerate().take(20) {
                ev.facts.insert(
                    format!("pair_{}", n + 1),
                    format!(
                        "{} ↔ {} (Jaccard {:.3})",
                        ctx.files[ctx.docs[x].file].name,
                        ctx.files[ctx.docs[y].file].name,
                        j
                    ),
                );
            }
            ev.passages = runs.iter().map(|r| ctx.pair(da, db, r)).collect();
            let summary = format!(
                "{} / {} and {} / {} are near-duplicates: Jaccard {:.2} over {}-character shingles",
                ctx.bidder(ba),
                ctx.files[da.file].name,
                ctx.bidder(bb),
                ctx.files[db.file].name,
                jac,
                ctx.settings.shingle_chars
            );
            ctx.alert(
                "near_duplicate_text",
                grounds::art40_4(),
                (ba, bb),
                jac,
                "the exact Jaccard similarity of the two documents' shingle sets (tender boilerplate removed), highest over the pair's documents",
                summary,
                ev,
            )
        })
        .collect();
    (alerts, found)
}

/// Containment candidates from shared winnowing fingerprints; fingerprints in more documents than
/// this are common text and skipped.
const MAX_POSTING: usize = 64;

/// One bidder's document inside another's: returns the alerts and the doc pairs found.
fn containment(ctx: &Ctx<'_>) -> (Vec<Alert>, HashSet<DocPair>) {
    let s = &ctx.settings.containment;
    let near = ctx.settings.near_duplicate.threshold;
    let fps: Vec<Vec<(u64, usize)>> = ctx.docs.iter().map(|d| d.fps.clone()).collect();
    let index = winnow::Index::new(&fps, &HashSet::new());
    let shared = index.shared_counts(MAX_POSTING, |i, j| {
        ctx.docs[i].bidder != ctx.docs[j].bidder && !ctx.same_bytes(&ctx.docs[i], &ctx.docs[j])
    });
    let mut hits: Vec<(usize, usize, f64, f64)> = shared
        .par_iter()
        .filter_map(|(&(i, j), &n)| {
            // `small` is the contained candidate.
            let (small, big) = if ctx.docs[i].set.len() <= ctx.docs[j].set.len() {
                (i, j)
            } else {
                (j, i)
            };
            let (ds, db) = (&ctx.docs[small], &ctx.docs[big]);
            if ds.set.len() < s.min_chars.max(1) || index.counts[small] == 0 {
                return None;
            }
            let est = n as f64 / index.counts[small] as f64;
            if est < s.threshold - 0.2 {
                return None;
            }
            let inter = shingle::intersection_len(&ds.set, &db.set);
            let contained = inter as f64 / ds.set.len() as f64;
            let union = ds.set.len() + db.set.len() - inter;
            let jac = inter as f64 / union.max(1) as f64;
            (contained >= s.threshold && jac < near).then_some((small, big, contained, jac))
        })
        .collect();
    hits.sort_by_key(|x| (x.0, x.1));
    let found: HashSet<DocPair> = hits.iter().map(|&(a, b, _, _)| key(a, b)).collect();
    let mut by_bidders: ByBidders<Hit> = BTreeMap::new();
    for h in hits {
        by_bidders
            .entry(key(ctx.docs[h.0].bidder, ctx.docs[h.1].bidder))
            .or_default()
            .push(h);
    }
    let alerts = by_bidders
        .into_iter()
        .map(|(bidders, mut list)| {
            list.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
            let (small, big, contained, jac) = list[0];
            let (ds, db) = (&ctx.docs[small], &ctx.docs[big]);
            let runs = passages::longest_shared(
                &ds.norm.chars,
                &ds.hashes,
                &db.norm.chars,
                &db.hashes,
                20,
                3,
            );
            let mut ev = Evidence::default();
            ev.figures.insert("containment".into(), contained);
            ev.figures.insert("jaccard".into(), jac);
            ev.figures.insert("documents".into(), list.len() as f64);
            ev.facts.insert(
                "contained".into(),
                format!("{} / {}", ctx.bidder(ds.bidder), ctx.files[ds.file].name),
            );
            ev.facts.insert(
                "container".into(),
                format!("{} / {}", ctx.bidder(db.bidder), ctx.files[db.file].name),
            );
            ev.passages = runs.iter().map(|r| ctx.pair(ds, db, r)).collect();
            let summary = format!(
                "{:.0}% of {} / {} appears inside {} / {}",
                contained * 100.0,
                ctx.bidder(ds.bidder),
                ctx.files[ds.file].name,
                ctx.bidder(db.bidder),
                ctx.files[db.file].name
            );
            ctx.alert(
                "file_inside_other_bid",
                grounds::art40_5(),
                bidders,
                contained,
                "the share of the smaller document's shingles found in the other bidder's document",
                summary,
                ev,
            )
        })
        .collect();
    (alerts, found)
}

/// Rare passages shared by two bidders, outside document pairs already reported as near-duplicates
/// or contained.
fn rare_passages(ctx: &Ctx<'_>, flagged: &HashSet<DocPair>) -> Vec<Alert> {
    let s = &ctx.settings.rare_passages;
    // Bidders holding each fingerprint.
    let mut holders: HashMap<u64, BTreeSet<usize>> = HashMap::new();
    for d in ctx.docs {
        for &(h, _) in &d.fps {
            holders.entry(h).or_default().insert(d.bidder);
        }
    }
    let rare = |h: u64| holders.get(&h).is_some_and(|b| b.len() <= s.max_bidders);
    let fps: Vec<Vec<(u64, usize)>> = ctx
        .docs
        .iter()
        .map(|d| d.fps.iter().copied().filter(|f| rare(f.0)).collect())
        .collect();
    let index = winnow::Index::new(&fps, &HashSet::new());
    let shared = index.shared_counts(usize::MAX, |i, j| {
        ctx.docs[i].bidder != ctx.docs[j].bidder
            && !flagged.contains(&key(i, j))
            && !ctx.same_bytes(&ctx.docs[i], &ctx.docs[j])
    });
    let mut doc_pairs: Vec<DocPair> = shared.into_keys().collect();
    doc_pairs.sort_unstable();
    // Orient as (lower bidder's doc, higher bidder's doc) and grow the shared runs.
    let found: Vec<(BidderPair, usize, usize, Vec<Run>)> = doc_pairs
        .par_iter()
        .filter_map(|&(i, j)| {
            let (a, b) = if ctx.docs[i].bidder < ctx.docs[j].bidder {
                (i, j)
            } else {
                (j, i)
            };
            let (da, db) = (&ctx.docs[a], &ctx.docs[b]);
            let seeds = winnow::shared_positions(&fps[a], &fps[b], |_| true);
            let runs = passages::distinct(
                passages::grow(&da.norm.chars, &db.norm.chars, &seeds, s.min_chars.max(1)),
                usize::MAX,
            );
            (!runs.is_empty()).then_some((key(da.bidder, db.bidder), a, b, runs))
        })
        .collect();
    let mut by_bidders: ByBidders<(usize, usize, Run)> = BTreeMap::new();
    for (bidders, a, b, runs) in found {
        let entry = by_bidders.entry(bidders).or_default();
        entry.extend(runs.into_iter().map(|r| (a, b, r)));
    }
    by_bidders
        .into_iter()
        .map(|(bidders, mut runs)| {
            runs.sort_by(|x, y| {
                y.2.len
                    .cmp(&x.2.len)
                    .then((x.0, x.1, x.2.a_start).cmp(&(y.0, y.1, y.2.a_start)))
            });
            let total: usize = runs.iter().map(|r| r.2.len).sum();
            let score = 1.0 - (-(total as f64) / s.scale_chars).exp();
            let mut ev = Evidence::default();
            ev.figures.insert("shared_chars".into(), total as f64);
            ev.figures.insert("passages".into(), runs.len() as f64);
            ev.figures
                .insert("longest_chars".into(), runs[0].2.len as f64);
            ev.passages = runs
                .iter()
                .take(s.max_passages.max(1))
                .map(|(a, b, r)| ctx.pair(&ctx.docs[*a], &ctx.docs[*b], r))
                .collect();
            let summary = format!(
                "{} and {} share {} passage(s), {} characters in all, found in no other bid and not in the tender documents",
                ctx.bidder(bidders.0),
                ctx.bidder(bidders.1),
                runs.len(),
                total
            );
            ctx.alert(
                "shared_rare_passages",
                grounds::art40_4(),
                bidders,
                score,
                "1 − exp(−shared characters / scale_chars) over passages held by no more than max_bidders bidders and absent from the tender documents",
                summary,
                ev,
            )
        })
        .collect()
}

fn metadata(ctx: &Ctx<'_>) -> Vec<Alert> {
    let m = &ctx.settings.metadata;
    let generic: HashSet<String> = m
        .generic_values
        .iter()
        .map(|v| v.trim().to_lowercase())
        .collect();
    let kinds: HashMap<String, MetadataKind> = m
        .keys
        .iter()
        .map(|k| (k.key.to_lowercase(), k.kind))
        .collect();
    // (kind, normalised value) → bidder → [(key, value as written, file)].
    type Uses<'f> = BTreeMap<usize, Vec<(String, String, &'f str)>>;
    let mut values: BTreeMap<(MetadataKind, String), Uses<'_>> = BTreeMap::new();
    for f in ctx.files {
        let Some(e) = &f.extracted else { continue };
        for (k, v) in &e.metadata {
            let Some(&kind) = kinds.get(&k.to_lowercase()) else {
                continue;
            };
            let norm = v.trim().to_lowercase();
            if norm.is_empty() || (kind != MetadataKind::Machine && generic.contains(&norm)) {
                continue;
            }
            values
                .entry((kind, norm))
                .or_default()
                .entry(f.bidder)
                .or_default()
                .push((k.clone(), v.clone(), f.name));
        }
    }
    let n_bidders = ctx.bids.len();
    let mut pairs: ByBidders<(MetadataKind, String, String)> = BTreeMap::new();
    for ((kind, _), uses) in &values {
        if uses.len() < 2 {
            continue;
        }
        if *kind == MetadataKind::Tool
            && n_bidders >= 3
            && uses.len() as f64 > m.max_tool_share * n_bidders as f64
        {
            continue;
        }
        let bidders: Vec<usize> = uses.keys().copied().collect();
        for (x, &a) in bidders.iter().enumerate() {
            for &b in &bidders[x + 1..] {
                let (ka, va, fa) = &uses[&a][0];
                let (_, _, fb) = &uses[&b][0];
                pairs.entry((a, b)).or_default().push((
                    *kind,
                    format!("{ka} = {va}"),
                    format!("{} / {fa} ↔ {} / {fb}", ctx.bidder(a), ctx.bidder(b)),
                ));
            }
        }
    }
    let score_of = |k: MetadataKind| match k {
        MetadataKind::Machine => m.machine_score,
        MetadataKind::Person => m.person_score,
        MetadataKind::Tool => m.tool_score,
    };
    pairs
        .into_iter()
        .map(|(bidders, mut shared)| {
            shared.sort();
            let score = 1.0 - shared.iter().map(|(k, _, _)| 1.0 - score_of(*k)).product::<f64>();
            let mut ev = Evidence::default();
            for kind in [MetadataKind::Machine, MetadataKind::Person, MetadataKind::Tool] {
                let n = shared.iter().filter(|s| s.0 == kind).count();
                ev.figures.insert(
                    format!("shared_{}_values", format!("{kind:?}").to_lowercase()),
                    n as f64,
                );
            }
            for (n, (_, value, files)) in shared.iter().enumerate() {
                ev.facts
                    .insert(format!("value_{}", n + 1), format!("{value} ({files})"));
            }
            let summary = format!(
                "{} and {} share document metadata: {}",
                ctx.bidder(bidders.0),
                ctx.bidder(bidders.1),
                shared
                    .iter()
                    .map(|s| s.1.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            ctx.alert(
                "identical_metadata",
                grounds::art40_1(),
                bidders,
                score,
                "1 − Π(1 − s) over the distinct shared values, s = machine_score, person_score or tool_score by the key's kind",
                summary,
                ev,
            )
        })
        .collect()
}

/// The address as compared: IPv4-mapped IPv6 folded to IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn upload_source(ctx: &Ctx<'_>) -> Vec<Alert> {
    let u = &ctx.settings.upload;
    let mut by_ip: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    let mut by_device: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (b, bid) in ctx.bids.iter().enumerate() {
        if let Some(ip) = bid.upload_ip.map(canonical) {
            if !u.exclude_networks.iter().any(|n| n.contains(&ip)) {
                by_ip.entry(ip).or_default().push(b);
            }
        }
        if let Some(d) = bid.device.as_deref().map(str::trim) {
            if !d.is_empty() {
                by_device.entry(d.to_string()).or_default().push(b);
            }
        }
    }
    // Bidder pair → (shared IP, shared device).
    let mut pairs: BTreeMap<(usize, usize), (Option<IpAddr>, Option<String>)> = BTreeMap::new();
    let each_pair = |list: &[usize], mut f: Box<dyn FnMut((usize, usize)) + '_>| {
        for (x, &a) in list.iter().enumerate() {
            for &b in &list[x + 1..] {
                if ctx.bids[a].bidder != ctx.bids[b].bidder {
                    f(key(a, b));
                }
            }
        }
    };
    for (ip, list) in &by_ip {
        each_pair(
            list,
            Box::new(|p| pairs.entry(p).or_default().0 = Some(*ip)),
        );
    }
    for (device, list) in &by_device {
        each_pair(
            list,
            Box::new(|p| pairs.entry(p).or_default().1 = Some(device.clone())),
        );
    }
    pairs
        .into_iter()
        .map(|(bidders, (ip, device))| {
            let mut ev = Evidence::default();
            let mut keep = 1.0;
            let mut what = Vec::new();
            if let Some(ip) = ip {
                keep *= 1.0 - u.ip_score;
                ev.facts.insert("upload_ip".into(), ip.to_string());
                what.push(format!("upload IP {ip}"));
            }
            if let Some(d) = &device {
                keep *= 1.0 - u.device_score;
                ev.facts.insert("device".into(), d.clone());
                what.push(format!("device {d}"));
            }
            ev.figures
                .insert("shared_ip".into(), f64::from(u8::from(ip.is_some())));
            ev.figures
                .insert("shared_device".into(), f64::from(u8::from(device.is_some())));
            let summary = format!(
                "{} and {} uploaded from the same source: {}",
                ctx.bidder(bidders.0),
                ctx.bidder(bidders.1),
                what.join(", ")
            );
            ctx.alert(
                "same_upload_source",
                grounds::art40_2(),
                bidders,
                1.0 - keep,
                "1 − Π(1 − s) with s = ip_score for a shared public IP outside exclude_networks and device_score for a shared device id",
                summary,
                ev,
            )
        })
        .collect()
}
