//! Tender documents as files: uploads streamed into the blob store (API raw body and the page's
//! multipart form), downloads with their headers, amendments when the tender is published, and
//! every refusal leaving the store, the audit chain and the blob directory as they were.
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Resp, TestApp, MAX_DOCUMENT_BYTES};

/// The parties: a tenderee organisation (owner), a second tenderee, a bidder, a centre officer
/// covering their hall.
struct Market {
    owner: String,
    other: String,
    bidder: String,
    officer: String,
}

async fn market(app: &TestApp) -> Market {
    app.create_hall("370202", "Shinan District Hall").await;
    let a = app
        .create_org("Shinan Roads Bureau", "tenderee", "370202")
        .await;
    let b = app
        .create_org("Laoshan Water Bureau", "tenderee", "370202")
        .await;
    let c = app
        .create_org("Haiwan Construction Co.", "bidder", "370202")
        .await;
    Market {
        owner: app
            .create_user("wang.tenderee", &["tenderee"], Some(&a), "370202")
            .await,
        other: app
            .create_user("zhou.tenderee", &["tenderee"], Some(&b), "370202")
            .await,
        bidder: app
            .create_user("li.bidder", &["bidder"], Some(&c), "370202")
            .await,
        officer: app
            .create_user("zhao.officer", &["centre_officer"], None, "370200")
            .await,
    }
}

/// A draft with no documents, its deadline `days` away; returns its id.
async fn draft(app: &TestApp, token: &str, code: &str, days: i64) -> String {
    let body = app.tender_body(code, days);
    let r = app.post("/tenders", Some(token), body).await.expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.set_committee(
        token,
        &id,
        2,
        &[crate::support::member_identity().recipient()],
        true,
    )
    .await;
    id
}

async fn publish(app: &TestApp, m: &Market, id: &str) {
    app.post(&format!("/tenders/{id}/submit"), Some(&m.owner), json!({}))
        .await
        .expect(200);
    app.post(
        &format!("/tenders/{id}/approve"),
        Some(&m.officer),
        json!({}),
    )
    .await
    .expect(200);
}

/// Deterministic bytes that differ with `seed`.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// `POST /tenders/{id}/documents?name=…` with the bytes as the body.
async fn upload(
    app: &TestApp,
    token: Option<&str>,
    tender: &str,
    name: &str,
    bytes: &[u8],
) -> Resp {
    let mut req = app
        .client
        .post(app.api(&format!("/tenders/{tender}/documents")))
        .query(&[("name", name)])
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    app.send(req).await
}

