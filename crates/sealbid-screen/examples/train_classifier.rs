//! Trains and evaluates the price-screen classifier on the labelled development markets, and writes
//! the model file the engine embeds.
//!
//! ```text
//! cargo run --release -p sealbid-screen --example train_classifier -- \
//!     --data /work/shared/data/bid-rigging --date 2026-11-29 \
//!     --out crates/sealbid-screen/model/price-classifier-v1.json
//! ```
//!
//! Every `*.csv` in `--data` is one market (`Tender`, `Bid_value`, `Winner` as the engine reads them,
//! plus the label `Collusive_competitor`, constant within a tender). Screens are recomputed from the
//! bids; the files' precomputed screen columns are not read. The program evaluates a few settings
//! (absolute vs market-relative features, all features vs the core set) by tender-level stratified
//! cross-validation within each market, pooled, and leave-one-market-out (LOMO); ships the setting with
//! the best mean LOMO ROC AUC, trained on all markets; and prints the evaluation as markdown tables.
//! Deterministic: fixed seeds, no clock, no threads.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sealbid_screen::classify::eval::{accuracy, assign_folds, balanced_accuracy, roc_auc};
use sealbid_screen::classify::{
    fit, DataFile, EvalRow, Example, MarketContext, Model, Normalisation, TrainConfig,
};
use sealbid_screen::{read_csv, screen_market, TenderScreens};
use sha2::{Digest, Sha256};

const NAME: &str = "sealbid-price-classifier";
const VERSION: &str = "1";

struct Args {
    data: PathBuf,
    out: Option<PathBuf>,
    date: String,
    folds: usize,
    repeats: usize,
    seed: u64,
    raw: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut it = raw.iter();
    let (mut data, mut out, mut date) = (None, None, None);
    let (mut folds, mut repeats, mut seed) = (5usize, 5usize, 20_260_101u64);
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--data" => data = Some(PathBuf::from(val()?)),
            "--out" => out = Some(PathBuf::from(val()?)),
            "--date" => date = Some(val()?),
            "--folds" => folds = val()?.parse().map_err(|e| format!("--folds: {e}"))?,
            "--repeats" => repeats = val()?.parse().map_err(|e| format!("--repeats: {e}"))?,
            "--seed" => seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        data: data.ok_or("--data DIR is required")?,
        out,
        date: date
            .ok_or("--date YYYY-MM-DD is required (the model records it; no clock is read)")?,
        folds: folds.max(2),
        repeats: repeats.max(1),
        seed,
        raw,
    })
}

/// One labelled market.
struct Market {
    name: String,
    file: DataFile,
    screens: Vec<TenderScreens>,
    labels: Vec<bool>,
    context: MarketContext,
    skipped: usize,
    bad_lines: usize,
}

fn load_market(path: &Path) -> Result<Market, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (tenders, errors) = read_csv(&bytes[..]).map_err(|e| e.to_string())?.lenient();
    // Labels by tender, read directly (the engine's reader ignores label columns).
    let mut rdr = csv::ReaderBuilder::new().from_reader(&bytes[..]);
    let header = rdr.headers().map_err(|e| e.to_string())?.clone();
    let col = |n: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    let (tc, lc) = (
        col("Tender").ok_or("no Tender column")?,
        col("Collusive_competitor").ok_or("no Collusive_competitor column")?,
    );
    let mut label_of: BTreeMap<String, bool> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let (Some(t), Some(l)) = (rec.get(tc), rec.get(lc)) else {
            continue;
        };
        let l: f64 = l.trim().parse().map_err(|e| format!("label {l:?}: {e}"))?;
        let l = l != 0.0;
        if let Some(prev) = label_of.insert(t.trim().to_owned(), l) {
            if prev != l {
                return Err(format!("tender {t}: label not constant"));
            }
        }
    }
    let all = screen_market(&tenders);
    let (mut screens, mut labels, mut skipped) = (Vec::new(), Vec::new(), 0);
    for s in all {
        match label_of.get(&s.tender) {
            Some(&l) if Model::scorable(&s) => {
                screens.push(s);
                labels.push(l);
            }
            _ => skipped += 1,
        }
    }
    let context = MarketContext::from_screens(&screens);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Market {
        file: DataFile {
            file: path
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256,
            tenders: screens.len(),
            collusive: labels.iter().filter(|&&l| l).count(),
        },
        name,
        screens,
        labels,
        context,
        skipped,
        bad_lines: errors.len(),
    })
}

/// A tender of some market, by index.
#[derive(Clone, Copy)]
struct Item {
    market: usize,
    tender: usize,
}

#[derive(Default, Clone, Copy)]
struct Metrics {
    ba: Option<f64>,
    auc: Option<f64>,
    acc: Option<f64>,
    majority: Option<f64>,
}

fn example<'a>(markets: &'a [Market], it: Item) -> Example<'a> {
    let m = &markets[it.market];
    Example {
        screens: &m.screens[it.tender],
        context: Some(&m.context),
        collusive: m.labels[it.tender],
    }
}

