//! Benchmark of the near-duplicate pipeline (docs/performance.md):
//!
//! ```text
//! cargo run --release -p sealbid-screen --example near_duplicates -- --docs 10000
//! ```
//!
//! Synthetic Chinese documents (seeded; words of 1–4 common characters drawn from a Zipf-like
//! vocabulary, so independent documents share only chance phrases), about 20 pages of 1,500
//! characters each. A share of them are planted copies of another document with 3 % character edits
//! (substitutions, insertions, deletions). Times shingling + MinHash, LSH banding and verification
//! separately; reports recall and precision of the planted pairs; then, on a subset, compares with
//! exact all-pairs Jaccard (speed ratio; agreement = pairs above the threshold found by both / by
//! either). Writes the results as Markdown to `--out` (default `/tmp/perf-documents.md`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::time::Instant;

use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand::rngs::StdRng;
use rayon::prelude::*;
use sealbid_screen::documents::shingle::{intersection_len, shingle_hashes, shingle_set, NormText};
use sealbid_screen::documents::{lsh, minhash, DocumentSettings};

const CHARS: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";

struct Args {
    docs: usize,
    pages: usize,
    page_chars: usize,
    planted: f64,
    edit_rate: f64,
    subset: usize,
    seed: u64,
    out: String,
}

