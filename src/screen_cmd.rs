//! `sealbid screen`: the anomaly engine from the command line. Reads a one-row-per-bid CSV or OCDS
//! releases (JSON Lines), runs every price screen per tender, the market's interquartile fences and the
//! price patterns (`sealbid_screen::engine`), and prints one record per tender (JSON) or one line per
//! tender (table). Pure computation over a file: no configuration, database or runtime is touched.
//!
//! Each tender's `score` is the built-in price classifier's (`sealbid_screen::Model::builtin`, the
//! file's tenders as the market): a number in `[0, 1]` for every tender with at least two bids whose
//! prices are finite and above zero — identical bids included — and `null` otherwise (one bid, a zero
//! price), never NaN. `score_method` says how it was reached and `score_parts` lists each input's
//! contribution to the logit (both `null` with the score).
//!
//! Progress: on a terminal, a file of at least [`PROGRESS_BYTES`] gets a progress bar on standard
//! error (indicatif) while it is read — reading and parsing is most of the work before the report —
//! and inputs of at least `engine::CHUNK` tenders one while they are screened. Nothing is drawn
//! when standard error is not a terminal, so pipes and logs stay clean.
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sealbid_screen::engine::{self, Options, TenderResult};
use sealbid_screen::{Alert, Indicator, LineError, ScorePart, Settings, TenderBids};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON document: `{"tenders": [...], "skipped_lines": [...], "settings": {...}}`.
    Json,
    /// One aligned line per tender.
    Table,
}

#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct Input {
    /// One-row-per-bid CSV (`-` for standard input). Headers: `tender,bidder,price,estimate,winner`
    /// or the research files' `Tender`, `Competitors`, `Bid_value`, `Pre-Tender Estimate (PTE)`,
    /// `Winner`; other columns are ignored.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// OCDS compiled releases, one JSON object per line (`-` for standard input), with the bid
    /// extension's `bids.details[]`; the estimate is `tender.value.amount`, the winner the supplier of
    /// an active or pending award.
    #[arg(long, value_name = "FILE")]
    ocds: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ScreenArgs {
    #[command(flatten)]
    input: Input,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Skip malformed lines (each is reported on standard error) instead of refusing the file.
    #[arg(long)]
    lenient: bool,
    /// Engine settings as JSON (fences, thresholds, patterns); unknown fields are refused.
    #[arg(long, value_name = "FILE.json")]
    settings: Option<PathBuf>,
    /// Put each alert's SVG price chart in `evidence.chart_svg` (JSON only; about 1–2 kB per alert,
    /// so off by default).
    #[arg(long)]
    charts: bool,
}

enum Kind {
    Csv,
    Ocds,
}

/// Files at least this large get a progress bar while they are read (on a terminal).
pub const PROGRESS_BYTES: u64 = 8 * 1024 * 1024;

