//! Open data end to end: `sealbid export-ocds --demo` writes the demo market (a published tender and
//! one opened with four bids, evaluated, awarded, contracted and completed) as OCDS 1.1 record and
//! release packages, which libcoveocds validates
//! against the OCDS 1.1.5 schema with 0 errors and 0 closed-codelist violations, and whose compiled
//! releases `sealbid screen --ocds` reads. The API serves the same packages to anyone and hides
//! drafts.
//!
//! The validation needs the OCDS virtualenv `.ci/run` installs (`tools/ocds/requirements.txt` into
//! `.ci/ocds-venv`). Without it the test says so and skips the validation — unless `CI` is set,
//! where it fails.
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn sealbid(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sealbid"))
        .args(args)
        .output()
        .expect("run sealbid")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `tools/ocds/validate.sh` on `file`; `None` (after a notice) when the venv is missing
/// outside CI.
fn validate(file: &Path) -> Option<String> {
    let venv = std::env::var_os("OCDS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".ci/ocds-venv"));
    if !venv.join("bin/python").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the OCDS venv is missing at {}: .ci/run installs it",
            venv.display()
        );
        eprintln!(
            "notice: no OCDS venv at {}; the libcoveocds validation did not run (create it with \
             `python3 -m venv .ci/ocds-venv && .ci/ocds-venv/bin/pip install -r tools/ocds/requirements.txt`)",
            venv.display()
        );
        return None;
    }
    let out = Command::new("bash")
        .arg(repo().join("tools/ocds/validate.sh"))
        .arg(file)
        .env("OCDS_VENV", &venv)
        .env("OCDS_OFFLINE", "1")
        .output()
        .expect("run validate.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "OCDS validation failed: {text}");
    Some(text)
}

#[test]
fn the_demo_export_is_valid_ocds_and_screens() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record.json");
    let release = dir.path().join("release.json");
    let lines = dir.path().join("compiled.jsonl");
    for (file, format) in [
        (&record, "record"),
        (&release, "release"),
        (&lines, "jsonl"),
    ] {
        let out = sealbid(&[
            "export-ocds",
            "--demo",
            "--format",
            format,
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("wrote 2 public tender(s)"));
    }
    let pkg: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    let records = pkg["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let opened = records
        .iter()
        .find(|r| r["compiledRelease"]["bids"]["details"].is_array())
        .expect("the opened demo tender has bids");
    let bids = opened["compiledRelease"]["bids"]["details"]
        .as_array()
        .unwrap();
    assert_eq!(bids.len(), 4);
    // The past tender went all the way: evaluated, awarded, contracted, complete.
    let compiled = &opened["compiledRelease"];
    assert_eq!(compiled["tender"]["status"], "complete");
    let tags: Vec<&str> = opened["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag"][0].as_str().unwrap())
        .collect();
    // The candidates' publication (pending awards), the award notice, the contract.
    assert_eq!(
        tags,
        ["tender", "tenderUpdate", "award", "award", "contract"]
    );
    let candidates = &opened["releases"][2]["awards"];
    assert!(
        candidates
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "pending"),
        "{candidates}"
    );
    assert_eq!(opened["releases"][2]["tender"]["status"], "active");
    let awards = compiled["awards"].as_array().unwrap();
    assert_eq!(awards.len(), candidates.as_array().unwrap().len());
    let active: Vec<&Value> = awards.iter().filter(|a| a["status"] == "active").collect();
    assert_eq!(active.len(), 1, "{awards:?}");
    assert!(awards
        .iter()
        .all(|a| a["status"] == "active" || a["status"] == "unsuccessful"));
    let supplier = active[0]["suppliers"][0]["id"].as_str().unwrap();
    assert!(bids.iter().any(|b| b["tenderers"][0]["id"] == supplier));
    let contracts = compiled["contracts"].as_array().unwrap();
    assert_eq!(contracts[0]["awardID"], active[0]["id"]);
    assert_eq!(contracts[0]["value"], active[0]["value"]);
    assert!(contracts[0]["dateSigned"].is_string());
    // Every tenderer is a party with the tenderer role, identified by its credit code.
    let parties = opened["compiledRelease"]["parties"].as_array().unwrap();
    for b in bids {
        let id = b["tenderers"][0]["id"].as_str().unwrap();
        assert!(id.starts_with("CN-SAIC-"), "{id}");
        let p = parties.iter().find(|p| p["id"] == id).unwrap();
        assert!(p["roles"].as_array().unwrap().contains(&json!("tenderer")));
    }
    for file in [&record, &release] {
        if let Some(summary) = validate(file) {
            assert!(
                summary.contains("0 validation errors, 0 closed-codelist violations"),
                "{summary}"
            );
        }
    }
    // The compiled releases feed the anomaly engine (the tender without bids is skipped).
    let out = sealbid(&["screen", "--ocds", lines.to_str().unwrap(), "--lenient"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tenders = report["tenders"].as_array().unwrap();
    assert_eq!(tenders.len(), 1);
    assert_eq!(tenders[0]["bids"], 4);
    assert!(tenders[0]["score"].as_f64().unwrap() > 0.0);
}

e2e_test! {
    async fn the_api_serves_open_data_and_hides_drafts(app: TestApp) {
        let org = app.create_org("Open Data Bureau", "tenderee", "370200").await;
        let owner = app.create_user("open.owner", &["tenderee"], Some(&org), "370200").await;
        let officer = app.create_user("open.officer", &["centre_officer"], None, "370200").await;
        let draft = app.create_tender(&owner, "OCDS-2026-001", 25).await;
        let published = app.create_tender(&owner, "OCDS-2026-002", 25).await;
        app.post(&format!("/tenders/{published}/submit"), Some(&owner), json!({})).await.expect(200);
        app.post(&format!("/tenders/{published}/approve"), Some(&officer), json!({})).await.expect(200);
        // Anyone reads a public tender's releases and record; a draft does not exist, even for its owner.
        let r = app.get(&format!("/ocds/tenders/{published}/releases"), None).await.expect(200);
        assert_eq!(r.body["version"], "1.1");
        let rel = &r.body["releases"][0];
        assert_eq!(rel["tag"], json!(["tender"]));
        assert_eq!(rel["tender"]["status"], "active");
        assert_eq!(rel["tender"]["id"], "OCDS-2026-002");
        assert!(rel["ocid"].as_str().unwrap().ends_with(&published));
        let rec = app.get(&format!("/ocds/tenders/{published}/record"), None).await.expect(200);
        assert_eq!(rec.body["records"][0]["ocid"], rel["ocid"]);
        for token in [None, Some(owner.as_str())] {
            app.get(&format!("/ocds/tenders/{draft}/releases"), token).await.expect(404);
            app.get(&format!("/ocds/tenders/{draft}/record"), token).await.expect(404);
        }
        let all = app.get("/ocds/records", None).await.expect(200);
        assert_eq!(all.body["records"].as_array().unwrap().len(), 1);
        let r = app.get("/ocds/records?limit=0", None).await.expect(400);
        assert_eq!(r.code(), "invalid_query");
    }
}