/// A download: status, headers and the raw bytes.
struct Download {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

async fn download(app: &TestApp, token: Option<&str>, tender: &str, sha: &str) -> Download {
    let mut req = app
        .client
        .get(app.api(&format!("/tenders/{tender}/documents/{sha}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    Download {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        bytes: resp.bytes().await.expect("body").to_vec(),
    }
}

/// Undoes percent-encoding.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The name a `Content-Disposition` gives in its RFC 5987 `filename*`.
fn disposition_name(headers: &reqwest::header::HeaderMap) -> String {
    let v = headers["content-disposition"].to_str().unwrap();
    assert!(v.starts_with("attachment;"), "{v}");
    let encoded = v
        .split("filename*=UTF-8''")
        .nth(1)
        .unwrap_or_else(|| panic!("no filename*: {v}"));
    percent_decode(encoded.trim())
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

/// A chunked upload over a raw connection (no `Content-Length`), so the server can only find
/// out the size by reading: returns the status and the response text.
async fn chunked_upload(app: &TestApp, token: &str, tender: &str, bytes: &[u8]) -> (u16, String) {
    let addr = app.base.strip_prefix("http://").unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/tenders/{tender}/documents?name=big.bin HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for chunk in bytes.chunks(8 * 1024) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        if s.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}

e2e_test! {
    async fn a_draft_document_uploads_lists_and_downloads(app: TestApp) {
        let m = market(&app).await;
        let id = draft(&app, &m.owner, "DOC-1", 30).await;
        let before = app.get(&format!("/tenders/{id}"), Some(&m.owner)).await.expect(200);

        let bytes = data(40_000, 1);
        let sha = sha256(&bytes);
        let name = "招标文件（第一册）.pdf";
        let r = upload(&app, Some(&m.owner), &id, name, &bytes).await.expect(201);
        assert_eq!(r.body["document"], json!({"name": name, "sha256": sha, "size": 40_000}));
        assert_eq!(r.body["amendment"], Value::Null);
        let url = format!("/api/v1/tenders/{id}/documents/{sha}");
        assert_eq!(r.body["download_url"], url.as_str());
        assert_eq!(r.headers["location"].to_str().unwrap(), url);

        // Listed in the draft, which moved on one version, with its audit record.
        let t = app.get(&format!("/tenders/{id}"), Some(&m.owner)).await.expect(200);
        assert_eq!(t.body["terms"]["documents"], json!([{"name": name, "sha256": sha, "size": 40_000}]));
        assert_eq!(t.body["version"], before.body["version"].as_i64().unwrap() + 1);
        let trail = app.get(&format!("/tenders/{id}/audit"), Some(&m.owner)).await.expect(200);
        let last = trail.body.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["event"]["action"], "tender.document.add", "{last}");

        // The bytes are in the blob store under their hash, and nothing else is.
        let stored = app.blob_dir().join(format!("tenders/{id}/documents/{sha}"));
        assert_eq!(std::fs::read(&stored).unwrap(), bytes);
        assert_eq!(files(&app.blob_dir()), vec![stored.clone()]);

        // Download: the same bytes, with the headers.
        let d = download(&app, Some(&m.owner), &id, &sha).await;
        assert_eq!(d.status, 200);
        assert!(d.bytes == bytes, "the same bytes come back");
        assert_eq!(d.headers["content-type"], "application/octet-stream");
        assert_eq!(d.headers["content-length"], "40000");
        assert_eq!(d.headers["etag"].to_str().unwrap(), format!("\"{sha}\""));
        assert_eq!(d.headers["x-content-type-options"], "nosniff");
        assert_eq!(disposition_name(&d.headers), name, "the Chinese name round-trips");
        // A current copy is not sent again.
        let again = app
            .client
            .get(app.api(&format!("/tenders/{id}/documents/{sha}")))
            .bearer_auth(&m.owner)
            .header("if-none-match", format!("\"{sha}\""))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304);

        // A second file with a plain name keeps it as the ASCII fallback too.
        let second = data(1000, 2);
        upload(&app, Some(&m.owner), &id, "Bill of quantities v2.xlsx", &second).await.expect(201);
        let d = download(&app, Some(&m.owner), &id, &sha256(&second)).await;
        assert_eq!(d.status, 200);
        let cd = d.headers["content-disposition"].to_str().unwrap().to_string();
        assert!(cd.contains("filename=\"Bill of quantities v2.xlsx\""), "{cd}");
        assert_eq!(disposition_name(&d.headers), "Bill of quantities v2.xlsx");
        let t = app.get(&format!("/tenders/{id}"), Some(&m.owner)).await.expect(200);
        assert_eq!(t.body["terms"]["documents"].as_array().unwrap().len(), 2);
        assert_eq!(files(&app.blob_dir()).len(), 2, "no staging leftovers");
    }
}

e2e_test! {
    async fn refused_uploads_leave_nothing_behind(app: TestApp) {
        let m = market(&app).await;
        let id = draft(&app, &m.owner, "DOC-2", 30).await;
        let p = draft(&app, &m.owner, "DOC-2P", 30).await;
        publish(&app, &m, &p).await;
        let before = app.snapshot().await;
        let limit = MAX_DOCUMENT_BYTES as usize;

        // Over the limit, announced by Content-Length: refused before reading.
        let r = upload(&app, Some(&m.owner), &id, "big.bin", &data(2 * limit, 3)).await.expect(413);
        assert_eq!(r.code(), "body_too_large");
        // Over the limit by one byte, streamed without a length: refused while reading.
        let (status, text) = chunked_upload(&app, &m.owner, &id, &data(limit + 1, 4)).await;
        assert_eq!(status, 413, "{text}");
        assert!(text.contains("body_too_large"), "{text}");
        // Exactly the limit is fine — on another tender, to keep this one unchanged.
        let exact = draft(&app, &m.other, "DOC-2X", 30).await;
        upload(&app, Some(&m.other), &exact, "exact.bin", &data(limit, 5)).await.expect(201);
        let (status, text) = chunked_upload(&app, &m.other, &exact, &data(limit, 6)).await;
        assert_eq!(status, 201, "{text}");

        // Names.
        let long = "x".repeat(252) + ".pdf";
        for bad in ["", "  ", "a/b.pdf", "..\\up.pdf", "..", "tab\tname.pdf", "x\u{202E}fdp.exe", long.as_str()] {
            let r = upload(&app, Some(&m.owner), &id, bad, b"%PDF-1.7").await.expect(422);
            assert_eq!(r.code(), "invalid_document_name", "{bad:?}");
        }
        let r = app
            .send(app.client.post(app.api(&format!("/tenders/{id}/documents"))).bearer_auth(&m.owner).body("x"))
            .await
            .expect(422);
        assert_eq!(r.code(), "invalid_document_name", "no name at all");
        // Empty.
        let r = upload(&app, Some(&m.owner), &id, "empty.pdf", b"").await.expect(422);
        assert_eq!(r.code(), "empty_document");
        let (status, text) = chunked_upload(&app, &m.owner, &id, b"").await;
        assert_eq!(status, 422, "{text}");
        assert!(text.contains("empty_document"), "{text}");

        // Who: anonymous 401; the draft is hidden from other organisations (404); on the
        // published tender, anyone but its tenderee is refused (403).
        let pdf = data(500, 7);
        assert_eq!(upload(&app, None, &id, "a.pdf", &pdf).await.expect(401).code(), "unauthenticated");
        upload(&app, None, &p, "a.pdf", &pdf).await.expect(401);
        upload(&app, Some(&m.other), &id, "a.pdf", &pdf).await.expect(404);
        upload(&app, Some(&m.bidder), &id, "a.pdf", &pdf).await.expect(404);
        upload(&app, Some(&app.admin), &id, "a.pdf", &pdf).await.expect(403);
        assert_eq!(upload(&app, Some(&m.other), &p, "a.pdf", &pdf).await.expect(403).code(), "forbidden");
        upload(&app, Some(&m.bidder), &p, "a.pdf", &pdf).await.expect(403);
        upload(&app, Some(&m.officer), &p, "a.pdf", &pdf).await.expect(403);

        // Nothing changed: the tenders, the audit chain (its length) and the blob store, apart
        // from the two exact-limit files of the other tenderee's draft.
        let mut after = app.snapshot().await;
        let exact_docs: Vec<Value> = after["tenders"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["id"] == exact.as_str())
            .map(|t| t["terms"]["documents"].clone())
            .collect();
        assert_eq!(exact_docs[0].as_array().unwrap().len(), 2);
        // Set the other draft aside and compare the rest.
        let strip = |v: &mut Value| {
            let items = v["tenders"]["items"].as_array_mut().unwrap();
            items.retain(|t| t["id"] != exact.as_str());
            v["tenders"]["total"] = json!(items.len());
        };
        let mut before = before;
        strip(&mut before);
        strip(&mut after);
        let audit_before = before["audit_records"].as_i64().unwrap();
        assert_eq!(after["audit_records"].as_i64().unwrap(), audit_before + 4, "create + committee + two uploads");
        before["audit_records"] = Value::Null;
        after["audit_records"] = Value::Null;
        assert_eq!(before, after, "refusals changed nothing");
        let left: Vec<PathBuf> = files(&app.blob_dir());
        assert_eq!(left.len(), 2, "only the two accepted files: {left:?}");
        assert!(left.iter().all(|f| f.starts_with(app.blob_dir().join(format!("tenders/{exact}/documents")))), "{left:?}");
    }
}

e2e_test! {
    async fn a_file_is_listed_once(app: TestApp) {
        let m = market(&app).await;
        let id = draft(&app, &m.owner, "DOC-3", 30).await;
        let bytes = data(3000, 8);
        upload(&app, Some(&m.owner), &id, "spec.pdf", &bytes).await.expect(201);
        let before = app.snapshot().await;
        let r = upload(&app, Some(&m.owner), &id, "spec (copy).pdf", &bytes).await.expect(409);
        assert_eq!(r.code(), "duplicate_document");
        assert!(r.message().contains("spec.pdf"), "{}", r.message());
        assert_eq!(before, app.snapshot().await);
        assert_eq!(files(&app.blob_dir()).len(), 1, "the duplicate's staging blob is gone");
        // The same file in another tender is that tender's own.
        let other = draft(&app, &m.owner, "DOC-3B", 30).await;
        upload(&app, Some(&m.owner), &other, "spec.pdf", &bytes).await.expect(201);
        assert_eq!(files(&app.blob_dir()).len(), 2);
    }
}

e2e_test! {
    async fn documents_of_a_published_tender_change_by_amendment(app: TestApp) {
        let m = market(&app).await;
        let id = draft(&app, &m.owner, "DOC-4", 25).await;
        let original = data(2000, 9);
        upload(&app, Some(&m.owner), &id, "tender-documents.pdf", &original).await.expect(201);
        publish(&app, &m, &id).await;
        let published = app.get(&format!("/tenders/{id}"), None).await.expect(200);
        let deadline = time(&published.body["terms"]["bid_deadline"]);

        // Ten days before the deadline: an addendum is an amendment, and the deadline moves to
        // 15 days out (法 23).
        app.clock.advance(Duration::days(15));
        let now = app.clock_now();
        assert_eq!(deadline - now, Duration::days(10));
        let addendum = data(5000, 10);
        let sha = sha256(&addendum);
        let r = upload(&app, Some(&m.owner), &id, "补遗书第1号.pdf", &addendum).await.expect(201);
        let a = &r.body["amendment"];
        assert_eq!(a["summary"], "Document added: 补遗书第1号.pdf");
        assert_eq!(a["deadline_pushed"], true);
        assert_eq!(time(&a["previous_deadline"]), deadline);
        assert_eq!(time(&a["new_deadline"]), now + Duration::days(15));
        assert_eq!(a["changes"]["documents"].as_array().unwrap().len(), 2);
        assert_eq!(a["changes"]["documents"][1]["sha256"], sha.as_str());
        let t = app.get(&format!("/tenders/{id}"), None).await.expect(200);
        assert_eq!(time(&t.body["terms"]["bid_deadline"]), now + Duration::days(15));
        assert_eq!(time(&t.body["terms"]["opening_time"]), now + Duration::days(15));
        assert_eq!(t.body["terms"]["documents"][1]["name"], "补遗书第1号.pdf");
        let amendments = app.get(&format!("/tenders/{id}/amendments"), None).await.expect(200);
        assert_eq!(amendments.body.as_array().unwrap().len(), 1);

        // Published documents are public.
        for token in [None, Some(m.bidder.as_str()), Some(m.other.as_str())] {
            let d = download(&app, token, &id, &sha).await;
            assert_eq!(d.status, 200);
            assert!(d.bytes == addendum);
            assert_eq!(disposition_name(&d.headers), "补遗书第1号.pdf");
        }

        // Withdrawing one is an amendment too; its file stays available, since it was published.
        let osha = sha256(&original);
        let r = app
            .call(Method::DELETE, &format!("/tenders/{id}/documents/{osha}"), Some(&m.owner), None)
            .await
            .expect(200);
        assert_eq!(r.body["amendment"]["summary"], "Document withdrawn: tender-documents.pdf");
        assert_eq!(r.body["document"]["sha256"], osha.as_str());
        let t = app.get(&format!("/tenders/{id}"), None).await.expect(200);
        assert_eq!(t.body["terms"]["documents"].as_array().unwrap().len(), 1);
        let d = download(&app, Some(&m.bidder), &id, &osha).await;
        assert_eq!(d.status, 200, "a withdrawn published document can still be fetched");
        assert!(d.bytes == original);
        assert_eq!(disposition_name(&d.headers), "tender-documents.pdf");
        assert!(app.blob_dir().join(format!("tenders/{id}/documents/{osha}")).exists());
        // Withdrawn twice: no longer listed.
        app.call(Method::DELETE, &format!("/tenders/{id}/documents/{osha}"), Some(&m.owner), None)
            .await
            .expect(404);
        app.call(Method::DELETE, &format!("/tenders/{id}/documents/{sha}"), Some(&m.bidder), None)
            .await
            .expect(403);
        let amendments = app.get(&format!("/tenders/{id}/amendments"), None).await.expect(200);
        assert_eq!(amendments.body.as_array().unwrap().len(), 2);

        // After the deadline the documents are fixed.
        app.clock.advance(Duration::days(16));
        let r = upload(&app, Some(&m.owner), &id, "late.pdf", &data(100, 11)).await.expect(409);
        assert_eq!(r.code(), "deadline_passed");
        let r = app
            .call(Method::DELETE, &format!("/tenders/{id}/documents/{sha}"), Some(&m.owner), None)
            .await
            .expect(409);
        assert_eq!(r.code(), "deadline_passed");
        assert!(!files(&app.blob_dir()).iter().any(|f| f.to_string_lossy().contains("staging")));
    }
}

e2e_test! {
    async fn downloads_serve_only_listed_files_to_those_who_see_the_tender(app: TestApp) {
        let m = market(&app).await;
        let id = draft(&app, &m.owner, "DOC-5", 30).await;
        let keep = data(1500, 12);
        let oops = data(1500, 13);
        upload(&app, Some(&m.owner), &id, "spec.pdf", &keep).await.expect(201);
        upload(&app, Some(&m.owner), &id, "internal budget.xlsx", &oops).await.expect(201);
        let (ksha, osha) = (sha256(&keep), sha256(&oops));

        // A hidden draft's document is a 404 to everyone who may not see the draft.
        for token in [None, Some(m.other.as_str()), Some(m.bidder.as_str()), Some(m.officer.as_str())] {
            let d = download(&app, token, &id, &ksha).await;
            assert_eq!(d.status, 404);
            assert_eq!(d.headers["content-type"], "application/json");
        }
        assert_eq!(download(&app, Some(&m.owner), &id, &ksha).await.status, 200);
        assert_eq!(download(&app, Some(&app.admin), &id, &ksha).await.status, 200);

        // Never an unlisted blob: a hash the tender does not list, a malformed one, or a file
        // another tender lists.
        let other = draft(&app, &m.owner, "DOC-5B", 30).await;
        let foreign = data(700, 14);
        upload(&app, Some(&m.owner), &other, "other.pdf", &foreign).await.expect(201);
        for sha in [sha256(b"never uploaded"), sha256(&foreign), "not-a-hash".to_string(), ksha.to_uppercase()] {
            let d = download(&app, Some(&m.owner), &id, &sha).await;
            assert_eq!(d.status, 404, "{sha}");
        }
        assert_eq!(download(&app, Some(&m.owner), &other, &sha256(&foreign)).await.status, 200);

        // Withdrawn from the draft: no longer listed, the blob is kept, and the owner (who may
        // read the trail) can still fetch it.
        let r = app
            .call(Method::DELETE, &format!("/tenders/{id}/documents/{osha}"), Some(&m.owner), None)
            .await
            .expect(200);
        assert_eq!(r.body["amendment"], Value::Null);
        let t = app.get(&format!("/tenders/{id}"), Some(&m.owner)).await.expect(200);
        assert_eq!(t.body["terms"]["documents"].as_array().unwrap().len(), 1);
        assert!(app.blob_dir().join(format!("tenders/{id}/documents/{osha}")).exists());
        assert_eq!(download(&app, Some(&m.owner), &id, &osha).await.status, 200);
        let trail = app.get(&format!("/tenders/{id}/audit"), Some(&m.owner)).await.expect(200);
        assert_eq!(trail.body.as_array().unwrap().last().unwrap()["event"]["action"], "tender.document.withdraw");

        // Under review the documents are fixed.
        app.post(&format!("/tenders/{id}/submit"), Some(&m.owner), json!({})).await.expect(200);
        let r = app
            .call(Method::DELETE, &format!("/tenders/{id}/documents/{ksha}"), Some(&m.owner), None)
            .await
            .expect(409);
        assert_eq!(r.code(), "illegal_transition");
        assert_eq!(r.body["error"]["state"], "under_review");
        let r = upload(&app, Some(&m.owner), &id, "late.pdf", &data(10, 15)).await.expect(409);
        assert_eq!(r.code(), "illegal_transition");
        assert_eq!(download(&app, Some(&m.officer), &id, &ksha).await.status, 200);

        // Once published, its documents are public — but not the file withdrawn while it was a
        // private draft.
        app.post(&format!("/tenders/{id}/approve"), Some(&m.officer), json!({})).await.expect(200);
        assert_eq!(download(&app, None, &id, &ksha).await.status, 200);
        assert_eq!(download(&app, Some(&m.bidder), &id, &osha).await.status, 404);
        assert_eq!(download(&app, None, &id, &osha).await.status, 404);
        assert_eq!(download(&app, Some(&m.owner), &id, &osha).await.status, 200);
    }
}

/// A `multipart/form-data` body with one file field.
fn multipart(field: &str, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----sealbid-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

e2e_test! {
    async fn the_tender_page_links_documents_and_takes_uploads(app: TestApp) {
        let m = market(&app).await;
        let id = draft(&app, &m.owner, "DOC-6", 30).await;
        let page = format!("{}/tenders/{id}", app.base);
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let post_form = |token: &str, origin: Option<&str>, field: &str, filename: &str, bytes: &[u8]| {
            let (content_type, body) = multipart(field, filename, bytes);
            let mut req = no_redirects
                .post(format!("{page}/documents"))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            req
        };

        // The owner's page has the form.
        let html = app.send(app.client.get(&page).bearer_auth(&m.owner)).await.expect(200).text;
        assert!(html.contains(&format!("action=\"/tenders/{id}/documents\"")), "{html}");
        assert!(html.contains("enctype=\"multipart/form-data\""));

        // Upload through the form: back to the page, the file listed under the browser's name.
        let bytes = data(30_000, 16);
        let sha = sha256(&bytes);
        let resp = post_form(&m.owner, Some(&app.base), "file", "招标文件.pdf", &bytes).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 303);
        assert_eq!(resp.headers()["location"].to_str().unwrap(), format!("/tenders/{id}?done=document_added"));
        let t = app.get(&format!("/tenders/{id}"), Some(&m.owner)).await.expect(200);
        assert_eq!(t.body["terms"]["documents"], json!([{"name": "招标文件.pdf", "sha256": sha, "size": 30_000}]));
        let d = download(&app, Some(&m.owner), &id, &sha).await;
        assert!(d.bytes == bytes);
        let html = app.send(app.client.get(format!("{page}?done=document_added")).bearer_auth(&m.owner)).await.expect(200).text;
        assert!(html.contains(&format!("href=\"/api/v1/tenders/{id}/documents/{sha}\"")), "{html}");
        assert!(html.contains("招标文件.pdf"));
        assert!(html.contains("Document added"));

        // Refusals come back on the tender's page with the reason, and keep nothing.
        let before = app.snapshot().await;
        let files_before = files(&app.blob_dir());
        let resp = post_form(&m.owner, None, "file", "big.bin", &data(MAX_DOCUMENT_BYTES as usize + 1, 17)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 413);
        assert!(resp.text().await.unwrap().contains("larger than the limit"));
        let resp = post_form(&m.owner, None, "file", "again.pdf", &bytes).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 409);
        let resp = post_form(&m.owner, None, "file", "", b"").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 422, "no file chosen");
        let resp = post_form(&m.owner, None, "other", "x.pdf", b"abc").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 422, "no file field");
        // A post from another site is refused before anything is read (CSRF).
        let resp = post_form(&m.owner, Some("http://evil.example"), "file", "x.pdf", &data(100, 18)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        // Not the owner: refused.
        let resp = post_form(&m.other, None, "file", "x.pdf", &data(100, 19)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 404);
        assert_eq!(before, app.snapshot().await);
        assert_eq!(files(&app.blob_dir()), files_before);

        // Once published, a bidder sees the link but no form; the owner's upload is an amendment.
        publish(&app, &m, &id).await;
        let html = app.send(app.client.get(&page).bearer_auth(&m.bidder)).await.expect(200).text;
        assert!(html.contains(&format!("/api/v1/tenders/{id}/documents/{sha}")));
        assert!(!html.contains("upload-form"));
        let html = app.send(app.client.get(&page).bearer_auth(&m.owner)).await.expect(200).text;
        assert!(html.contains("upload-form") && html.contains("amendment"));
        let resp = post_form(&m.owner, None, "file", "C:\\Users\\wang\\补遗.pdf", &data(100, 20)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 303);
        assert_eq!(resp.headers()["location"].to_str().unwrap(), format!("/tenders/{id}?done=document_amended"));
        let amendments = app.get(&format!("/tenders/{id}/amendments"), None).await.expect(200);
        assert_eq!(amendments.body[0]["summary"], "Document added: 补遗.pdf");
    }
}

