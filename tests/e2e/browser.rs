//! The pages in a real browser: headless Chromium against the real server. A tenderee signs in
//! through the form, fills in the tender form with a deadline that is too early and is told the
//! earliest legal date (with everything typed kept), corrects it, and lands on the new draft's
//! page. A published tender with an amendment and an answered question is seeded through the API
//! so the list and a full tender page are rendered too.
//!
//! Needs Chromium (Debian package `chromium`, or `SEALBID_CHROMIUM=/path/to/chrome`). Without it
//! the test prints a notice and passes — unless `CI` is set, where it fails. Set
//! `SEALBID_SCREENSHOT_DIR` to keep PNG screenshots of the pages it visits.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Duration, Utc};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use sealbid_domain::{Clock, ManualClock};
use serde_json::json;

use crate::evaluation_fixture::{evaluator, opened_tender, Names};
use crate::support::{spawn_app, Backend, PASSWORD};

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The browser binary, or `None` (after a notice) when it is missing outside CI.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("SEALBID_CHROMIUM")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM));
    if path.is_file() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but Chromium is missing at {}: install the Debian package `chromium` \
             (or set SEALBID_CHROMIUM)",
            path.display()
        );
    }
    eprintln!(
        "notice: Chromium not found at {}; the browser test did not run. Install the Debian \
         package `chromium` or set SEALBID_CHROMIUM to run it.",
        path.display()
    );
    None
}

/// China-time `datetime-local` value of an instant.
fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&sealbid_domain::clock::china_tz())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenderee_creates_a_draft_in_the_browser() {
    let Some(chrome) = chromium() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.create_hall("370202", "Shinan District Trading Hall")
        .await;
    let org = app
        .create_org("Qingdao Metro Group 青岛地铁集团", "tenderee", "370200")
        .await;
    let tenderee = app
        .create_user("metro.buyer", &["tenderee"], Some(&org), "370200")
        .await;
    let officer = app
        .create_user("centre.officer", &["centre_officer"], None, "370200")
        .await;
    let bidder_org = app
        .create_org("Haixin Construction", "bidder", "370202")
        .await;
    let bidder = app
        .create_user("haixin.bids", &["bidder"], Some(&bidder_org), "370202")
        .await;

    // A published tender with an amendment and an answered question, one under review and a
    // draft, for the list and a full tender page.
    let published = app.create_tender(&tenderee, "QD-2025-0007", 30).await;
    app.post(
        &format!("/tenders/{published}/submit"),
        Some(&tenderee),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/tenders/{published}/approve"),
        Some(&officer),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/tenders/{published}/amendments"),
        Some(&tenderee),
        json!({"summary": "Ceiling price raised after the market survey",
               "changes": {"ceiling_price": "1150000.00"}}),
    )
    .await
    .expect(201);
    let q = app
        .post(
            &format!("/tenders/{published}/questions"),
            Some(&bidder),
            json!({"text": "May a consortium bid? 联合体可否投标？"}),
        )
        .await
        .expect(201);
    let qid = q.body["id"].as_str().expect("question id").to_string();
    app.post(
        &format!("/tenders/{published}/questions/{qid}/answer"),
        Some(&tenderee),
        json!({"text": "Yes, with at most two members. 接受联合体投标，成员不超过两家。", "affects_bids": true}),
    )
    .await
    .expect(200);
    let reviewing = app.create_tender(&tenderee, "QD-2025-0008", 25).await;
    app.post(
        &format!("/tenders/{reviewing}/submit"),
        Some(&tenderee),
        json!({}),
    )
    .await
    .expect(200);
    app.create_tender(&tenderee, "QD-2025-0009", 40).await;

    let run = Run {
        base: app.base.clone(),
        clock: app.clock.clone(),
        published,
        reviewing,
        shots: std::env::var_os("SEALBID_SCREENSHOT_DIR").map(PathBuf::from),
    };
    tokio::task::spawn_blocking(move || drive(&chrome, &run))
        .await
        .expect("browser thread")
        .expect("browser session");
}

/// What the browser part needs from the async part.
struct Run {
    base: String,
    clock: ManualClock,
    /// A published tender with an amendment and an answered question.
    published: String,
    /// A tender under review.
    reviewing: String,
    shots: Option<PathBuf>,
}

/// Signs in through the form; waits for the tender list.
fn sign_in(tab: &Tab, base: &str, username: &str) -> anyhow::Result<()> {
    tab.navigate_to(&format!("{base}/login"))?
        .wait_until_navigated()?;
    tab.wait_for_element("#username")?;
    fill(tab, "username", username)?;
    fill(tab, "password", PASSWORD)?;
    tab.find_element("#login-submit")?.click()?;
    tab.wait_for_element("#tender-list")?;
    Ok(())
}

/// Starts headless Chromium.
fn launch(chrome: &Path) -> anyhow::Result<Browser> {
    let args = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        // Containers often have a tiny /dev/shm, where Chromium crashes.
        "--disable-dev-shm-usage",
    ];
    let options = LaunchOptions::default_builder()
        .path(Some(chrome.to_path_buf()))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 1400)))
        .args(args.iter().map(OsStr::new).collect())
        .idle_browser_timeout(StdDuration::from_secs(120))
        .build()
        .map_err(|e| anyhow!("launch options: {e}"))?;
    Browser::new(options).context("start Chromium")
}

/// What the browser does; blocking (headless_chrome is synchronous).
fn drive(chrome: &Path, run: &Run) -> anyhow::Result<()> {
    let base = run.base.as_str();
    let now = run.clock.now();
    let browser = launch(chrome)?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(StdDuration::from_secs(30));
    let shot = |name: &str| -> anyhow::Result<()> {
        if let Some(dir) = &run.shots {
            let png =
                tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)?;
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(format!("sealbid-{name}.png")), png)?;
        }
        Ok(())
    };

    // Sign in through the form: a wrong password first.
    tab.navigate_to(&format!("{base}/login"))?
        .wait_until_navigated()?;
    tab.wait_for_element("#username")?;
    fill(&tab, "username", "metro.buyer")?;
    fill(&tab, "password", "not the password")?;
    tab.find_element("#login-submit")?.click()?;
    let error = tab.wait_for_element("#login-error")?.get_inner_text()?;
    if !error.to_lowercase().contains("wrong username or password") {
        bail!("unexpected sign-in error: {error}");
    }
    shot("login-error")?;
    // The username is kept; type the right password.
    fill(&tab, "password", PASSWORD)?;
    tab.find_element("#login-submit")?.click()?;
    tab.wait_for_element("#new-tender")?;
    if !tab.get_url().ends_with("/tenders") {
        bail!("after sign-in the browser is at {}", tab.get_url());
    }

    // The list shows the tenderee's own tenders, whatever their state.
    let list = tab.wait_for_element("#tender-list")?.get_inner_text()?;
    for code in ["QD-2025-0007", "QD-2025-0008", "QD-2025-0009"] {
        if !list.contains(code) {
            bail!("the list lacks {code}: {list}");
        }
    }
    shot("list")?;

    // The form, with a deadline only 10 days away for a project that must be tendered.
    tab.navigate_to(&format!("{base}/tenders/new"))?
        .wait_until_navigated()?;
    tab.wait_for_element("#code")?;
    fill(&tab, "code", "QD-2025-0042")?;
    fill(
        &tab,
        "title",
        "Metro Line 6 station fit-out 地铁6号线车站装修",
    )?;
    fill(
        &tab,
        "description",
        "Interior fit-out of four stations on Line 6.",
    )?;
    fill(&tab, "estimated_price", "8,600,000")?;
    fill(&tab, "ceiling_price", "9000000")?;
    fill(&tab, "bid_deposit", "160000")?;
    fill(
        &tab,
        "qualification_criteria",
        "Grade I decoration contractor licence\nWork-safety permit",
    )?;
    let too_early = now + Duration::days(10);
    set_value(&tab, "bid_deadline", &local(too_early))?;
    tab.find_element("#save")?.click()?;
    let problems = tab.wait_for_element("#problems")?.get_inner_text()?;
    if !problems.contains("earliest legal deadline") {
        bail!("no deadline problem shown: {problems}");
    }
    let earliest = sealbid_domain::tender::china_time(now + Duration::days(20));
    if !problems.contains(&earliest) {
        bail!("the problem does not name the earliest legal deadline {earliest}: {problems}");
    }
    if value(&tab, "code")? != "QD-2025-0042" || value(&tab, "estimated_price")? != "8,600,000" {
        bail!("the form lost what was typed");
    }
    shot("form-problems")?;

    // A legal deadline: the draft is created and shown.
    set_value(&tab, "bid_deadline", &local(now + Duration::days(24)))?;
    tab.find_element("#save")?.click()?;
    let state = tab.wait_for_element("#tender-state")?;
    let shown = state.get_attribute_value("data-state")?.unwrap_or_default();
    if shown != "draft" {
        bail!("the new tender is {shown}, not a draft");
    }
    let title = tab.find_element("#tender-title")?.get_inner_text()?;
    if !title.contains("Metro Line 6 station fit-out") {
        bail!("unexpected title {title}");
    }
    let code = tab.find_element("#tender-code")?.get_inner_text()?;
    if code.trim() != "QD-2025-0042" {
        bail!("unexpected code {code}");
    }
    let timetable = tab.find_element("#timetable")?.get_inner_text()?;
    if !timetable.contains("Bid deadline") {
        bail!("no timetable: {timetable}");
    }
    tab.find_element("#submit-review")?;
    shot("detail-draft")?;

    // A published tender's page: amendment and answered question, asker never shown.
    tab.navigate_to(&format!("{base}/tenders/{}", run.published))?
        .wait_until_navigated()?;
    let state = tab.wait_for_element("#tender-state")?;
    if state.get_attribute_value("data-state")?.as_deref() != Some("published") {
        bail!("the seeded tender is not published");
    }
    let page = tab.find_element("main")?.get_inner_text()?;
    for needle in [
        "Ceiling price raised",
        "May a consortium bid?",
        "Yes, with at most two members",
    ] {
        if !page.contains(needle) {
            bail!("the published tender's page lacks {needle:?}");
        }
    }
    if page.contains("haixin") || page.contains("Haixin") {
        bail!("the page names who asked");
    }
    shot("detail-published")?;

    // Sign out through the header's button.
    tab.find_element("#logout")?.click()?;
    tab.wait_for_element("a[href='/login']")?;

    // Four days on, the centre's review of the other tender is overdue (3 working days).
    run.clock.advance(Duration::days(4));
    sign_in(&tab, base, "centre.officer")?;
    tab.navigate_to(&format!("{base}/reviews"))?
        .wait_until_navigated()?;
    let queue = tab.wait_for_element("#review-queue")?.get_inner_text()?;
    if !queue.contains("QD-2025-0008") || !queue.contains("overdue by") {
        bail!("the review queue does not show the overdue tender: {queue}");
    }
    shot("reviews")?;
    tab.navigate_to(&format!("{base}/tenders/{}", run.reviewing))?
        .wait_until_navigated()?;
    tab.wait_for_element("#overdue")?;
    tab.find_element("#approve")?;
    tab.find_element("#return-problems")?;
    shot("detail-review")?;
    Ok(())
}