/// A progress bar on standard error: `what`, the bar, then `counts` (an indicatif template part).
fn bar(len: u64, what: &str, counts: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let template = format!("{what:>9} [{{bar:30}}] {counts} ({{eta}} left)");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub fn run(args: ScreenArgs) -> anyhow::Result<ExitCode> {
    let settings = load_settings(args.settings.as_deref())?;
    let (kind, path) = match (args.input.csv, args.input.ocds) {
        (Some(p), None) => (Kind::Csv, p),
        (None, Some(p)) => (Kind::Ocds, p),
        // clap's group refuses both and neither; kept as an error rather than a panic.
        _ => anyhow::bail!("give exactly one of --csv FILE or --ocds FILE"),
    };
    let stdin = path.as_os_str() == "-";
    let name = if stdin {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let terminal = std::io::stderr().is_terminal();
    let mut reading = None;
    let reader: Box<dyn BufRead> = if stdin {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&path).with_context(|| format!("cannot read {name}"))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if terminal && size >= PROGRESS_BYTES {
            let bar = bar(size, "reading", "{bytes}/{total_bytes}");
            reading = Some(bar.clone());
            Box::new(std::io::BufReader::new(bar.wrap_read(file)))
        } else {
            Box::new(std::io::BufReader::new(file))
        }
    };
    let (tenders, errors) = read_input(kind, reader).with_context(|| name.clone())?;
    if let Some(bar) = reading {
        bar.finish_and_clear();
    }
    let skipped = if args.lenient {
        for e in &errors {
            eprintln!("warning: {name}: line {} skipped: {}", e.line, e.message);
        }
        errors
    } else if let Some(first) = errors.first() {
        let more = if errors.len() > 1 {
            let rest: Vec<String> = errors
                .iter()
                .skip(1)
                .take(9)
                .map(|e| e.line.to_string())
                .collect();
            let etc = if errors.len() > 10 { ", …" } else { "" };
            format!("; also line(s) {}{etc}", rest.join(", "))
        } else {
            String::new()
        };
        anyhow::bail!(
            "{name}: {} malformed line(s); line {}: {}{more}. Fix them, or pass --lenient to skip them",
            errors.len(),
            first.line,
            first.message
        );
    } else {
        Vec::new()
    };

    let total = tenders.len();
    let screening = (terminal && total >= engine::CHUNK)
        .then(|| bar(total as u64, "screening", "{pos}/{len} tenders"));
    let options = Options {
        charts: args.charts && args.format == Format::Json,
        classify: true,
    };
    let results = engine::screen_with(&tenders, &settings, options, |done, _| {
        if let Some(bar) = &screening {
            bar.set_position(done as u64);
        }
    });
    if let Some(bar) = screening {
        bar.finish_and_clear();
    }
    let rows: Vec<TenderReport<'_>> = results.iter().map(TenderReport::from).collect();

    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            let report = Report {
                tenders: rows,
                skipped_lines: &skipped,
                settings: &settings,
            };
            serde_json::to_writer_pretty(&mut out, &report)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        }
        Format::Table => write_table(&mut out, &rows),
    }
    .and_then(|()| out.flush());
    match written {
        // The reader went away (`| head`): not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write the report")),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

/// The tenders and every malformed line; `Err` only when the input cannot be read at all.
fn read_input(
    kind: Kind,
    mut reader: Box<dyn BufRead>,
) -> anyhow::Result<(Vec<TenderBids>, Vec<LineError>)> {
    Ok(match kind {
        Kind::Csv => {
            let mut data = Vec::new();
            reader.read_to_end(&mut data)?;
            sealbid_screen::read_csv(data.as_slice())?.lenient()
        }
        Kind::Ocds => sealbid_screen::ocds_input::read_ocds(reader)?.lenient(),
    })
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
    /// The classifier's score in [0, 1]; `null` where the tender cannot be scored.
    score: Option<f64>,
    score_method: Option<&'a str>,
    score_parts: Option<&'a [ScorePart]>,
    /// Every screen by name; `null` where undefined for the tender.
    screens: BTreeMap<&'static str, Option<f64>>,
    alerts: &'a [Alert],
}

impl<'a> From<&'a TenderResult> for TenderReport<'a> {
    fn from(r: &'a TenderResult) -> Self {
        let score = r.score.as_ref().filter(|s| s.value.is_finite());
        Self {
            tender: &r.tender,
            bids: r.bids,
            score: score.map(|s| s.value.clamp(0.0, 1.0)),
            score_method: score.map(|s| s.method.as_str()),
            score_parts: score.map(|s| s.parts.as_slice()),
            screens: r.screen_values(),
            alerts: &r.alerts,
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
    let mut header = vec![
        "tender".to_string(),
        "bids".to_string(),
        "score".to_string(),
    ];
    header.extend(COLUMNS.iter().map(|(h, _)| h.to_string()));
    header.push("alerts".to_string());
    cells.push(header);
    for r in rows {
        // A tender id is data: keep control characters out of the terminal.
        let tender: String = r
            .tender
            .chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect();
        let score = r
            .score
            .map_or_else(|| "-".to_string(), |v| format!("{v:.2}"));
        let mut line = vec![tender, r.bids.to_string(), score];
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
    let mut widths = vec![0usize; COLUMNS.len() + 4];
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