/// Trains on `train`, scores `test`: (score, predicted, label, majority-class prediction).
fn train_and_score(
    cfg: &TrainConfig,
    markets: &[Market],
    train: &[Item],
    test: &[Item],
) -> Result<Vec<(f64, bool, bool, bool)>, String> {
    let ex: Vec<Example<'_>> = train.iter().map(|&i| example(markets, i)).collect();
    let model = fit(cfg, &ex).map_err(|e| e.to_string())?;
    let pos = ex.iter().filter(|e| e.collusive).count();
    let majority = 2 * pos > ex.len();
    test.iter()
        .map(|&i| {
            let e = example(markets, i);
            let s = model
                .score(e.screens, e.context)
                .ok_or("a scorable tender got no score")?;
            Ok((s.value, model.flags(&s), e.collusive, majority))
        })
        .collect()
}

fn metrics(pred: &[(f64, bool, bool, bool)]) -> Metrics {
    let scores: Vec<f64> = pred.iter().map(|p| p.0).collect();
    let flagged: Vec<bool> = pred.iter().map(|p| p.1).collect();
    let labels: Vec<bool> = pred.iter().map(|p| p.2).collect();
    let majority: Vec<bool> = pred.iter().map(|p| p.3).collect();
    Metrics {
        ba: balanced_accuracy(&flagged, &labels),
        auc: roc_auc(&scores, &labels),
        acc: accuracy(&flagged, &labels),
        majority: accuracy(&majority, &labels),
    }
}

fn mean_of(v: &[Metrics]) -> Metrics {
    let avg = |f: fn(&Metrics) -> Option<f64>| {
        let xs: Vec<f64> = v.iter().filter_map(f).collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    };
    Metrics {
        ba: avg(|m| m.ba),
        auc: avg(|m| m.auc),
        acc: avg(|m| m.acc),
        majority: avg(|m| m.majority),
    }
}

/// Repeated stratified k-fold CV over `items` (one item per tender, so no tender is split);
/// `stratum` groups the labels (and markets, when pooled). Metrics per repeat, then averaged.
fn cross_validate(
    cfg: &TrainConfig,
    markets: &[Market],
    items: &[Item],
    args: &Args,
) -> Result<Metrics, String> {
    let keyed: Vec<((usize, usize), usize)> = items
        .iter()
        .map(|&i| {
            let label = usize::from(markets[i.market].labels[i.tender]);
            ((i.market, i.tender), i.market * 2 + label)
        })
        .collect();
    let mut per_repeat = Vec::new();
    for r in 0..args.repeats {
        let folds = assign_folds(&keyed, args.folds, args.seed + r as u64);
        let mut pred = Vec::new();
        for k in 0..args.folds {
            let (test, train): (Vec<_>, Vec<_>) =
                items.iter().zip(&folds).partition(|(_, &f)| f == k);
            let test: Vec<Item> = test.into_iter().map(|(i, _)| *i).collect();
            let train: Vec<Item> = train.into_iter().map(|(i, _)| *i).collect();
            if !test.is_empty() {
                pred.extend(train_and_score(cfg, markets, &train, &test)?);
            }
        }
        per_repeat.push(metrics(&pred));
    }
    Ok(mean_of(&per_repeat))
}

fn items_of(markets: &[Market], which: impl Fn(usize) -> bool) -> Vec<Item> {
    markets
        .iter()
        .enumerate()
        .filter(|(m, _)| which(*m))
        .flat_map(|(m, mk)| {
            (0..mk.screens.len()).map(move |t| Item {
                market: m,
                tender: t,
            })
        })
        .collect()
}

fn row(protocol: &str, market: &str, items: &[Item], markets: &[Market], m: Metrics) -> EvalRow {
    let pos = items
        .iter()
        .filter(|i| markets[i.market].labels[i.tender])
        .count();
    let r4 = |x: Option<f64>| x.map(|v| (v * 1e4).round() / 1e4);
    EvalRow {
        protocol: protocol.into(),
        market: market.into(),
        tenders: items.len(),
        collusive_share: r4(Some(pos as f64 / items.len().max(1) as f64)).unwrap_or(0.0),
        balanced_accuracy: r4(m.ba),
        roc_auc: r4(m.auc),
        accuracy: r4(m.acc),
        majority_accuracy: r4(m.majority),
    }
}

/// Every protocol for one setting.
fn evaluate(cfg: &TrainConfig, markets: &[Market], args: &Args) -> Result<Vec<EvalRow>, String> {
    let mut rows = Vec::new();
    for (m, mk) in markets.iter().enumerate() {
        let items = items_of(markets, |x| x == m);
        let met = cross_validate(cfg, markets, &items, args)?;
        rows.push(row("within-market CV", &mk.name, &items, markets, met));
    }
    let all = items_of(markets, |_| true);
    let met = cross_validate(cfg, markets, &all, args)?;
    rows.push(row("pooled CV", "all", &all, markets, met));
    for (m, mk) in markets.iter().enumerate() {
        let test = items_of(markets, |x| x == m);
        let train = items_of(markets, |x| x != m);
        let pred = train_and_score(cfg, markets, &train, &test)?;
        rows.push(row("LOMO", &mk.name, &test, markets, metrics(&pred)));
    }
    Ok(rows)
}