/// Types into a field as one text insertion (key-by-key typing costs a round trip per key).
fn fill(tab: &Tab, id: &str, text: &str) -> anyhow::Result<()> {
    tab.find_element(&format!("#{id}"))?.click()?;
    tab.send_character(text)?;
    Ok(())
}

/// Sets an input's value by script (date pickers differ by locale; typing into them does not).
fn set_value(tab: &Tab, id: &str, value: &str) -> anyhow::Result<()> {
    let js = format!(
        "document.getElementById({}).value = {}; true",
        serde_json::to_string(id)?,
        serde_json::to_string(value)?
    );
    tab.evaluate(&js, false)?;
    Ok(())
}

fn value(tab: &Tab, id: &str) -> anyhow::Result<String> {
    let js = format!(
        "document.getElementById({}).value",
        serde_json::to_string(id)?
    );
    let v = tab.evaluate(&js, false)?.value;
    Ok(v.and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default())
}

/// A bidder opens the bid page of a published tender, gets its deposit reference through the
/// page's form, seals a bid on "its own machine" (here: `sealbid_seal` in the test, writing the
/// files `sealbid seal` writes to a folder), picks those files in the upload form, submits, and
/// sees the receipt; the tender's page then counts one sealed bid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bidder_uploads_a_sealed_bid_in_the_browser() {
    let Some(chrome) = chromium() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let org = app
        .create_org("Qingdao Water Works 青岛水务", "tenderee", "370200")
        .await;
    let tenderee = app
        .create_user("water.buyer", &["tenderee"], Some(&org), "370200")
        .await;
    let officer = app
        .create_user("water.officer", &["centre_officer"], None, "370200")
        .await;
    let bidder_org = app
        .create_org("Haixin Pipes 海新管道", "bidder", "370200")
        .await;
    app.create_user("haixin.pipes", &["bidder"], Some(&bidder_org), "370200")
        .await;
    let tender = app.create_tender(&tenderee, "QD-2025-0101", 30).await;
    app.post(
        &format!("/tenders/{tender}/submit"),
        Some(&tenderee),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/tenders/{tender}/approve"),
        Some(&officer),
        json!({}),
    )
    .await
    .expect(200);
    let committee = app
        .get(&format!("/tenders/{tender}/committee"), None)
        .await
        .expect(200);
    let policy: Signed<SealingPolicy> =
        serde_json::from_value(committee.body["policy"].clone()).expect("the sealing policy");
    let files = tempfile::tempdir().expect("tempdir");
    let run = BidRun {
        base: app.base.clone(),
        tender: tender.clone(),
        org: bidder_org,
        policy,
        dir: files.path().to_path_buf(),
        shots: std::env::var_os("SEALBID_SCREENSHOT_DIR").map(PathBuf::from),
    };
    tokio::task::spawn_blocking(move || drive_bid(&chrome, &run))
        .await
        .expect("browser thread")
        .expect("browser session");
    // The server holds the bid the browser sent.
    let tid = sealbid_domain::TenderId::parse(&tender).expect("tender id");
    assert_eq!(
        app.state.store.count_active_bids(tid).await.expect("count"),
        1
    );
}

use sealbid_seal::policy::SealingPolicy;
use sealbid_seal::signed::Signed;

struct BidRun {
    base: String,
    tender: String,
    org: String,
    policy: Signed<SealingPolicy>,
    /// Where the sealed files are written (the bidder's machine).
    dir: PathBuf,
    shots: Option<PathBuf>,
}

/// Seals a bid as `sealbid seal` does and writes `manifest.json`, `price.age` and
/// `technical.age` to `dir`.
fn seal_to_folder(run: &BidRun, reference: &str) -> anyhow::Result<()> {
    use sealbid_seal::manifest::{EnvelopeEntry, Manifest};
    use sealbid_seal::threshold::{EnvelopeKind, ShareContext};
    let committee = run.policy.body.committee();
    let mut rng = rand::rngs::OsRng;
    let key = sealbid_seal::keys::SigningKey::generate(&mut rng);
    let mut entries = Vec::new();
    for (kind, file, plain) in [
        (
            EnvelopeKind::Price,
            "price.age",
            br#"{"currency":"CNY","total":"2345678.90","lines":[]}"#.to_vec(),
        ),
        (
            EnvelopeKind::Technical,
            "technical.age",
            b"technical proposal: HDPE pipes, 12 km".to_vec(),
        ),
    ] {
        let ctx = ShareContext {
            tender: run.tender.clone(),
            bidder: run.org.clone(),
            kind,
        };
        let mut out = Vec::new();
        let d = sealbid_seal::envelope::seal_envelope(
            &committee,
            &ctx,
            None,
            &mut rng,
            plain.as_slice(),
            &mut out,
        )?;
        std::fs::write(run.dir.join(file), &out)?;
        entries.push(EnvelopeEntry {
            kind,
            sha256: d.sha256_hex(),
            size: d.size,
        });
    }
    let manifest = Manifest {
        version: 1,
        tender: run.tender.clone(),
        bidder: run.org.clone(),
        policy_hash: run.policy.body.hash_hex()?,
        deposit_reference: reference.to_string(),
        envelopes: entries,
        sealed_at: Utc::now(),
    };
    let signed = Signed::sign(manifest, &key)?;
    std::fs::write(run.dir.join("manifest.json"), signed.to_json_bytes()?)?;
    Ok(())
}

