//! The blob store against a real S3-compatible server. CI starts one (moto) and sets
//! `SEALBID_TEST_S3_ENDPOINT`; when the variable is unset these tests print a notice and return,
//! and when it is set but the server does not answer they fail.
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use sha2::{Digest, Sha256};

use crate::blob::{BlobError, BlobStore, ObjectBlobStore};

const BUCKET: &str = "sealbid-test";

fn endpoint() -> Option<String> {
    match std::env::var("SEALBID_TEST_S3_ENDPOINT") {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            eprintln!("SEALBID_TEST_S3_ENDPOINT is not set: skipping the S3 blob store tests");
            None
        }
    }
}

async fn store(endpoint: &str) -> ObjectBlobStore {
    // The bucket must exist; S3-compatible test servers accept an anonymous CreateBucket.
    let client = reqwest::Client::new();
    let resp = client
        .put(format!("{endpoint}/{BUCKET}"))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("SEALBID_TEST_S3_ENDPOINT={endpoint} is set but unreachable: {e}")
        });
    assert!(
        resp.status().is_success() || resp.status().as_u16() == 409,
        "cannot create the test bucket: {}",
        resp.status()
    );
    let prefix = format!("run-{}", uuid::Uuid::new_v4());
    ObjectBlobStore::from_url(
        &format!("s3://{BUCKET}/{prefix}"),
        [
            ("endpoint", endpoint.to_string()),
            ("allow_http", "true".to_string()),
            ("access_key_id", "test".to_string()),
            ("secret_access_key", "test".to_string()),
            ("region", "us-east-1".to_string()),
        ],
    )
    .unwrap()
}

fn data(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn s3_streams_a_multipart_upload_and_reads_it_back() {
    let Some(ep) = endpoint() else { return };
    let s = store(&ep).await;
    // More than two 5 MiB parts, in 256 KiB chunks.
    let bytes = data(11 * 1024 * 1024 + 17);
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(256 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let meta = s
        .put_stream(
            "tenders/t1/documents/spec.pdf",
            stream::iter(chunks).boxed(),
        )
        .await
        .unwrap();
    assert_eq!(meta.size, bytes.len() as u64);
    assert_eq!(meta.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(
        s.head("tenders/t1/documents/spec.pdf").await.unwrap(),
        Some(bytes.len() as u64)
    );
    let mut read = Vec::new();
    let mut st = s.get_stream("tenders/t1/documents/spec.pdf").await.unwrap();
    while let Some(chunk) = st.next().await {
        read.extend_from_slice(&chunk.unwrap());
    }
    assert!(read == bytes, "the same bytes came back");
    s.delete("tenders/t1/documents/spec.pdf").await.unwrap();
    assert_eq!(s.head("tenders/t1/documents/spec.pdf").await.unwrap(), None);
}

#[tokio::test]
async fn s3_missing_keys_and_failed_uploads() {
    let Some(ep) = endpoint() else { return };
    let s = store(&ep).await;
    assert!(matches!(
        s.get("nothing/here").await,
        Err(BlobError::NotFound(_))
    ));
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(data(6 * 1024 * 1024))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    assert!(s
        .put_stream("bids/b1/price.age", stream::iter(chunks).boxed())
        .await
        .is_err());
    assert_eq!(s.head("bids/b1/price.age").await.unwrap(), None);
}