fn args() -> Args {
    let mut a = Args {
        docs: 10_000,
        pages: 20,
        page_chars: 1_500,
        planted: 0.10,
        edit_rate: 0.03,
        subset: 1_000,
        seed: 20_240_601,
        out: "/tmp/perf-documents.md".into(),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--docs" => a.docs = v.parse().expect("--docs N"),
            "--pages" => a.pages = v.parse().expect("--pages N"),
            "--page-chars" => a.page_chars = v.parse().expect("--page-chars N"),
            "--planted" => a.planted = v.parse().expect("--planted SHARE"),
            "--edit-rate" => a.edit_rate = v.parse().expect("--edit-rate RATE"),
            "--subset" => a.subset = v.parse().expect("--subset N"),
            "--seed" => a.seed = v.parse().expect("--seed N"),
            "--out" => a.out = v,
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

struct Vocab {
    words: Vec<String>,
    weights: WeightedIndex<f64>,
    alphabet: Vec<char>,
}

fn vocab(seed: u64) -> Vocab {
    let alphabet: Vec<char> = CHARS.chars().collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let char_w = WeightedIndex::new((0..alphabet.len()).map(|r| 1.0 / (r as f64 + 10.0))).unwrap();
    let len_w = WeightedIndex::new([30.0, 45.0, 15.0, 10.0]).unwrap();
    let words: Vec<String> = (0..8_000)
        .map(|_| {
            let len = len_w.sample(&mut rng) + 1;
            (0..len)
                .map(|_| alphabet[char_w.sample(&mut rng)])
                .collect()
        })
        .collect();
    let weights = WeightedIndex::new((0..words.len()).map(|r| 1.0 / (r as f64 + 1.0))).unwrap();
    Vocab {
        words,
        weights,
        alphabet,
    }
}

fn document(v: &Vocab, seed: u64, chars: usize) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = String::with_capacity(chars * 3 + 64);
    let mut n = 0;
    while n < chars {
        let w = &v.words[v.weights.sample(&mut rng)];
        out.push_str(w);
        n += w.chars().count();
        match rng.gen_range(0..40) {
            0..=4 => out.push('，'),
            5 => out.push('。'),
            6 => out.push_str("。\n"),
            _ => {}
        }
    }
    out
}

/// Substitutes, inserts or deletes each character with probability `rate` (a third each).
fn edit(v: &Vocab, text: &str, rate: f64, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = String::with_capacity(text.len() + 64);
    for c in text.chars() {
        if rng.gen_bool(rate) {
            match rng.gen_range(0..3) {
                0 => out.push(v.alphabet[rng.gen_range(0..v.alphabet.len())]),
                1 => {
                    out.push(c);
                    out.push(v.alphabet[rng.gen_range(0..v.alphabet.len())]);
                }
                _ => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn set_of(text: &str, k: usize) -> Vec<u64> {
    shingle_set(&shingle_hashes(&NormText::new(text).chars, k))
}

struct Pipeline {
    shingle_minhash_s: f64,
    lsh_s: f64,
    verify_s: f64,
    candidates: usize,
    passed_estimate: usize,
    found: HashSet<(usize, usize)>,
}

/// Shingling + MinHash, LSH, verification (estimate, then the exact Jaccard of the survivors).
fn pipeline(docs: &[String], s: &DocumentSettings) -> Pipeline {
    let nd = &s.near_duplicate;
    let k = s.shingle_chars;
    let t = Instant::now();
    let sigs: Vec<minhash::Signature> = docs
        .par_iter()
        .map(|d| minhash::signature(shingle_hashes(&NormText::new(d).chars, k), nd.bins))
        .collect();
    let shingle_minhash_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let cands = lsh::candidates(&sigs, nd.bands, nd.rows, |_, _| true);
    let lsh_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    // Keep pairs whose estimate is within sampling error (4 standard errors at 128 rows) of the
    // threshold, then decide on the exact similarity.
    let slack = 4.0 * (0.25 / nd.bins as f64).sqrt();
    let survivors: Vec<(usize, usize)> = cands
        .par_iter()
        .copied()
        .filter(|&(i, j)| minhash::estimate(&sigs[i], &sigs[j]) >= nd.threshold - slack)
        .collect();
    let found: HashSet<(usize, usize)> = survivors
        .par_iter()
        .copied()
        .filter(|&(i, j)| {
            let (a, b) = (set_of(&docs[i], k), set_of(&docs[j], k));
            let inter = intersection_len(&a, &b);
            let union = a.len() + b.len() - inter;
            union > 0 && inter as f64 / union as f64 >= nd.threshold
        })
        .collect();
    Pipeline {
        shingle_minhash_s,
        lsh_s,
        verify_s: t.elapsed().as_secs_f64(),
        candidates: cands.len(),
        passed_estimate: survivors.len(),
        found,
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    let a = args();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let settings = DocumentSettings::default();
    let nd = &settings.near_duplicate;
    let k = settings.shingle_chars;
    let chars = a.pages * a.page_chars;
    let pairs = ((a.docs as f64 * a.planted) / 2.0).round() as usize;
    let v = vocab(a.seed);

    let t = Instant::now();
    let mut docs: Vec<String> = (0..a.docs)
        .into_par_iter()
        .map(|i| document(&v, a.seed ^ (i as u64).wrapping_mul(0x9e37_79b9), chars))
        .collect();
    // Planted, spread evenly so any prefix subset holds its share: document s·m + 1 is an edited
    // copy of document s·m, s = docs / pairs.
    let spacing = (a.docs / pairs.max(1)).max(2);
    let copies: Vec<(usize, String)> = (0..pairs)
        .into_par_iter()
        .map(|m| {
            (
                spacing * m + 1,
                edit(
                    &v,
                    &docs[spacing * m],
                    a.edit_rate,
                    a.seed.wrapping_add(m as u64),
                ),
            )
        })
        .collect();
    for (i, c) in copies {
        docs[i] = c;
    }
    let gen_s = t.elapsed().as_secs_f64();
    let truth: HashSet<(usize, usize)> =
        (0..pairs).map(|m| (spacing * m, spacing * m + 1)).collect();
    let total_chars: usize = docs.iter().map(|d| d.chars().count()).sum();
    eprintln!(
        "generated {} docs ({} chars) in {gen_s:.1}s",
        a.docs, total_chars
    );

    let full = pipeline(&docs, &settings);
    let tp = full.found.intersection(&truth).count();
    let recall = tp as f64 / truth.len().max(1) as f64;
    let precision = tp as f64 / full.found.len().max(1) as f64;
    // Similarity of the planted pairs (exact), to show where 3 % edits land.
    let planted_j: Vec<f64> = (0..pairs.min(200))
        .into_par_iter()
        .map(|m| (spacing * m, spacing * m + 1))
        .map(|(i, j)| {
            let (x, y) = (set_of(&docs[i], k), set_of(&docs[j], k));
            let inter = intersection_len(&x, &y);
            inter as f64 / (x.len() + y.len() - inter) as f64
        })
        .collect();
    let mean_planted_j = planted_j.iter().sum::<f64>() / planted_j.len().max(1) as f64;
    eprintln!(
        "full: shingle+minhash {:.2}s, lsh {:.2}s, verify {:.2}s; recall {recall:.4} precision {precision:.4}",
        full.shingle_minhash_s, full.lsh_s, full.verify_s
    );

    // Subset: MinHash pipeline against exact all-pairs Jaccard.
    let n = a.subset.min(a.docs);
    let sub = &docs[..n];
    let mh = pipeline(sub, &settings);
    let mh_s = mh.shingle_minhash_s + mh.lsh_s + mh.verify_s;
    let t = Instant::now();
    let sets: Vec<Vec<u64>> = sub.par_iter().map(|d| set_of(d, k)).collect();
    let exact: HashSet<(usize, usize)> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            let sets = &sets;
            ((i + 1)..n).filter_map(move |j| {
                let inter = intersection_len(&sets[i], &sets[j]);
                let union = sets[i].len() + sets[j].len() - inter;
                (union > 0 && inter as f64 / union as f64 >= nd.threshold).then_some((i, j))
            })
        })
        .collect();
    let exact_s = t.elapsed().as_secs_f64();
    let both = mh.found.intersection(&exact).count();
    let either = mh.found.union(&exact).count();
    let agreement = both as f64 / either.max(1) as f64;
    eprintln!("subset {n}: minhash {mh_s:.2}s, exact {exact_s:.2}s, agreement {both}/{either}");

    let threads = rayon::current_num_threads();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let md = format!(
        r#"## Bid documents: near-duplicate text (MinHash + LSH)

Command: `cargo run --release -p sealbid-screen --example near_duplicates -- --docs {docs}`
Machine: {nproc} cores (`nproc`), {cpu}; rayon threads: {threads}; load average before the run: {load}
(the machine is shared; a load above the core count inflates the times).

Corpus: {docs} synthetic Chinese documents of {pages} pages × {page_chars} characters (seed {seed}; words of 1–4 common
characters from a Zipf-weighted vocabulary of 8,000), {total_chars} characters in all (generated in {gen_s:.1} s, not
counted below). {planted_pairs} planted pairs ({planted_pct:.0} % of documents): an edited copy with {edit_pct:.0} % character
edits (substitution, insertion, deletion, a third each); their exact Jaccard similarity averages {mean_planted_j:.3}.
Settings: the defaults (`{k}`-character shingles after removing whitespace and punctuation, {bins} one-permutation MinHash
bins, {bands} bands × {rows} rows, threshold Jaccard ≥ {threshold}); verification keeps candidates whose MinHash estimate
is within 4 standard errors of the threshold, then decides on the exact Jaccard of the two shingle sets.

| stage ({docs} documents) | wall time |
| --- | --- |
| shingling + MinHash signatures | {sm:.2} s |
| LSH banding ({cands} candidate pairs) | {lsh:.2} s |
| verification ({passed} pairs past the estimate, {found} above the threshold) | {verify:.2} s |
| total | {total:.2} s |

Planted pairs: recall {recall:.4} ({tp}/{truth}), precision {precision:.4} ({tp}/{found}).

Subset of the first {n} documents ({sub_planted} planted pairs), against exact all-pairs Jaccard ({allpairs} pairs, sorted shingle sets merged pair by pair):

| method | wall time | pairs ≥ threshold |
| --- | --- | --- |
| MinHash + LSH + verification | {mh_s:.2} s | {mh_found} |
| exact all pairs | {exact_s:.2} s | {exact_found} |

Speed ratio (exact / MinHash): {ratio:.1}×. Agreement (found by both / by either): {both}/{either} = {agreement:.4}.
"#,
        docs = a.docs,
        cpu = cpu_model(),
        load = load,
        pages = a.pages,
        page_chars = a.page_chars,
        seed = a.seed,
        planted_pairs = pairs,
        planted_pct = 2.0 * pairs as f64 * 100.0 / a.docs.max(1) as f64,
        edit_pct = a.edit_rate * 100.0,
        k = k,
        bins = nd.bins,
        bands = nd.bands,
        rows = nd.rows,
        threshold = nd.threshold,
        sm = full.shingle_minhash_s,
        lsh = full.lsh_s,
        cands = full.candidates,
        passed = full.passed_estimate,
        found = full.found.len(),
        verify = full.verify_s,
        total = full.shingle_minhash_s + full.lsh_s + full.verify_s,
        truth = truth.len(),
        allpairs = n * n.saturating_sub(1) / 2,
        mh_found = mh.found.len(),
        exact_found = exact.len(),
        ratio = exact_s / mh_s.max(1e-9),
        sub_planted = truth.iter().filter(|p| p.1 < n).count(),
    );
    std::fs::write(&a.out, &md).unwrap();
    println!("{md}");
}