fn drive_bid(chrome: &Path, run: &BidRun) -> anyhow::Result<()> {
    let base = run.base.as_str();
    let browser = launch(chrome)?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(StdDuration::from_secs(30));
    let shot = |name: &str| -> anyhow::Result<()> {
        if let Some(dir) = &run.shots {
            let png =
                tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)?;
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(format!("sealbid-{name}.png")), png)?;
        }
        Ok(())
    };
    sign_in(&tab, base, "haixin.pipes")?;

    // From the tender's page to the bid page.
    tab.navigate_to(&format!("{base}/tenders/{}", run.tender))?
        .wait_until_navigated()?;
    let count = tab.wait_for_element("#sealed-bids")?.get_inner_text()?;
    if count.trim() != "0" {
        bail!("a fresh tender shows {count} sealed bids");
    }
    tab.find_element("#bid-link")?.click()?;
    tab.wait_for_element("#bid-form")?;

    // The deposit reference, through the form; the command line names it.
    tab.find_element("#get-reference")?.click()?;
    let reference = tab
        .wait_for_element("#deposit-reference")?
        .get_inner_text()?
        .trim()
        .to_string();
    if !reference.starts_with("SB") {
        bail!("unexpected deposit reference {reference:?}");
    }
    let command = tab.find_element("#seal-command")?.get_inner_text()?;
    for needle in [
        run.tender.as_str(),
        run.org.as_str(),
        reference.as_str(),
        base,
    ] {
        if !command.contains(needle) {
            bail!("the seal command lacks {needle}: {command}");
        }
    }
    shot("bid-page")?;

    // Seal on the bidder's machine, then pick the files in the form and submit.
    seal_to_folder(run, &reference)?;
    for (input, file) in [
        ("#manifest-file", "manifest.json"),
        ("#price-file", "price.age"),
        ("#technical-file", "technical.age"),
    ] {
        let path = run.dir.join(file);
        let path = path
            .to_str()
            .ok_or_else(|| anyhow!("temporary path is not UTF-8"))?;
        tab.find_element(input)?.set_input_files(&[path])?;
    }
    tab.find_element("#submit-bid")?.click()?;
    let receipt = tab.wait_for_element("#receipt")?.get_inner_text()?;
    if !receipt.contains("sealed and logged") {
        bail!("no receipt: {receipt}");
    }
    let index = tab.find_element("#receipt-index")?.get_inner_text()?;
    if index.trim().parse::<u64>().is_err() {
        bail!("the receipt's log index is {index:?}");
    }
    let entry = tab.find_element("#receipt-entry")?.get_inner_text()?;
    if entry.trim().len() != 64 {
        bail!("the receipt's entry digest is {entry:?}");
    }
    tab.find_element("#download-receipt")?;
    let bids = tab.find_element("#bid-list")?.get_inner_text()?;
    if !bids.contains("Active") {
        bail!("the bid is not listed as active: {bids}");
    }
    shot("bid-receipt")?;

    // The tender's page counts it, and never says whose it is.
    tab.navigate_to(&format!("{base}/tenders/{}", run.tender))?
        .wait_until_navigated()?;
    let count = tab.wait_for_element("#sealed-bids")?.get_inner_text()?;
    if count.trim() != "1" {
        bail!("the tender's page shows {count} sealed bids, not 1");
    }
    let committee = tab.find_element("#committee")?.get_inner_text()?;
    if !committee.contains("Key registered") {
        bail!("the committee lacks its keys: {committee}");
    }
    let page = tab.find_element("main")?.get_inner_text()?;
    if page.contains("Haixin") {
        bail!("the tender's page names the bidder before the opening");
    }
    shot("detail-sealed")?;
    Ok(())
}

/// A supervisor walks one alert to "confirmed" in the browser: the queue, the alert's page with its
/// evidence and price chart, "take up for review", a confirmation without a reason (refused, the
/// page says why), then with a reason and a bar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_confirms_an_alert_in_the_browser() {
    use crate::api_authz::{bid, member_committee, open_as_member, user_id, FixtureBidder};
    let Some(chrome) = chromium() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let hall = "370200";
    let org = app
        .create_org("Qingdao Parks 青岛园林", "tenderee", hall)
        .await;
    let owner = app
        .create_user("parks.buyer", &["tenderee"], Some(&org), hall)
        .await;
    let officer = app
        .create_user("parks.officer", &["centre_officer"], None, hall)
        .await;
    app.create_user("parks.supervisor", &["supervisor"], None, hall)
        .await;
    let member = app
        .create_user("parks.member", &["committee_member"], None, hall)
        .await;
    let member_id = user_id(&app, &member).await;
    let member_key = crate::support::member_identity();
    let tender = app.create_tender(&owner, "QD-2025-0301", 21).await;
    member_committee(
        &app,
        &owner,
        &tender,
        (&member, &member_id),
        Some(&member_key),
    )
    .await;
    app.post(
        &format!("/tenders/{tender}/submit"),
        Some(&owner),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/tenders/{tender}/approve"),
        Some(&officer),
        json!({}),
    )
    .await
    .expect(200);
    // Three bidders; the first two bid the same price.
    for (i, price) in ["880000.00", "880000.00", "912345.00"].iter().enumerate() {
        let org = app
            .create_org(&format!("Greenway {i} 绿道"), "bidder", hall)
            .await;
        let token = app
            .create_user(&format!("greenway{i}"), &["bidder"], Some(&org), hall)
            .await;
        let b = FixtureBidder {
            token,
            org,
            key: sealbid_seal::keys::SigningKey::generate(&mut rand::rngs::OsRng),
        };
        let (reference, _) = bid(&app, &b, &tender, price).await;
        crate::screening::pay(
            &app,
            &format!("PARKS-{i}"),
            &reference,
            &format!("6222{i:012}"),
        )
        .await;
    }
    app.clock.advance(Duration::days(22));
    sealbid_server::scheduler::tick(&app.state)
        .await
        .expect("close");
    open_as_member(&app, &member, &tender, 1, &member_key).await;
    let tid = sealbid_domain::TenderId::parse(&tender).expect("tender id");
    let alerts = app
        .state
        .store
        .list_alerts(&sealbid_store::AlertFilter {
            tender: Some(tid),
            indicator: Some("identical_prices".into()),
            ..Default::default()
        })
        .await
        .expect("alerts");
    assert_eq!(
        alerts.len(),
        1,
        "the opening raised one identical-prices alert"
    );
    let alert = alerts[0].id.to_string();
    let run = AlertRun {
        base: app.base.clone(),
        alert: alert.clone(),
        shots: std::env::var_os("SEALBID_SCREENSHOT_DIR").map(PathBuf::from),
    };
    tokio::task::spawn_blocking(move || drive_alert(&chrome, &run))
        .await
        .expect("browser thread")
        .expect("browser session");
    let after = app
        .state
        .store
        .get_alert(alerts[0].id)
        .await
        .expect("alert")
        .expect("stored");
    assert_eq!(
        after.status,
        sealbid_domain::screening::AlertStatus::Confirmed
    );
    let steps = app
        .state
        .store
        .list_alert_reviews(alerts[0].id)
        .await
        .expect("steps");
    assert_eq!(
        steps.len(),
        2,
        "start and confirm, the refused attempt left nothing"
    );
    assert_eq!(
        app.state
            .store
            .list_bid_rejections(tid)
            .await
            .expect("rejections")
            .len(),
        2
    );
}

struct AlertRun {
    base: String,
    alert: String,
    shots: Option<PathBuf>,
}

fn drive_alert(chrome: &Path, run: &AlertRun) -> anyhow::Result<()> {
    let base = run.base.as_str();
    let browser = launch(chrome)?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(StdDuration::from_secs(30));
    let shot = |name: &str| -> anyhow::Result<()> {
        if let Some(dir) = &run.shots {
            let png =
                tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)?;
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(format!("sealbid-{name}.png")), png)?;
        }
        Ok(())
    };
    sign_in(&tab, base, "parks.supervisor")?;
    tab.navigate_to(&format!("{base}/supervision/alerts"))?
        .wait_until_navigated()?;
    tab.wait_for_element("#alert-queue")?;
    shot("alert-queue")?;
    tab.find_element(&format!("tr[data-alert=\"{}\"] a", run.alert))?
        .click()?;
    tab.wait_for_element("#alert-summary")?;
    tab.wait_for_element("#price-chart")?;
    let status = tab.find_element("#alert-status")?.get_inner_text()?;
    if status.trim() != "open" {
        bail!("a new alert shows the status {status:?}");
    }
    shot("alert-open")?;
    tab.find_element("#review-start")?.click()?;
    tab.wait_for_element("#review-confirm")?;
    // Confirming without a reason is refused, with the reason why.
    tab.find_element("#review-confirm")?.click()?;
    let error = tab.wait_for_element("#review-error")?.get_inner_text()?;
    if !error.contains("reason is required") {
        bail!("a confirmation without a reason said {error:?}");
    }
    fill(
        &tab,
        "reason",
        "Bidders 0 and 1 priced every line alike; confirmed with both.",
    )?;
    fill(&tab, "bar-days", "180")?;
    shot("alert-confirming")?;
    tab.find_element("#review-confirm")?.click()?;
    // The confirmation redirects back to the alert; wait for the new page's status.
    let mut status = String::new();
    for _ in 0..300 {
        status = tab
            .find_element("#alert-status")
            .and_then(|e| e.get_inner_text())
            .unwrap_or_default();
        if status.trim() == "confirmed" {
            break;
        }
        std::thread::sleep(StdDuration::from_millis(100));
    }
    if status.trim() != "confirmed" {
        bail!("after confirming the alert shows {status:?}");
    }
    shot("alert-confirmed")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The evaluation pages