e2e_test! {
    async fn documents_are_never_listed_without_a_file(app: TestApp) {
        let m = market(&app).await;
        let id = draft(&app, &m.owner, "DOC-9", 30).await;
        let p = draft(&app, &m.owner, "DOC-9P", 30).await;
        publish(&app, &m, &p).await;
        let before = app.snapshot().await;
        let fake = json!([{
            "name": "ghost.pdf",
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "size": 4
        }]);

        // Creating or editing a tender cannot list a file: the field does not exist there.
        let mut body = app.tender_body("DOC-9X", 30);
        body["documents"] = fake.clone();
        let r = app.post("/tenders", Some(&m.owner), body).await.expect(400);
        assert_eq!(r.body["error"]["code"], "unknown_field");
        let mut body = app.tender_body("DOC-9", 30);
        body["documents"] = fake.clone();
        let r = app.put(&format!("/tenders/{id}"), Some(&m.owner), body).await.expect(400);
        assert_eq!(r.body["error"]["code"], "unknown_field");

        // An amendment cannot either: files change through the documents endpoints.
        let r = app
            .post(
                &format!("/tenders/{p}/amendments"),
                Some(&m.owner),
                json!({"summary": "Add a file", "changes": {"documents": fake}}),
            )
            .await
            .expect(422);
        assert_eq!(r.body["error"]["code"], "documents_via_upload");
        assert_eq!(app.snapshot().await, before);
    }
}