fn mean_lomo_auc(rows: &[EvalRow]) -> f64 {
    let v: Vec<f64> = rows
        .iter()
        .filter(|r| r.protocol == "LOMO")
        .filter_map(|r| r.roc_auc)
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn f3(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:.3}"))
}

fn table(rows: &[EvalRow]) -> String {
    let mut s = String::from(
        "| protocol | market tested | tenders | collusive | balanced acc. | ROC AUC | accuracy | majority-class acc. |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0}% | {} | {} | {} | {} |",
            r.protocol,
            r.market,
            r.tenders,
            r.collusive_share * 100.0,
            f3(r.balanced_accuracy),
            f3(r.roc_auc),
            f3(r.accuracy),
            f3(r.majority_accuracy)
        );
    }
    s
}

fn settings() -> Vec<(&'static str, TrainConfig)> {
    vec![
        (
            "absolute, all features",
            TrainConfig::full(Normalisation::Absolute),
        ),
        (
            "absolute, core features",
            TrainConfig::core(Normalisation::Absolute),
        ),
        (
            "market-relative, all features",
            TrainConfig::full(Normalisation::MarketRobustZ),
        ),
        (
            "market-relative, core features",
            TrainConfig::core(Normalisation::MarketRobustZ),
        ),
    ]
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&args.data)
        .map_err(|e| format!("{}: {e}", args.data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    paths.sort();
    let markets: Vec<Market> = paths
        .iter()
        .map(|p| load_market(p))
        .collect::<Result<_, _>>()?;
    if markets.len() < 2 {
        return Err("need at least two markets (CSV files) for leave-one-market-out".into());
    }
    println!("## Data\n\n| market | file sha256 | tenders used | collusive | skipped tenders | bad lines |\n|---|---|---:|---:|---:|---:|");
    for m in &markets {
        println!(
            "| {} | `{}` | {} | {} | {} | {} |",
            m.name, m.file.sha256, m.file.tenders, m.file.collusive, m.skipped, m.bad_lines
        );
    }
    println!(
        "\n{}× repeated {}-fold stratified CV by tender (seed {}); LOMO trains on the other markets.\n",
        args.repeats, args.folds, args.seed
    );
    let mut best: Option<(f64, &str, TrainConfig, Vec<EvalRow>)> = None;
    println!("## Settings compared (leave-one-market-out)\n");
    println!("| setting | mean LOMO balanced acc. | mean LOMO ROC AUC | pooled CV ROC AUC |\n|---|---:|---:|---:|");
    for (name, cfg) in settings() {
        let rows = evaluate(&cfg, &markets, &args)?;
        let auc = mean_lomo_auc(&rows);
        let ba: Vec<f64> = rows
            .iter()
            .filter(|r| r.protocol == "LOMO")
            .filter_map(|r| r.balanced_accuracy)
            .collect();
        let pooled = rows
            .iter()
            .find(|r| r.protocol == "pooled CV")
            .and_then(|r| r.roc_auc);
        println!(
            "| {name} | {:.3} | {auc:.3} | {} |",
            ba.iter().sum::<f64>() / ba.len().max(1) as f64,
            f3(pooled)
        );
        if best.as_ref().is_none_or(|b| auc > b.0) {
            best = Some((auc, name, cfg, rows));
        }
    }
    let (_, name, cfg, rows) = best.ok_or("no setting evaluated")?;
    println!("\n## Shipped setting: {name}\n\n{}", table(&rows));

    let all = items_of(&markets, |_| true);
    let ex: Vec<Example<'_>> = all.iter().map(|&i| example(&markets, i)).collect();
    let mut model = fit(&cfg, &ex).map_err(|e| e.to_string())?;
    model.name = NAME.into();
    model.version = VERSION.into();
    model.description = format!(
        "Price-screen classifier ({name}): L2 logistic regression, balanced class weights, trained on {} tenders of {} markets",
        ex.len(),
        markets.len()
    );
    model.training.date = args.date.clone();
    model.training.command = format!(
        "cargo run --release -p sealbid-screen --example train_classifier -- {}",
        args.raw.join(" ")
    );
    model.training.files = markets.iter().map(|m| m.file.clone()).collect();
    model.training.tenders = ex.len();
    model.training.l2 = cfg.l2;
    model.training.class_weight = if cfg.balanced { "balanced" } else { "none" }.into();
    model.training.selection = "highest mean leave-one-market-out ROC AUC among: absolute or market-relative features, all or core features".into();
    model.evaluation = rows;
    let json = model.to_json().map_err(|e| e.to_string())?;
    Model::from_json(&json).map_err(|e| format!("the trained model does not load: {e}"))?;
    println!("\n## Coefficients (standardised inputs)\n\n| input | coefficient |\n|---|---:|\n| intercept | {:.3} |", model.intercept);
    for f in &model.features {
        println!("| {} | {:.3} |", f.name, f.coefficient);
    }
    if let Some(out) = &args.out {
        std::fs::write(out, json).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("\nModel written to {}", out.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train_classifier: {e}");
            ExitCode::FAILURE
        }
    }
}
