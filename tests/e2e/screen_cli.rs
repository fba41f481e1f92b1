//! `sealbid screen`: the real binary on small CSV files — JSON fields and alerts, the table, strict
//! and lenient reading of a malformed line, a misspelt settings key, a missing file — and, where the
//! shared research data is checked out next to the repository, the Brazilian market.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const MARKET: &str = "\
tender,bidder,price,estimate,winner
SAME,A,100,,0
SAME,B,100,,1
SAME,C,100,,0
STEP,A,100,,1
STEP,B,110,,0
STEP,C,120,,0
STEP,D,130,,0
PAIR,A,100,,1
PAIR,B,137,,0
";

fn screen(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sealbid"))
        .current_dir(dir)
        .arg("screen")
        .args(args)
        .output()
        .expect("run sealbid screen")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn tender<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["tenders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tender"] == id)
        .unwrap_or_else(|| panic!("tender {id} in {report}"))
}

#[test]
fn json_lists_screens_and_pattern_alerts_per_tender() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "market.csv", MARKET);
    let out = screen(dir.path(), &["--csv", "market.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();

    let tenders = report["tenders"].as_array().unwrap();
    assert_eq!(tenders.len(), 3);
    assert_eq!(report["skipped_lines"], serde_json::json!([]));
    assert_eq!(report["settings"]["fences"]["k"], 1.5);

    let same = tender(&report, "SAME");
    assert_eq!(same["bids"], 3);
    assert_eq!(same["screens"]["cv"], 0.0);
    // Identical bids: the moments are undefined, and say so with null (never NaN).
    assert!(same["screens"]["skewness"].is_null());
    assert!(same["screens"]["kurtosis"].is_null());
    let alerts = same["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "identical_prices");
    assert_eq!(alerts[0]["legal_ground"], "条例 40(4)");
    assert_eq!(alerts[0]["bidders"].as_array().unwrap().len(), 3);
    assert_eq!(alerts[0]["bidders"][0]["bidder"], "A");
    assert_eq!(alerts[0]["figures"]["price"], 100.0);

    let step = tender(&report, "STEP");
    assert_eq!(step["bids"], 4);
    assert_eq!(step["screens"]["spread"], 0.3);
    let alerts = step["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "constant_difference");
    assert_eq!(alerts[0]["legal_ground"], "条例 40(4)");
    assert_eq!(alerts[0]["figures"]["step"], 10.0);
    let bidders: Vec<&str> = alerts[0]["bidders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bidder"].as_str().unwrap())
        .collect();
    assert_eq!(bidders, ["A", "B", "C", "D"]);

    let pair = tender(&report, "PAIR");
    assert_eq!(pair["alerts"], serde_json::json!([]));
    for t in tenders {
        // No classifier yet: no invented score.
        assert!(t.get("score").is_none(), "{t}");
        assert_eq!(t["screens"].as_object().unwrap().len(), 8, "{t}");
    }
}

#[test]
fn table_has_one_aligned_line_per_tender() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "market.csv", MARKET);
    // Standard input works as well as a path.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealbid"))
        .current_dir(dir.path())
        .args(["screen", "--csv", "-", "--format", "table"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), MARKET.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["tender", "bids", "cv", "spread", "diffp", "rd", "kurt", "skew", "ks", "alerts"]
    );
    // Aligned: every line is as long as the header (numbers are right-aligned to it).
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");
    let same: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        same,
        ["SAME", "3", "0.0000", "0.0000", "0.0000", "-", "-", "-", "-", "1"]
    );
    let step: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(step[0], "STEP");
    assert_eq!(step[3], "0.3000");
    assert_eq!(step[9], "1");
    let pair: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!((pair[0], pair[9]), ("PAIR", "0"));
}

#[test]
fn a_malformed_line_is_refused_by_default_and_skipped_when_lenient() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.csv",
        "tender,bidder,price\nT1,A,100\nT1,B,abc\nT1,C,120\n",
    );
    let out = screen(dir.path(), &["--csv", "bad.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("bad.csv"), "{err}");
    assert!(out.stdout.is_empty());

    let out = screen(dir.path(), &["--csv", "bad.csv", "--lenient"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("line 3 skipped"), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["skipped_lines"][0]["line"], 3);
    assert_eq!(tender(&report, "T1")["bids"], 2);
}

#[test]
fn bad_settings_and_missing_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "market.csv", MARKET);
    write(dir.path(), "typo.json", r#"{"fences": {"kk": 3}}"#);
    let out = screen(
        dir.path(),
        &["--csv", "market.csv", "--settings", "typo.json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("unknown field `kk`"), "{err}");
    assert!(err.contains("typo.json"), "{err}");

    write(dir.path(), "range.json", r#"{"fences": {"k": -1}}"#);
    let out = screen(
        dir.path(),
        &["--csv", "market.csv", "--settings", "range.json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("fences.k"));

    // Settings that apply: a configured threshold raises a market outlier alert.
    write(
        dir.path(),
        "tight.json",
        r#"{"thresholds": {"spread": {"high": 0.35}}}"#,
    );
    let out = screen(
        dir.path(),
        &["--csv", "market.csv", "--settings", "tight.json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let alerts = tender(&report, "PAIR")["alerts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "outlier");
    assert_eq!(alerts[0]["indicator"], "spread");
    assert_eq!(alerts[0]["side"], "high");
    assert_eq!(alerts[0]["source"], "configured");
    assert!(alerts[0]["legal_ground"].is_null());
    assert_eq!(alerts[0]["figures"]["threshold"], 0.35);

    let out = screen(dir.path(), &["--csv", "missing.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cannot read missing.csv"), "{err}");
}

#[test]
fn the_brazilian_market_screens_101_tenders() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/bid-rigging/Brazil.csv");
    if !path.exists() {
        eprintln!(
            "skipping: {} is not checked out next to the repository",
            path.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = screen(dir.path(), &["--csv", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tenders = report["tenders"].as_array().unwrap();
    assert_eq!(tenders.len(), 101);
    for t in tenders {
        assert!(t["bids"].as_u64().unwrap() >= 1, "{t}");
        for a in t["alerts"].as_array().unwrap() {
            assert!(a["kind"].is_string(), "{a}");
        }
    }

    let out = screen(
        dir.path(),
        &["--csv", path.to_str().unwrap(), "--format", "table"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 102);
}