/// An opened tender (`evaluation_fixture`) with a drawn committee of five experts whose evaluator
/// accounts are linked (`{prefix}.ev0` … `{prefix}.ev4`, in seat order), its bids in log order and
/// the scoring scheme (T1 technical 60, C1 commercial 20, the price 20).
struct EvalWorld {
    tender: String,
    owner: String,
    /// The members' bearer tokens, in seat order.
    tokens: Vec<String>,
    /// The members' usernames, in seat order.
    usernames: Vec<String>,
    /// The members' pool ids (their key on the progress page), in seat order.
    experts: Vec<String>,
    bids: Vec<String>,
    /// The bidders' names, in the order of `bids`.
    bidders: Vec<String>,
}

async fn evaluation_world(
    app: &crate::support::TestApp,
    prefix: &str,
    prices: &[&str],
) -> EvalWorld {
    let mut experts = String::new();
    for i in 1..=6 {
        experts.push_str(&format!(
            "E{i:02},评委{i} Expert {i},A01 building works,370200,yes\n"
        ));
    }
    let names = Names {
        prefix,
        owner_org: &format!("{prefix} Bureau 青岛城建"),
        code: &format!("QD-{}-001", prefix.to_uppercase()),
        bidders: &format!("{prefix} Builder"),
        payments: prefix,
        experts: &experts,
    };
    let opened = opened_tender(app, &names, prices).await;
    let tender = opened.tender;
    let d = app
        .post(
            &format!("/tenders/{tender}/committee-draw"),
            Some(&opened.officer),
            json!({"committee_size": 5, "tenderee_representatives": 0,
                   "quotas": [{"specialty": "A01", "count": 5}]}),
        )
        .await
        .expect(201);
    let experts: Vec<String> = d.body["public"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["expert_id"].as_str().expect("expert id").to_string())
        .collect();
    let mut tokens = Vec::new();
    let mut usernames = Vec::new();
    for (i, e) in experts.iter().enumerate() {
        let username = format!("{prefix}.ev{i}");
        tokens.push(evaluator(app, &opened.officer, e, &username).await);
        usernames.push(username);
    }
    app.put(
        &format!("/tenders/{tender}/evaluation/scheme"),
        Some(&opened.owner),
        json!({"method": "comprehensive_scoring", "price_formula": {"kind": "lowest_valid"},
               "criteria": [
                   {"id": "T1", "part": "technical", "label": "Construction plan 施工方案", "max": "60"},
                   {"id": "C1", "part": "commercial", "label": "Track record 业绩", "max": "20"},
                   {"id": "P", "part": "price", "label": "Price 报价", "max": "20"}]}),
    )
    .await
    .expect(204);
    let tid = sealbid_domain::TenderId::parse(&tender).expect("tender id");
    let mut stored = app.state.store.list_bids(tid).await.expect("bids");
    stored.sort_by_key(|b| b.log_index);
    // The bids were submitted in the order of `prices`.
    let bids = stored.iter().map(|b| b.id.to_string()).collect();
    EvalWorld {
        tender,
        owner: opened.owner,
        tokens,
        usernames,
        experts,
        bids,
        bidders: opened.bidder_names,
    }
}

/// What the members have done through the API when a browser test starts.
struct Work {
    /// The session's time is set, 2 days out.
    timed: bool,
    /// The members from this seat on declare, then check and score each bid as below.
    first: usize,
    /// Member `i`'s checklist item for bid `j` (`None`: not checked).
    item: fn(usize, usize) -> Option<serde_json::Value>,
    /// Member `i`'s scores for bid `j` (`None`: not scored).
    scores: fn(usize, usize) -> Option<serde_json::Value>,
}

/// The evaluation world of `evaluation_world` with the members' `work` done through the API;
/// returns it with the session's time, if set.
async fn worked_world(
    app: &crate::support::TestApp,
    prefix: &str,
    prices: &[&str],
    work: Work,
) -> (EvalWorld, Option<DateTime<Utc>>) {
    let w = evaluation_world(app, prefix, prices).await;
    let path = |p: &str| format!("/tenders/{}/evaluation/{p}", w.tender);
    let mut due = None;
    if work.timed {
        let at = app.clock_now() + Duration::days(2);
        let body = json!({"due_at": at.to_rfc3339()});
        app.put(&path("time"), Some(&w.owner), body)
            .await
            .expect(204);
        due = Some(at);
    }
    for (i, token) in w.tokens.iter().enumerate().skip(work.first) {
        let body = json!({"no_conflict": true});
        app.post(&path("declaration"), Some(token), body)
            .await
            .expect(204);
        for (j, b) in w.bids.iter().enumerate() {
            if let Some(item) = (work.item)(i, j) {
                let body = json!({"items": [item]});
                app.put(&path(&format!("qualification/{b}")), Some(token), body)
                    .await
                    .expect(204);
            }
            if let Some(scores) = (work.scores)(i, j) {
                let body = json!({"scores": scores});
                app.put(&path(&format!("sheets/{b}")), Some(token), body)
                    .await
                    .expect(204);
            }
        }
    }
    (w, due)
}

/// Each member's scores in the worlds where every sheet differs: T1 `40 + i + 2j`, C1 `10 + i`.
fn spread_scores(i: usize, j: usize) -> serde_json::Value {
    json!({"T1": format!("{}", 40 + i + 2 * j), "C1": format!("{}", 10 + i)})
}

/// Runs a browser session on a thread of its own (headless_chrome blocks); fails the test with
/// `what` if the session fails.
async fn in_browser(what: &str, session: impl FnOnce() -> anyhow::Result<()> + Send + 'static) {
    tokio::task::spawn_blocking(session)
        .await
        .expect("browser thread")
        .expect(what);
}

/// A call to the API from the browser's (blocking) thread, on the test's runtime.
struct ApiFromBrowser {
    rt: tokio::runtime::Handle,
    client: reqwest::Client,
    base: String,
}

impl ApiFromBrowser {
    /// The API of `app`, called on the current runtime.
    fn new(app: &crate::support::TestApp) -> ApiFromBrowser {
        ApiFromBrowser {
            rt: tokio::runtime::Handle::current(),
            client: app.client.clone(),
            base: app.base.clone(),
        }
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let url = format!("{}/api/v1{path}", self.base);
        self.rt.block_on(async {
            let mut req = self.client.request(method, &url).bearer_auth(token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await?;
            let status = resp.status();
            let text = resp.text().await?;
            if !status.is_success() {
                bail!("{url}: {status}: {text}");
            }
            Ok(if text.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_str(&text)?
            })
        })
    }
}

/// Sets the value of the element `css` selects, by script.
fn set_css(tab: &Tab, css: &str, value: &str) -> anyhow::Result<()> {
    let js = format!(
        "(function () {{ var e = document.querySelector({}); if (!e) return false; e.value = {}; return true; }})()",
        serde_json::to_string(css)?,
        serde_json::to_string(value)?
    );
    if tab.evaluate(&js, false)?.value != Some(serde_json::Value::Bool(true)) {
        bail!("nothing matches {css}");
    }
    Ok(())
}

/// Evaluates a script and returns its value as JSON.
fn eval(tab: &Tab, js: &str) -> anyhow::Result<serde_json::Value> {
    Ok(tab.evaluate(js, false)?.value.unwrap_or_default())
}

