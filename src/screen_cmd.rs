//! `sealbid screen`: the anomaly engine from the command line. Reads a one-row-per-bid CSV, runs every
//! price screen per tender, the market's interquartile fences and the price patterns, and prints one
//! record per tender (JSON) or one line per tender (table). Pure computation over a file: no
//! configuration, database or runtime is touched.
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sealbid_screen::{
    detect_patterns, flag_all, screen_market, BidRef, Indicator, LineError, Outlier, PatternKind,
    Settings, Side, TenderBids, TenderScreens, ThresholdSource,
};
use serde::Serialize;

/// Tenders screened between two progress updates (and the least input that gets a progress line).
const PROGRESS_CHUNK: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON document: `{"tenders": [...], "skipped_lines": [...], "settings": {...}}`.
    Json,
    /// One aligned line per tender.
    Table,
}

#[derive(clap::Args)]
pub struct ScreenArgs {
    /// One-row-per-bid CSV (`-` for standard input). Headers: `tender,bidder,price,estimate,winner`
    /// or the research files' `Tender`, `Competitors`, `Bid_value`, `Pre-Tender Estimate (PTE)`,
    /// `Winner`; other columns are ignored.
    #[arg(long, value_name = "FILE")]
    csv: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Skip malformed lines (each is reported on standard error) instead of refusing the file.
    #[arg(long)]
    lenient: bool,
    /// Engine settings as JSON (fences, thresholds, patterns); unknown fields are refused.
    #[arg(long, value_name = "FILE.json")]
    settings: Option<PathBuf>,
}

pub fn run(args: ScreenArgs) -> anyhow::Result<ExitCode> {
    let settings = load_settings(args.settings.as_deref())?;
    let stdin = args.csv.as_os_str() == "-";
    let name = if stdin {
        "standard input".to_string()
    } else {
        args.csv.display().to_string()
    };
    let outcome = if stdin {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
        sealbid_screen::read_csv(data.as_slice())
    } else {
        let file = std::fs::File::open(&args.csv).with_context(|| format!("cannot read {name}"))?;
        sealbid_screen::read_csv(std::io::BufReader::new(file))
    }
    .with_context(|| name.clone())?;
    let (tenders, skipped) = if args.lenient {
        let (tenders, skipped) = outcome.lenient();
        for e in &skipped {
            eprintln!("warning: {name}: line {} skipped: {}", e.line, e.message);
        }
        (tenders, skipped)
    } else {
        let tenders = outcome
            .strict()
            .with_context(|| format!("{name} (pass --lenient to skip malformed lines)"))?;
        (tenders, Vec::new())
    };

    let results = screen_all(&tenders, &settings);
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            let report = Report {
                tenders: results,
                skipped_lines: &skipped,
                settings: &settings,
            };
            serde_json::to_writer_pretty(&mut out, &report)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
        Format::Table => write_table(&mut out, &results),
    }
    .and_then(|()| out.flush());
    match written {
        // The reader went away (`| head`): not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write the report")),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

fn load_settings(path: Option<&Path>) -> anyhow::Result<Settings> {
    let Some(path) = path else {
        return Ok(Settings::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the settings file {}", path.display()))?;
    let settings: Settings =
        serde_json::from_str(&text).with_context(|| format!("settings file {}", path.display()))?;
    settings
        .validate()
        .with_context(|| format!("settings file {}", path.display()))?;
    Ok(settings)
}

/// Screens, fences and patterns for every tender, in input order. Shows progress on a terminal.
fn screen_all<'a>(tenders: &'a [TenderBids], settings: &Settings) -> Vec<TenderReport<'a>> {
    let total = tenders.len();
    let progress = total >= PROGRESS_CHUNK && std::io::stderr().is_terminal();
    let mut screens: Vec<TenderScreens> = Vec::with_capacity(total);
    let mut patterns = Vec::with_capacity(total);
    for chunk in tenders.chunks(PROGRESS_CHUNK) {
        screens.extend(screen_market(chunk));
        patterns.extend(chunk.iter().map(|t| detect_patterns(t, settings)));
        if progress {
            eprint!("\rscreened {}/{total} tenders", screens.len());
        }
    }
    if progress {
        eprintln!();
    }

    let mut alerts: Vec<Vec<Alert>> = patterns
        .into_iter()
        .map(|findings| findings.into_iter().map(Alert::from_finding).collect())
        .collect();
    let position: HashMap<&str, usize> = tenders
        .iter()
        .enumerate()
        .map(|(i, t)| (t.tender.as_str(), i))
        .collect();
    for outlier in flag_all(&screens, settings) {
        if let Some(list) = position
            .get(outlier.tender.as_str())
            .and_then(|&i| alerts.get_mut(i))
        {
            list.push(Alert::from_outlier(outlier));
        }
    }

    tenders
        .iter()
        .zip(screens)
        .zip(alerts)
        .map(|((t, s), alerts)| TenderReport {
            tender: &t.tender,
            bids: s.bids,
            screens: Indicator::ALL
                .into_iter()
                .map(|i| (i.name(), s.get(i)))
                .collect(),
            alerts,
        })
        .collect()
}

#[derive(Serialize)]
struct Report<'a> {
    tenders: Vec<TenderReport<'a>>,
    skipped_lines: &'a [LineError],
    settings: &'a Settings,
}

