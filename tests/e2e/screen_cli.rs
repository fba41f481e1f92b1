//! `sealbid screen`: the real binary on small CSV and OCDS files — JSON fields and alerts, the table,
//! strict and lenient reading of malformed lines, the choice of input, degenerate tenders, charts, a
//! misspelt settings key, a missing file — and, where the shared research data is checked out next to
//! the repository, the Brazilian, Italian and Ticino markets.
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
    assert_eq!(alerts[0]["indicator"], "identical_prices");
    assert_eq!(alerts[0]["family"], "price_pattern");
    assert_eq!(alerts[0]["legal_ground"]["cite"], "条例 40(4)");
    assert_eq!(alerts[0]["bidders"], serde_json::json!(["A", "B", "C"]));
    assert_eq!(alerts[0]["evidence"]["figures"]["price"], 100.0);
    assert_eq!(alerts[0]["fingerprint"].as_str().unwrap().len(), 64);
    // Charts only on request.
    assert!(alerts[0]["evidence"].get("chart_svg").is_none());
    // The classifier's score: a number for identical bids too, with how it was reached.
    let score = same["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{same}");
    assert!(same["score_method"]
        .as_str()
        .unwrap()
        .contains("logistic regression"));
    assert!(!same["score_parts"].as_array().unwrap().is_empty());

    let step = tender(&report, "STEP");
    assert_eq!(step["bids"], 4);
    assert_eq!(step["screens"]["spread"], 0.3);
    let alerts = step["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["indicator"], "constant_difference");
    assert_eq!(alerts[0]["legal_ground"]["cite"], "条例 40(4)");
    assert_eq!(alerts[0]["evidence"]["figures"]["step"], 10.0);
    assert_eq!(
        alerts[0]["bidders"],
        serde_json::json!(["A", "B", "C", "D"])
    );
    let score = alerts[0]["score"]["value"].as_f64().unwrap();
    assert!(score > 0.5 && score < 0.9, "{score}");

    let pair = tender(&report, "PAIR");
    assert_eq!(pair["alerts"], serde_json::json!([]));
    assert!(pair["score"].is_number(), "{pair}");
    for t in tenders {
        assert!(t["score"].is_number(), "{t}");
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
        [
            "tender", "bids", "score", "cv", "spread", "diffp", "rd", "kurt", "skew", "ks",
            "alerts"
        ]
    );
    // Aligned: every line is as long as the header (numbers are right-aligned to it).
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");
    let same: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        [&same[..2], &same[3..]].concat(),
        ["SAME", "3", "0.0000", "0.0000", "0.0000", "-", "-", "-", "-", "1"]
    );
    let score: f64 = same[2].parse().unwrap();
    assert!((0.0..=1.0).contains(&score), "{table}");
    let step: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(step[0], "STEP");
    assert_eq!(step[4], "0.3000");
    assert_eq!(step[10], "1");
    let pair: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!((pair[0], pair[10]), ("PAIR", "0"));
    assert!(pair[2].parse::<f64>().is_ok(), "{table}");
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
    assert!(err.contains("--lenient"), "{err}");
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
    assert_eq!(alerts[0]["family"], "price_screen");
    assert_eq!(alerts[0]["indicator"], "spread");
    assert_eq!(alerts[0]["evidence"]["facts"]["side"], "high");
    assert_eq!(alerts[0]["evidence"]["facts"]["source"], "configured");
    assert!(alerts[0]["legal_ground"].is_null());
    assert_eq!(alerts[0]["bidders"], serde_json::json!([]));
    assert_eq!(alerts[0]["evidence"]["figures"]["threshold"], 0.35);
    // No fences over three tenders: 0.37 is 0.02 beyond 0.35, scored relative to the threshold.
    let score = alerts[0]["score"]["value"].as_f64().unwrap();
    assert!(
        (score - (1.0 - (-0.02f64 / 0.35).exp())).abs() < 1e-9,
        "{score}"
    );

    let out = screen(dir.path(), &["--csv", "missing.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("cannot read missing.csv"), "{err}");
}

/// The shared research files: Brazil (`Tender,Bid,Competitors,Bid_value,…,Pre-Tender Estimate (PTE),
/// …,Winner,…`), Italy (same columns, another order) and Ticino (no bidder, no estimate).
#[test]
fn the_shared_research_markets_screen_every_tender() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/bid-rigging");
    for (file, tenders_expected) in [
        ("Brazil.csv", 101),
        ("Italy.csv", 278),
        ("Switzerland_Ticino.csv", 224),
    ] {
        let path = root.join(file);
        if !path.exists() {
            eprintln!(
                "skipping: {} is not checked out next to the repository",
                path.display()
            );
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = screen(dir.path(), &["--csv", path.to_str().unwrap()]);
        assert!(out.status.success(), "{file}: {}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let tenders = report["tenders"].as_array().unwrap();
        assert_eq!(tenders.len(), tenders_expected, "{file}");
        for t in tenders {
            assert!(t["bids"].as_u64().unwrap() >= 1, "{t}");
            // Scored exactly where the screens are defined (two or more usable bids).
            match t["score"].as_f64() {
                Some(score) => assert!((0.0..=1.0).contains(&score), "{t}"),
                None => assert!(t["score"].is_null() && t["screens"]["cv"].is_null(), "{t}"),
            }
            assert_eq!(t["score"].is_null(), t["screens"]["cv"].is_null(), "{t}");
            for a in t["alerts"].as_array().unwrap() {
                assert!(a["indicator"].is_string(), "{a}");
                assert!(a["score"]["value"].is_number(), "{a}");
            }
        }
        // Some market outliers are found in every market (fences are drawn over ≥ 8 tenders).
        assert!(
            tenders
                .iter()
                .flat_map(|t| t["alerts"].as_array().unwrap())
                .any(|a| a["family"] == "price_screen"),
            "{file}"
        );

        let out = screen(
            dir.path(),
            &["--csv", path.to_str().unwrap(), "--format", "table"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).lines().count(), tenders_expected + 1);
    }
}

/// The research files' headers, inline (runs without the shared data): extra columns are ignored,
/// `Competitors` are the bidders, `Winner` is 1.0/0.0, the estimate comes from the PTE column.
#[test]
fn research_headers_inline() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "research.csv",
        "\
Tender,Bid,Competitors,Bid_value,Collusive_competitor,Pre-Tender Estimate (PTE),Winner,CV
1,1,216,950,0,1000,1.0,0.1
1,2,210,970,0,1000,0.0,0.1
1,3,76,1013.37,1,1000,0.0,0.1
",
    );
    let out = screen(dir.path(), &["--csv", "research.csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = tender(&report, "1");
    assert_eq!(t["bids"], 3);
    // 950 and 970 are 95 % and 97 % of the estimate: two of three bids on round multiples.
    let multiples = t["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["indicator"] == "estimate_multiples")
        .unwrap_or_else(|| panic!("{t}"));
    assert_eq!(multiples["bidders"], serde_json::json!(["210", "216"]));
}

/// Three OCDS releases: identical prices with an estimate and an active award, a single bid, and an
/// ordinary tender with no awards.
const OCDS: &str = r#"{"ocid":"ocds-abc-1","tender":{"value":{"amount":1000,"currency":"EUR"}},"bids":{"details":[{"id":"1","status":"valid","value":{"amount":940,"currency":"EUR"},"tenderers":[{"id":"ORG-1","name":"Alpha"}]},{"id":"2","status":"valid","value":{"amount":940,"currency":"EUR"},"tenderers":[{"id":"ORG-2","name":"Beta"}]},{"id":"3","status":"valid","value":{"amount":1012.5,"currency":"EUR"},"tenderers":[{"id":"ORG-3"}]}]},"awards":[{"id":"a","status":"active","suppliers":[{"id":"ORG-2"}]}]}
{"ocid":"ocds-abc-2","bids":{"details":[{"value":{"amount":500},"tenderers":[{"id":"ORG-1"}]}]}}
{"ocid":"ocds-abc-3","bids":{"details":[{"value":{"amount":700},"tenderers":[{"id":"ORG-1"}]},{"value":{"amount":733},"tenderers":[{"id":"ORG-4"}]},{"value":{"amount":781.9},"tenderers":[{"id":"ORG-5"}]},{"value":{"amount":802.1},"tenderers":[{"id":"ORG-6"}]}]}}
"#;

#[test]
fn ocds_releases_are_screened() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "market.jsonl", OCDS);
    let out = screen(dir.path(), &["--ocds", "market.jsonl", "--charts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report["tenders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tender"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ocds-abc-1", "ocds-abc-2", "ocds-abc-3"]);

    let first = tender(&report, "ocds-abc-1");
    assert_eq!(first["bids"], 3);
    // The awarded ORG-2 (940) is the winner; the gap to the next bid at or above it is 0.
    assert_eq!(first["screens"]["winner_gap"], 0.0);
    let identical = first["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["indicator"] == "identical_prices")
        .unwrap_or_else(|| panic!("{first}"));
    assert_eq!(identical["bidders"], serde_json::json!(["ORG-1", "ORG-2"]));
    let chart = identical["evidence"]["chart_svg"].as_str().unwrap();
    assert!(
        chart.starts_with("<svg") && chart.ends_with("</svg>"),
        "{chart}"
    );
    assert!(
        chart.contains("ORG-2: 940 (winner) (named in the alert)"),
        "{chart}"
    );
    assert!(chart.contains("estimate 1000"), "{chart}");

    // One bid: every screen undefined (null), no alert, no score (null, not NaN or a made-up 0).
    let single = tender(&report, "ocds-abc-2");
    assert_eq!(single["bids"], 1);
    assert!(single["screens"]
        .as_object()
        .unwrap()
        .values()
        .all(Value::is_null));
    assert!(single["score"].is_null() && single["score_method"].is_null());
    assert_eq!(single["alerts"], serde_json::json!([]));

    let plain = tender(&report, "ocds-abc-3");
    assert_eq!(plain["bids"], 4);
    assert!(plain["screens"]["kurtosis"].is_number());

    // The table reads the same file from standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealbid"))
        .current_dir(dir.path())
        .args(["screen", "--ocds", "-", "--format", "table"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), OCDS.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(
        table.lines().nth(2).unwrap().starts_with("ocds-abc-2"),
        "{table}"
    );
}

#[test]
fn ocds_bad_lines_are_refused_by_default_and_skipped_when_lenient() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = OCDS.to_string();
    bad.push_str("{\"ocid\": \"broken\", \n");
    bad.push_str(r#"{"ocid":"x","bids":{"details":[{"value":{"amount":"12"}}]}}"#);
    bad.push('\n');
    bad.push_str(r#"{"tender":{},"bids":{"details":[{"value":{"amount":1}}]}}"#);
    bad.push('\n');
    bad.push_str(r#"{"ocid":"nobids"}"#);
    bad.push('\n');
    write(dir.path(), "bad.jsonl", &bad);

    let out = screen(dir.path(), &["--ocds", "bad.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("bad.jsonl"), "{err}");
    assert!(
        err.contains("4 malformed line(s); line 4: not valid JSON (column"),
        "{err}"
    );
    assert!(err.contains("also line(s) 5, 6, 7"), "{err}");
    assert!(err.contains("--lenient"), "{err}");

    let out = screen(dir.path(), &["--ocds", "bad.jsonl", "--lenient"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("line 5 skipped"), "{err}");
    assert!(err.contains("is a string"), "{err}");
    assert!(err.contains("line 6 skipped: no ocid"), "{err}");
    assert!(err.contains("line 7 skipped: no bids"), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = report["skipped_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 5, 6, 7]);
    assert_eq!(report["tenders"].as_array().unwrap().len(), 3);
}

#[test]
fn exactly_one_input_is_required() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "market.csv", MARKET);
    write(dir.path(), "market.jsonl", OCDS);
    let both = screen(
        dir.path(),
        &["--csv", "market.csv", "--ocds", "market.jsonl"],
    );
    assert_eq!(both.status.code(), Some(2));
    let err = text(&both.stderr);
    assert!(err.contains("--csv") && err.contains("--ocds"), "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(both.stdout.is_empty());

    let neither = screen(dir.path(), &[]);
    assert_eq!(neither.status.code(), Some(2));
    let err = text(&neither.stderr);
    assert!(err.contains("--csv") && err.contains("--ocds"), "{err}");
    assert!(err.contains("required"), "{err}");
}

/// One bid and identical bids: no crash, screens null where undefined; the score is null for one bid
/// (nothing to score) and a number for identical bids (whose CV, spread and gaps are 0).
#[test]
fn degenerate_tenders_score_or_say_null() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "odd.csv",
        "tender,bidder,price,estimate,winner\nONE,A,100,0,1\nSAME,A,250,,0\nSAME,B,250,,1\nSAME,C,250,,0\nSAME,D,250,,0\n",
    );
    let out = screen(dir.path(), &["--csv", "odd.csv", "--charts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let raw = text(&out.stdout);
    assert!(!raw.contains("NaN") && !raw.contains("Infinity"), "{raw}");
    let report: Value = serde_json::from_str(&raw).unwrap();
    let one = tender(&report, "ONE");
    assert!(one["score"].is_null());
    assert!(one["screens"]
        .as_object()
        .unwrap()
        .values()
        .all(Value::is_null));
    let same = tender(&report, "SAME");
    let score = same["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score), "{same}");
    assert!(same["screens"]["kurtosis"].is_null());
    assert_eq!(same["screens"]["spread"], 0.0);
    let chart = same["alerts"][0]["evidence"]["chart_svg"].as_str().unwrap();
    assert!(chart.contains("D: 250 (named in the alert)"), "{chart}");

    let out = screen(dir.path(), &["--csv", "odd.csv", "--format", "table"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let one: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        one,
        ["ONE", "1", "-", "-", "-", "-", "-", "-", "-", "-", "0"]
    );
}