/// The whole page's HTML as the browser has it.
fn page_html(tab: &Tab) -> anyhow::Result<String> {
    Ok(eval(tab, "document.documentElement.outerHTML")?
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Waits (at most 30 s) until `js` evaluates to true.
fn wait_true(tab: &Tab, js: &str, what: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if eval(tab, js)? == serde_json::Value::Bool(true) {
            return Ok(());
        }
        std::thread::sleep(StdDuration::from_millis(100));
    }
    bail!("timed out waiting for {what}")
}

/// One evaluator's full session in the browser. The other four members have declared, checked and
/// scored through the API, but for one last sheet that arrives while the evaluator watches the
/// live progress. The evaluator declares (a first try without ticking the box is refused), checks
/// each bid (failing one, with a reason), scores each bid (a score out of range first: refused
/// with the reason, the typed values kept), sees the progress table update in place, draws up
/// the report and signs it — with a key and signature computed here over the signing bytes read
/// from the page — after the others signed through the API; the report is then logged and the
/// public result page shows the candidates, the rejected bid and the committee.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluator_completes_the_session_in_the_browser() {
    let Some(chrome) = chromium() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    // Members 1–4 do their part; members 1 and 2 fail the third bid on the licence, which with
    // the evaluator's failure in the browser is a majority. Member 4 leaves its last sheet for
    // later.
    let work = Work {
        timed: true,
        first: 1,
        item: |i, j| {
            Some(if j == 2 && i <= 2 {
                json!({"criterion": 0, "pass": false, "reason": "licence expired in 2025"})
            } else {
                json!({"criterion": 0, "pass": true})
            })
        },
        scores: |i, j| (i != 4 || j != 2).then(|| spread_scores(i, j)),
    };
    let prices = ["951000.00", "962000.00", "940000.00"];
    let (w, _) = worked_world(&app, "evalb", &prices, work).await;
    let path = |p: &str| format!("/tenders/{}/evaluation/{p}", w.tender);
    let run = EvalRun {
        base: app.base.clone(),
        world_tender: w.tender.clone(),
        username: w.usernames[0].clone(),
        tokens: w.tokens.clone(),
        experts: w.experts.clone(),
        bids: w.bids.clone(),
        bidders: w.bidders.clone(),
        api: ApiFromBrowser::new(&app),
        shots: std::env::var_os("SEALBID_SCREENSHOT_DIR").map(PathBuf::from),
    };
    in_browser("browser session", move || drive_evaluation(&chrome, &run)).await;
    // The report is signed by all five and logged.
    let r = app.get(&path("report"), Some(&w.owner)).await.expect(200);
    assert!(r.body["logged"]["log_index"].is_u64(), "{}", r.text);
    assert_eq!(r.body["signatures"].as_array().map(Vec::len), Some(5));
    let rejected = r.body["report"]["outcome"]["rejected"]
        .as_array()
        .expect("rejected");
    assert!(rejected
        .iter()
        .any(|x| x["bid"] == w.bids[2].as_str()
            && x["rejection"]["ground"] == "failed_qualification"));
    let checklist = app
        .get(&path("qualification"), Some(&w.tokens[0]))
        .await
        .expect(200);
    assert_eq!(checklist.body.as_array().map(Vec::len), Some(3));
}

struct EvalRun {
    base: String,
    world_tender: String,
    username: String,
    tokens: Vec<String>,
    experts: Vec<String>,
    bids: Vec<String>,
    bidders: Vec<String>,
    api: ApiFromBrowser,
    shots: Option<PathBuf>,
}

fn drive_evaluation(chrome: &Path, run: &EvalRun) -> anyhow::Result<()> {
    use base64::Engine as _;
    let base = run.base.as_str();
    let tender = run.world_tender.as_str();
    let browser = launch(chrome)?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(StdDuration::from_secs(30));
    let shot = |name: &str| screenshot(&tab, &run.shots, name);
    sign_in(&tab, base, &run.username)?;

    // From the tender's page to the workspace: only the declaration before declaring.
    tab.navigate_to(&format!("{base}/tenders/{tender}"))?
        .wait_until_navigated()?;
    tab.wait_for_element("#evaluation-workspace-link")?
        .click()?;
    tab.wait_for_element("#declaration-form")?;
    let html = page_html(&tab)?;
    if html.contains("bid-table") || run.bidders.iter().any(|b| html.contains(b.as_str())) {
        bail!("the workspace shows the bids before the declaration");
    }
    fill(
        &tab,
        "statement",
        "No ties to any bidder. 与投标人无利害关系。",
    )?;
    tab.find_element("#declare")?.click()?;
    let error = tab.wait_for_element("#workspace-error")?.get_inner_text()?;
    if !error.contains("conflict of interest withdraws") {
        bail!("declaring without the box said {error:?}");
    }
    if !value(&tab, "statement")?.contains("No ties to any bidder") {
        bail!("the statement was lost");
    }
    tab.find_element("#no-conflict")?.click()?;
    tab.find_element("#declare")?.click()?;
    tab.wait_for_element("#bid-table")?;
    let table = tab.find_element("#bid-table")?.get_inner_text()?;
    for (b, price) in run
        .bidders
        .iter()
        .zip(["¥951,000.00", "¥962,000.00", "¥940,000.00"])
    {
        if !table.contains(b.as_str()) || !table.contains(price) {
            bail!("the bid table lacks {b} at {price}: {table}");
        }
    }
    // Each bid's envelopes link to the ciphertexts, public since the opening.
    let href = eval(
        &tab,
        &format!(
            "document.querySelector('#bid-{} .docs a').getAttribute('href')",
            run.bids[0]
        ),
    )?;
    if !href
        .as_str()
        .is_some_and(|h| h.starts_with(&format!("/api/v1/tenders/{tender}/envelopes/")))
    {
        bail!("the envelope link is {href}");
    }
    shot("evaluation-declared")?;

    // The qualification checklists: the third bid fails, with the reason.
    for (j, b) in run.bids.iter().enumerate() {
        let choice = if j == 2 { "fail" } else { "pass" };
        tab.find_element(&format!(
            "#checklist-{b} input[name='pass.0'][value='{choice}']"
        ))?
        .click()?;
        if j == 2 {
            set_css(
                &tab,
                &format!("#checklist-{b} input[name='reason.0']"),
                "no valid Grade II licence in the bid",
            )?;
        }
        tab.find_element(&format!("#save-checklist-{b}"))?.click()?;
        tab.wait_for_element(&format!("#checklist-saved-{b}"))?;
    }
    // Saved answers come back on reload.
    let failed = eval(
        &tab,
        &format!(
            "document.querySelector(\"#checklist-{} input[value='fail']\").checked",
            run.bids[2]
        ),
    )?;
    if failed != serde_json::Value::Bool(true) {
        bail!("the saved failure is not shown");
    }

    // Scores: out of range first (the browser flags it; sent anyway, the server refuses it).
    let b0 = &run.bids[0];
    set_css(&tab, &format!("#sheet-{b0} input[name='score.T1']"), "75")?;
    set_css(&tab, &format!("#sheet-{b0} input[name='score.C1']"), "15")?;
    let overflow = eval(
        &tab,
        &format!(
            "document.querySelector(\"#sheet-{b0} input[name='score.T1']\").validity.rangeOverflow"
        ),
    )?;
    if overflow != serde_json::Value::Bool(true) {
        bail!("the browser does not flag 75 of 60");
    }
    eval(
        &tab,
        &format!("document.getElementById('sheet-{b0}').submit(); true"),
    )?;
    let error = tab
        .wait_for_element(&format!("#error-{b0}"))?
        .get_inner_text()?;
    if !error.contains("outside that range") {
        bail!("an out-of-range score said {error:?}");
    }
    let kept = eval(
        &tab,
        &format!("document.querySelector(\"#sheet-{b0} input[name='score.T1']\").value"),
    )?;
    if kept.as_str() != Some("75") {
        bail!("the typed score was lost: {kept}");
    }
    shot("evaluation-score-refused")?;
    for b in &run.bids {
        set_css(&tab, &format!("#sheet-{b} input[name='score.T1']"), "52.5")?;
        set_css(&tab, &format!("#sheet-{b} input[name='score.C1']"), "16")?;
        tab.find_element(&format!("#save-sheet-{b}"))?.click()?;
        tab.wait_for_element(&format!("#sheet-saved-{b}"))?;
        // Until every member has scored every bid, only the evaluator's own scores.
        tab.find_element("#sheets-sealed")?;
    }

    // The live progress: member 4 still owes a sheet; it arrives while the page is open.
    tab.find_element("#progress-link")?.click()?;
    tab.wait_for_element("#progress-table")?;
    let last = &run.experts[4];
    let cell = |field: &str| {
        format!("document.querySelector('tr[data-member=\"{last}\"] [data-field=\"{field}\"]').textContent")
    };
    if eval(&tab, &cell("sheets"))?.as_str() != Some("2/3") {
        bail!("member 4's sheets show {}", eval(&tab, &cell("sheets"))?);
    }
    if eval(&tab, "document.getElementById('ready').dataset.ready")?.as_str() != Some("false") {
        bail!("the session shows ready too early");
    }
    wait_true(
        &tab,
        "document.getElementById('live-status').textContent.indexOf('Live') === 0",
        "the progress stream",
    )?;
    eval(&tab, "window.stayedOnThePage = true; true")?;
    run.api.call(
        reqwest::Method::PUT,
        &format!("/tenders/{tender}/evaluation/sheets/{}", run.bids[2]),
        &run.tokens[4],
        Some(json!({"scores": {"T1": "48", "C1": "14"}})),
    )?;
    wait_true(
        &tab,
        &format!(
            "{} === '3/3' && document.getElementById('ready').dataset.ready === 'true'",
            cell("sheets")
        ),
        "the table to update",
    )?;
    if eval(&tab, "window.stayedOnThePage === true")? != serde_json::Value::Bool(true) {
        bail!("the page was reloaded rather than updated");
    }
    shot("evaluation-progress")?;

    // Back in the workspace: everyone's sheets, and the report to draw up.
    tab.find_element("#workspace-link")?.click()?;
    tab.wait_for_element("#all-sheets")?;
    let sheets = tab.find_element("#all-sheets")?.get_inner_text()?;
    if !sheets.contains("48") || !sheets.contains(run.experts[4].as_str()) {
        bail!("everyone's sheets are not shown: {sheets}");
    }
    tab.find_element("#draw-up")?.click()?;
    let digest = tab
        .wait_for_element("#report-digest")?
        .get_inner_text()?
        .trim()
        .to_string();
    let command = tab.find_element("#sign-command")?.get_inner_text()?;
    let expected = format!(
        "sealbid sign-report {tender} --server {base} --signing-key signing.key --digest {digest}"
    );
    if command.trim() != expected {
        bail!("the command is {command:?}, not {expected:?}");
    }
    let ranking = tab.find_element("#report-ranking")?.get_inner_text()?;
    if !ranking.contains(run.bidders[0].as_str()) || ranking.contains(run.bidders[2].as_str()) {
        bail!("unexpected ranking: {ranking}");
    }
    let b64 = tab
        .find_element("#signing-bytes")?
        .get_inner_text()?
        .trim()
        .to_string();
    let bytes = base64::engine::general_purpose::STANDARD.decode(&b64)?;
    if !bytes.starts_with(b"sealbid.org/evaluation-report/v1\n") {
        bail!("the signing bytes are not a report's");
    }
    shot("evaluation-report")?;

    // The other four sign through the API (each with the version current then).
    for token in &run.tokens[1..] {
        let path = format!("/tenders/{tender}/evaluation/report");
        let current = run.api.call(reqwest::Method::GET, &path, token, None)?;
        let key = sealbid_seal::keys::SigningKey::generate(&mut rand::rngs::OsRng);
        run.api.call(
            reqwest::Method::POST,
            &format!("{path}/signatures"),
            token,
            Some(json!({
                "key": key.verifying_key().to_string(),
                "signature": key.sign(&bytes).to_string(),
                "version": current["version"],
            })),
        )?;
    }

    // The evaluator signs last: a signature over something else first.
    let key = sealbid_seal::keys::SigningKey::generate(&mut rand::rngs::OsRng);
    fill(&tab, "sign-key", &key.verifying_key().to_string())?;
    fill(
        &tab,
        "sign-signature",
        &key.sign(b"not the report").to_string(),
    )?;
    tab.find_element("#sign-report")?.click()?;
    let error = tab.wait_for_element("#workspace-error")?.get_inner_text()?;
    if !error.contains("does not verify") {
        bail!("a wrong signature said {error:?}");
    }
    if value(&tab, "sign-key")? != key.verifying_key().to_string() {
        bail!("the pasted key was lost");
    }
    set_value(&tab, "sign-signature", &key.sign(&bytes).to_string())?;
    tab.find_element("#sign-report")?.click()?;
    let logged = tab.wait_for_element("#report-logged")?.get_inner_text()?;
    if !logged.contains("logged at index") {
        bail!("not logged: {logged}");
    }
    let index = tab
        .find_element("#report-log-index")?
        .get_inner_text()?
        .trim()
        .to_string();
    shot("evaluation-signed")?;

    // The public result.
    tab.find_element("#result-link")?.click()?;
    let candidates = tab.wait_for_element("#candidates")?.get_inner_text()?;
    for b in &run.bidders[..2] {
        if !candidates.contains(b.as_str()) {
            bail!("the candidates lack {b}: {candidates}");
        }
    }
    let rejected = tab.find_element("#rejected")?.get_inner_text()?;
    if !rejected.contains(run.bidders[2].as_str()) || !rejected.contains("failed qualification") {
        bail!("the rejected bid is not shown: {rejected}");
    }
    let names = tab.find_element("#committee-names")?.get_inner_text()?;
    if names.matches("Expert").count() != 5 {
        bail!("the committee is not named: {names}");
    }
    if tab
        .find_element("#result-log-index")?
        .get_inner_text()?
        .trim()
        != index
    {
        bail!("the result names another log index");
    }
    shot("evaluation-result")?;
    Ok(())
}