#[derive(Serialize)]
struct TenderReport<'a> {
    tender: &'a str,
    bids: usize,
    /// Every screen by name; `null` where undefined for the tender.
    screens: BTreeMap<&'static str, Option<f64>>,
    alerts: Vec<Alert>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum AlertKind {
    Pattern(PatternKind),
    Other(&'static str),
}

/// One alert, in one shape for both sources: a market outlier (`kind: "outlier"`, no legal ground
/// of its own) or a price pattern between bidders (`kind` names the pattern).
#[derive(Serialize)]
struct Alert {
    kind: AlertKind,
    legal_ground: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    indicator: Option<Indicator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    side: Option<Side>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<ThresholdSource>,
    /// The bids involved (empty for a market outlier, which concerns the tender as a whole).
    bidders: Vec<BidRef>,
    figures: BTreeMap<&'static str, f64>,
    summary: String,
}

impl Alert {
    fn from_finding(f: sealbid_screen::Finding) -> Self {
        Self {
            kind: AlertKind::Pattern(f.kind),
            legal_ground: Some(f.legal_ground),
            indicator: None,
            side: None,
            source: None,
            bidders: f.bids,
            figures: f
                .figures
                .into_iter()
                .filter(|(_, v)| v.is_finite())
                .collect(),
            summary: f.summary,
        }
    }

    fn from_outlier(o: Outlier) -> Self {
        let mut figures = BTreeMap::from([("value", o.value), ("threshold", o.threshold)]);
        if let Some(f) = o.fences {
            figures.extend([
                ("q1", f.q1),
                ("q3", f.q3),
                ("k", f.k),
                ("fence_low", f.low),
                ("fence_high", f.high),
            ]);
        }
        figures.retain(|_, v| v.is_finite());
        let (side, cmp) = match o.side {
            Side::Low => ("low", "below"),
            Side::High => ("high", "above"),
        };
        let source = match o.source {
            ThresholdSource::Configured => "configured threshold",
            ThresholdSource::Fence => "market fence",
        };
        Self {
            kind: AlertKind::Other("outlier"),
            legal_ground: None,
            indicator: Some(o.indicator),
            side: Some(o.side),
            source: Some(o.source),
            bidders: Vec::new(),
            figures,
            summary: format!(
                "{} {:.4} is {side}: {cmp} the {source} {:.4}",
                o.indicator.name(),
                o.value,
                o.threshold
            ),
        }
    }
}

fn write_table(out: &mut impl Write, rows: &[TenderReport<'_>]) -> std::io::Result<()> {
    const COLUMNS: [(&str, Indicator); 7] = [
        ("cv", Indicator::Cv),
        ("spread", Indicator::Spread),
        ("diffp", Indicator::Diffp),
        ("rd", Indicator::Rd),
        ("kurt", Indicator::Kurtosis),
        ("skew", Indicator::Skewness),
        ("ks", Indicator::Ks),
    ];
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    let mut header = vec!["tender".to_string(), "bids".to_string()];
    header.extend(COLUMNS.iter().map(|(h, _)| h.to_string()));
    header.push("alerts".to_string());
    cells.push(header);
    for r in rows {
        let mut line = vec![r.tender.to_string(), r.bids.to_string()];
        line.extend(COLUMNS.iter().map(|(_, i)| {
            r.screens
                .get(i.name())
                .copied()
                .flatten()
                .map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
        }));
        line.push(r.alerts.len().to_string());
        cells.push(line);
    }
    let mut widths = vec![0usize; COLUMNS.len() + 3];
    for line in &cells {
        for (w, c) in widths.iter_mut().zip(line) {
            *w = (*w).max(c.chars().count());
        }
    }
    for line in &cells {
        let mut text = String::new();
        for (col, (c, &w)) in line.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if col == 0 {
                text.push_str(c);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str("  ");
                text.push_str(&" ".repeat(pad));
                text.push_str(c);
            }
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}