/// Member B has scored every bid with distinctive scores through the API (as have the others);
/// member A, in the browser, sees none of them — nor does the API show them to A — until A has
/// scored the last bid; then A's page shows everyone's sheets, B's included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluator_cannot_see_others_scores_before_submitting() {
    let Some(chrome) = chromium() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    // Every member declares; all but A (the first) score every bid, B (the second) distinctively.
    let work = Work {
        timed: false,
        first: 0,
        item: |_, _| None,
        scores: |i, _| match i {
            0 => None,
            1 => Some(json!({"T1": "47.25", "C1": "13.75"})),
            _ => Some(json!({"T1": format!("{}", 40 + i), "C1": "10"})),
        },
    };
    let prices = ["951000.00", "962000.00", "958000.00"];
    let (w, _) = worked_world(&app, "blind", &prices, work).await;
    let path = |p: &str| format!("/tenders/{}/evaluation/{p}", w.tender);
    let sheets = app
        .get(&path("sheets"), Some(&w.tokens[0]))
        .await
        .expect(200);
    assert_eq!(sheets.body["complete"], false);
    assert!(!sheets.text.contains("47.25"), "{}", sheets.text);
    let run = BlindRun {
        base: app.base.clone(),
        tender: w.tender.clone(),
        username: w.usernames[0].clone(),
        token: w.tokens[0].clone(),
        bids: w.bids.clone(),
        api: ApiFromBrowser::new(&app),
    };
    in_browser("browser session", move || drive_blind(&chrome, &run)).await;
    let sheets = app
        .get(&path("sheets"), Some(&w.tokens[0]))
        .await
        .expect(200);
    assert_eq!(sheets.body["complete"], true);
    assert!(sheets.text.contains("47.25"), "{}", sheets.text);
}

struct BlindRun {
    base: String,
    tender: String,
    username: String,
    token: String,
    bids: Vec<String>,
    api: ApiFromBrowser,
}

fn drive_blind(chrome: &Path, run: &BlindRun) -> anyhow::Result<()> {
    let base = run.base.as_str();
    let browser = launch(chrome)?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(StdDuration::from_secs(30));
    sign_in(&tab, base, &run.username)?;
    tab.navigate_to(&format!("{base}/tenders/{}/evaluation", run.tender))?
        .wait_until_navigated()?;
    tab.wait_for_element("#bid-table")?;
    let sealed = |when: &str| -> anyhow::Result<()> {
        let html = page_html(&tab)?;
        if html.contains("47.25") || html.contains("13.75") || html.contains("all-sheets") {
            bail!("{when}: the page shows another member's scores");
        }
        tab.find_element("#sheets-sealed")?;
        let api = run.api.call(
            reqwest::Method::GET,
            &format!("/tenders/{}/evaluation/sheets", run.tender),
            &run.token,
            None,
        )?;
        if api.to_string().contains("47.25") {
            bail!("{when}: the API shows another member's scores");
        }
        Ok(())
    };
    sealed("before scoring")?;
    let (last, others) = run.bids.split_last().ok_or_else(|| anyhow!("no bids"))?;
    for b in others {
        set_css(&tab, &format!("#sheet-{b} input[name='score.T1']"), "50")?;
        set_css(&tab, &format!("#sheet-{b} input[name='score.C1']"), "15")?;
        tab.find_element(&format!("#save-sheet-{b}"))?.click()?;
        tab.wait_for_element(&format!("#sheet-saved-{b}"))?;
        sealed("after scoring some of the bids")?;
    }
    // Reloading resumes with the saved scores filled in.
    let first = &run.bids[0];
    tab.reload(true, None)?.wait_until_navigated()?;
    tab.wait_for_element(&format!("#sheet-saved-{first}"))?;
    let kept = eval(
        &tab,
        &format!("document.querySelector(\"#sheet-{first} input[name='score.T1']\").value"),
    )?;
    if kept.as_str() != Some("50") {
        bail!("the saved score is not filled in: {kept}");
    }
    sealed("after reloading")?;
    set_css(&tab, &format!("#sheet-{last} input[name='score.T1']"), "51")?;
    set_css(&tab, &format!("#sheet-{last} input[name='score.C1']"), "12")?;
    tab.find_element(&format!("#save-sheet-{last}"))?.click()?;
    let all = tab.wait_for_element("#all-sheets")?.get_inner_text()?;
    if !all.contains("47.25") || !all.contains("13.75") {
        bail!("after scoring every bid, B's scores are not shown: {all}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// After the evaluation: publication, objections, the award notice, the contract, the refunds

/// Draws up the report and has every member sign it (each with a key of their own): the last
/// signature logs it. Returns the candidates' bids in rank order.
async fn log_report(app: &crate::support::TestApp, w: &EvalWorld) -> Vec<String> {
    use base64::Engine as _;
    let path = |p: &str| format!("/tenders/{}/evaluation/{p}", w.tender);
    let report = app
        .post(&path("report"), Some(&w.tokens[0]), json!({}))
        .await
        .expect(201);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(report.body["signing_bytes_b64"].as_str().expect("bytes"))
        .expect("base64");
    for token in &w.tokens {
        let key = sealbid_seal::keys::SigningKey::generate(&mut rand::rngs::OsRng);
        let current = app.get(&path("report"), Some(token)).await.expect(200);
        app.post(
            &path("report/signatures"),
            Some(token),
            json!({"key": key.verifying_key().to_string(),
                   "signature": key.sign(&bytes).to_string(),
                   "version": current.body["version"]}),
        )
        .await
        .expect(200);
    }
    let r = app.get(&path("report"), Some(&w.owner)).await.expect(200);
    assert!(r.body["logged"]["log_index"].is_u64(), "{}", r.text);
    r.body["report"]["outcome"]["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| c["bid"].as_str().expect("bid").to_string())
        .collect()
}

/// Two members ask for more time in their workspaces (the first without a reason first: refused,
/// then recorded without extending; the second, making more than a third of five, extends it by
/// 24 hours). Then, with the report logged, the tenderee publishes the candidates in the result
/// page; a bidder objects; the clock passes the end of the publication and a second objection
/// sent from the page still open is refused with the closing time; the tenderee answers, gives
/// the award notice to the first candidate and records the contract; the centre officer finds the
/// refunds in the task list, and once they are overdue (shown first) marks them refunded, one from
/// the result page and the others from the list. The tender is then complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenderee_awards_and_a_bidder_objects_in_the_browser() {
    let Some(chrome) = chromium() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    // Every member has declared, checked every bid (all pass) and scored it, as in
    // `evaluation_session.rs`; the session's time is 2 days out; the report is not drawn up.
    let work = Work {
        timed: true,
        first: 0,
        item: |_, _| Some(json!({"criterion": 0, "pass": true})),
        scores: |i, j| Some(spread_scores(i, j)),
    };
    let prefix = "award";
    let prices = ["951000.00", "962000.00", "940000.00"];
    let (w, due) = worked_world(&app, prefix, &prices, work).await;
    let shots = std::env::var_os("SEALBID_SCREENSHOT_DIR").map(PathBuf::from);

    // The members' part: more time.
    let run = MoreTimeRun {
        base: app.base.clone(),
        tender: w.tender.clone(),
        usernames: w.usernames[..2].to_vec(),
        due: due.expect("the session's time"),
        shots: shots.clone(),
    };
    let chrome2 = chrome.clone();
    in_browser("browser session (more time)", move || {
        drive_more_time(&chrome2, &run)
    })
    .await;
    let progress = app
        .get(
            &format!("/tenders/{}/evaluation/progress", w.tender),
            Some(&w.tokens[0]),
        )
        .await
        .expect(200);
    assert_eq!(progress.body["extended"], 1, "{}", progress.text);

    // The report, logged.
    let candidates = log_report(&app, &w).await;
    assert_eq!(candidates.len(), 3);

    let tender = w.tender.clone();
    let run = AwardRun {
        base: app.base.clone(),
        clock: app.clock.clone(),
        tender: tender.clone(),
        owner_username: format!("{prefix}.owner"),
        owner: w.owner.clone(),
        officer_username: format!("{prefix}.officer"),
        bidder_username: format!("{prefix}.bidder0"),
        api: ApiFromBrowser::new(&app),
        shots,
    };
    in_browser("browser session (award)", move || {
        drive_award(&chrome, &run)
    })
    .await;

    // The end state, through the API.
    let t = app
        .get(&format!("/tenders/{tender}"), None)
        .await
        .expect(200);
    assert_eq!(t.body["state"], "completed", "{}", t.text);
    let a = app
        .get(&format!("/tenders/{tender}/award"), Some(&w.owner))
        .await
        .expect(200);
    assert_eq!(a.body["notice"]["winner"]["bid"], candidates[0].as_str());
    assert_eq!(a.body["contract"]["reference"], "AWD-C-001");
    let objections = a.body["objections"].as_array().expect("objections");
    assert_eq!(objections.len(), 1, "{}", a.text);
    assert_eq!(objections[0]["answer"]["upheld"], false);
    let refunds = a.body["refunds"].as_array().expect("refunds");
    assert_eq!(refunds.len(), 3);
    assert!(
        refunds.iter().all(|r| r["refunded_at"].is_string()),
        "{}",
        a.text
    );
    let officer = app.login(&format!("{prefix}.officer")).await;
    let left = app.get("/refunds", Some(&officer)).await.expect(200);
    assert_eq!(left.body, json!([]));
}

struct MoreTimeRun {
    base: String,
    tender: String,
    /// Two members.
    usernames: Vec<String>,
    due: DateTime<Utc>,
    shots: Option<PathBuf>,
}

fn screenshot(tab: &Tab, shots: &Option<PathBuf>, name: &str) -> anyhow::Result<()> {
    if let Some(dir) = shots {
        let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)?;
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join(format!("sealbid-{name}.png")), png)?;
    }
    Ok(())
}

fn drive_more_time(chrome: &Path, run: &MoreTimeRun) -> anyhow::Result<()> {
    let base = run.base.as_str();
    let browser = launch(chrome)?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(StdDuration::from_secs(30));
    let workspace = format!("{base}/tenders/{}/evaluation", run.tender);

    // The first member: no reason, refused; then recorded, not extended.
    sign_in(&tab, base, &run.usernames[0])?;
    tab.navigate_to(&workspace)?.wait_until_navigated()?;
    tab.wait_for_element("#more-time-form")?;
    let status = tab.find_element("#more-time-status")?.get_inner_text()?;
    if !status.contains("0 of 5 members") {
        bail!("before asking: {status:?}");
    }
    tab.find_element("#ask-more-time")?.click()?;
    let error = tab.wait_for_element("#more-time-error")?.get_inner_text()?;
    if !error.contains("why the time is not enough") {
        bail!("asking without a reason said {error:?}");
    }
    fill(
        &tab,
        "more-time-reason",
        "The technical proposals run to 400 pages. 技术标篇幅较长",
    )?;
    tab.find_element("#ask-more-time")?.click()?;
    let flash = tab.wait_for_element("#flash")?.get_inner_text()?;
    if !flash.contains("not extended") {
        bail!("the first request said {flash:?}");
    }
    let status = tab.find_element("#more-time-status")?.get_inner_text()?;
    if !status.contains("1 of 5 members") || !status.contains("you among them") {
        bail!("after the first request: {status:?}");
    }
    if tab
        .find_element("#more-time-extended")?
        .get_inner_text()?
        .trim()
        != "0"
    {
        bail!("extended after one request of five");
    }
    if page_html(&tab)?.contains("id=\"more-time-form\"") {
        bail!("the form is offered again after asking");
    }
    screenshot(&tab, &run.shots, "more-time-asked")?;

    // The second member: more than a third of five have asked, the time is extended.
    sign_in(&tab, base, &run.usernames[1])?;
    tab.navigate_to(&workspace)?.wait_until_navigated()?;
    tab.wait_for_element("#more-time-form")?;
    fill(&tab, "more-time-reason", "Site visit reports to read.")?;
    tab.find_element("#ask-more-time")?.click()?;
    let flash = tab.wait_for_element("#flash")?.get_inner_text()?;
    if !flash.contains("extended by 24 hours") {
        bail!("the second request said {flash:?}");
    }
    let status = tab.find_element("#more-time-status")?.get_inner_text()?;
    if !status.contains("2 of 5 members") {
        bail!("after the second request: {status:?}");
    }
    if tab
        .find_element("#more-time-extended")?
        .get_inner_text()?
        .trim()
        != "1"
    {
        bail!("not extended after two requests of five");
    }
    let due = tab.find_element("#more-time-due")?.get_inner_text()?;
    let expected = sealbid_domain::tender::china_time(run.due + Duration::hours(24));
    if due.trim() != expected {
        bail!("the time is {due:?}, not {expected:?}");
    }
    screenshot(&tab, &run.shots, "more-time-extended")?;
    Ok(())
}

struct AwardRun {
    base: String,
    clock: ManualClock,
    tender: String,
    owner_username: String,
    owner: String,
    officer_username: String,
    bidder_username: String,
    api: ApiFromBrowser,
    shots: Option<PathBuf>,
}

/// Clicks a form's button and waits for `appears` (an element only the answering page has);
/// returns its text.
fn submit_and_wait(tab: &Tab, button: &str, appears: &str) -> anyhow::Result<String> {
    tab.find_element(button)?.click()?;
    tab.wait_for_element(appears)?.get_inner_text()
}

fn drive_award(chrome: &Path, run: &AwardRun) -> anyhow::Result<()> {
    let base = run.base.as_str();
    let tender = run.tender.as_str();
    let result = format!("{base}/tenders/{tender}/result");
    let browser = launch(chrome)?;
    let tab = browser.new_tab()?;
    tab.set_default_timeout(StdDuration::from_secs(30));
    let shot = |name: &str| screenshot(&tab, &run.shots, name);

    // The tenderee publishes the candidates until a chosen end (4 days).
    sign_in(&tab, base, &run.owner_username)?;
    tab.navigate_to(&result)?.wait_until_navigated()?;
    tab.wait_for_element("#publish-form")?;
    if page_html(&tab)?.contains("id=\"object-form\"") {
        bail!("the tenderee is offered the objection form");
    }
    let end = run.clock.now() + Duration::days(4);
    set_value(&tab, "publish-end", &local(end))?;
    submit_and_wait(&tab, "#publish", "#flash")?;
    let window_end = tab.find_element("#window-end")?.get_inner_text()?;
    let closing = sealbid_domain::tender::china_time(end);
    if window_end.trim() != closing {
        bail!("the publication ends {window_end:?}, not {closing:?}");
    }
    if page_html(&tab)?.contains("id=\"publish-form\"") {
        bail!("the publish form is still offered");
    }
    shot("award-published")?;

    // A bidder objects during the window.
    sign_in(&tab, base, &run.bidder_username)?;
    tab.navigate_to(&result)?.wait_until_navigated()?;
    tab.wait_for_element("#object-form")?;
    let html = page_html(&tab)?;
    if html.contains("id=\"publish-form\"") || html.contains("id=\"notice-form\"") {
        bail!("a bidder is offered the tenderee's forms");
    }
    fill(
        &tab,
        "objection-text",
        "Our Grade II licence was renewed in March 2025. 资质已于三月续期",
    )?;
    submit_and_wait(&tab, "#object", "#flash")?;
    let own = tab
        .wait_for_element("#objection-text-1")?
        .get_inner_text()?;
    if !own.contains("renewed in March") {
        bail!("the objector does not see its objection: {own:?}");
    }
    // The page stays open while the publication ends; a second objection is refused.
    tab.wait_for_element("#object-form")?;
    run.clock.advance(Duration::days(4) + Duration::minutes(1));
    fill(&tab, "objection-text", "A second point, sent too late.")?;
    let error = submit_and_wait(&tab, "#object", "#object-error")?;
    if !error.contains("objection_window_closed") || !error.contains(&closing) {
        bail!("the late objection said {error:?} (closing {closing})");
    }
    if value(&tab, "objection-text")? != "A second point, sent too late." {
        bail!("the typed objection was lost");
    }
    shot("award-objection-refused")?;

    // The tenderee answers, gives the award notice and records the contract.
    sign_in(&tab, base, &run.owner_username)?;
    tab.navigate_to(&result)?.wait_until_navigated()?;
    tab.wait_for_element("#answer-form-1")?;
    let text = tab.find_element("#objection-text-1")?.get_inner_text()?;
    if !text.contains("renewed in March") {
        bail!("the tenderee does not see the objection: {text:?}");
    }
    fill(
        &tab,
        "answer-text-1",
        "The committee checked the certificate: it expired before the bid deadline.",
    )?;
    submit_and_wait(&tab, "#answer-1", "#flash")?;
    let answer = tab
        .wait_for_element("#objection-answer-1")?
        .get_inner_text()?;
    if !answer.contains("not upheld") || !answer.contains("late") {
        bail!("the answer shows {answer:?}");
    }
    let selected = eval(&tab, "document.getElementById('notice-bid').selectedIndex")?;
    if selected != json!(0) {
        bail!("the first candidate is not chosen by default: {selected}");
    }
    let winner = submit_and_wait(&tab, "#give-notice", "#notice-winner")?;
    let award = run.api.call(
        reqwest::Method::GET,
        &format!("/tenders/{tender}/award"),
        &run.owner,
        None,
    )?;
    let name = award["notice"]["winner"]["bidder_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let price = award["notice"]["winner"]["price"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if name.is_empty() || !winner.contains(&name) {
        bail!("the notice shows {winner:?}, the API names {name:?}");
    }
    tab.wait_for_element("#contract-form")?;
    // Signed a day later.
    run.clock.advance(Duration::days(1));
    set_value(
        &tab,
        "contract-signed-at",
        &local(run.clock.now() - Duration::hours(1)),
    )?;
    fill(&tab, "contract-amount", &price)?;
    fill(&tab, "contract-reference", "AWD-C-001")?;
    let record = submit_and_wait(&tab, "#record-contract", "#contract-record")?;
    if !record.contains("AWD-C-001") {
        bail!("the contract shows {record:?}");
    }
    let rows = eval(
        &tab,
        "document.querySelectorAll('#refund-table tbody tr').length",
    )?;
    if rows != json!(3) || page_html(&tab)?.contains("mark-refunded-") {
        bail!("the tenderee sees {rows} refunds, or the centre's buttons");
    }
    shot("award-contract")?;

    // The centre officer: the refund tasks, due in 5 days.
    sign_in(&tab, base, &run.officer_username)?;
    tab.find_element("#refunds-link")?.click()?;
    tab.wait_for_element("#refund-tasks")?;
    let count = |css: &str| -> anyhow::Result<i64> {
        Ok(eval(
            &tab,
            &format!(
                "document.querySelectorAll({}).length",
                serde_json::to_string(css)?
            ),
        )?
        .as_i64()
        .unwrap_or(-1))
    };
    if count("#refund-tasks tbody tr")? != 3 || count("tr[data-overdue='true']")? != 0 {
        bail!("before the due time: {}", page_html(&tab)?);
    }
    // Past the due time: overdue, listed first, and found by the filter.
    run.clock.advance(Duration::days(5));
    tab.find_element("#only-overdue")?.click()?;
    tab.find_element("#filter")?.click()?;
    wait_true(
        &tab,
        "document.querySelectorAll(\"#refund-tasks tr[data-overdue='true']\").length === 3",
        "the overdue refunds",
    )?;
    let first = eval(
        &tab,
        "document.querySelector('#refund-tasks tbody tr').dataset.overdue",
    )?;
    if first != json!("true") {
        bail!("the first row is not overdue");
    }
    if !tab
        .find_element("#overdue-count")?
        .get_inner_text()?
        .contains("3 overdue")
    {
        bail!("the overdue count is not shown");
    }
    shot("award-refunds-overdue")?;
    // One from the tender's result page (the row links to it).
    let org = eval(
        &tab,
        "document.querySelector('#refund-tasks tbody tr').dataset.org",
    )?
    .as_str()
    .unwrap_or_default()
    .to_string();
    tab.find_element(&format!(
        "#refund-tasks a[href='/tenders/{tender}/result#refunds']"
    ))?
    .click()?;
    tab.wait_for_element(&format!("#mark-refunded-{org}"))?
        .click()?;
    tab.wait_for_element("#flash")?;
    if page_html(&tab)?.contains(&format!("id=\"mark-refunded-{org}\"")) {
        bail!("the refund is still offered after marking it");
    }
    // The others from the list.
    tab.find_element("#refunds-link")?.click()?;
    tab.wait_for_element("#refund-tasks")?;
    for left in [2, 1] {
        if count("#refund-tasks .mark-refunded")? != left {
            bail!("{left} refunds should be left: {}", page_html(&tab)?);
        }
        tab.find_element("#refund-tasks .mark-refunded")?.click()?;
        wait_true(
            &tab,
            &format!(
                "document.getElementById('flash') !== null && \
                 document.querySelectorAll('#refund-tasks .mark-refunded').length === {}",
                left - 1
            ),
            "the refund to be marked",
        )?;
    }
    tab.wait_for_element("#no-refunds")?;
    shot("award-refunds-done")?;
    Ok(())
}
