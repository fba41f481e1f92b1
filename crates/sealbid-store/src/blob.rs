//! Blob storage for large files: sealed-bid ciphertexts and tender documents. Uploads are
//! streamed to the store while being hashed with SHA-256, in bounded memory (one part of
//! `PART_SIZE` buffered, a few parts in flight), and become visible only once complete. One
//! implementation, [`ObjectBlobStore`], over `object_store`: a local directory (the embedded
//! default) or an S3-compatible bucket.
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Bytes buffered before an upload switches to multipart (and the size of each part): S3's
/// smallest allowed part.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts uploaded at once.
const PARTS_IN_FLIGHT: usize = 4;
const MAX_KEY_LEN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no blob with key {0:?}")]
    NotFound(String),
    #[error(
        "invalid blob key {0:?}: a key has 1 to 1024 characters of A-Z, a-z, 0-9, '/', '.', '_' \
         and '-', with no empty, '.' or '..' segment and no leading or trailing '/'"
    )]
    InvalidKey(String),
    /// The stream being uploaded failed (e.g. the client went away); nothing was stored.
    #[error("reading the upload failed: {0}")]
    Upload(#[source] std::io::Error),
    #[error("blob store configuration: {0}")]
    Config(String),
    #[error("blob store error: {0}")]
    Store(#[source] object_store::Error),
}

impl BlobError {
    /// A stable snake_case code for logs and API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::NotFound(_) => "blob_not_found",
            BlobError::InvalidKey(_) => "invalid_blob_key",
            BlobError::Upload(_) => "blob_upload_failed",
            BlobError::Config(_) => "blob_config",
            BlobError::Store(_) => "blob_store",
        }
    }

    fn from_store(key: &str, e: object_store::Error) -> BlobError {
        match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound(key.to_string()),
            other => BlobError::Store(other),
        }
    }
}

/// What was stored: the key, the number of bytes and their lower-case hex SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

/// A stream of bytes to upload, e.g. an HTTP request body.
pub type ByteStream<'a> = BoxStream<'a, Result<Bytes, std::io::Error>>;

/// Where large files live. Keys are validated by [`validate_key`].
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `stream` to `key`, hashing as it goes; replaces any blob with that key. The blob
    /// appears only when the whole stream has been stored; if the stream fails, nothing is
    /// stored and the error is `BlobError::Upload`.
    async fn put_stream(&self, key: &str, stream: ByteStream<'_>) -> Result<BlobMeta, BlobError>;

    /// Stores a small blob held in memory.
    async fn put(&self, key: &str, bytes: Bytes) -> Result<BlobMeta, BlobError> {
        self.put_stream(key, stream::once(async move { Ok(bytes) }).boxed())
            .await
    }

    /// The blob's bytes as a stream; `BlobError::NotFound` if there is none.
    async fn get_stream(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError>;

    /// The whole blob in memory: for small files only.
    async fn get(&self, key: &str) -> Result<Bytes, BlobError>;

    /// The blob's size, or `None` if there is none.
    async fn head(&self, key: &str) -> Result<Option<u64>, BlobError>;

    /// Deletes the blob; deleting a missing blob is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// Moves the blob at `from` to `to`, replacing any blob at `to`; `BlobError::NotFound` if
    /// there is none at `from`. Used to give an upload its content-addressed key once its hash
    /// is known. Backends that can rename in place (a local directory) do so atomically; this
    /// default copies the bytes through a stream and then deletes the original.
    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        validate_key(to)?;
        let source = self
            .get_stream(from)
            .await?
            .map_err(|e| match e {
                BlobError::Upload(io) => io,
                other => std::io::Error::other(other),
            })
            .boxed();
        self.put_stream(to, source).await?;
        self.delete(from).await
    }
}

/// Checks a key: 1–1024 characters of `[A-Za-z0-9/._-]`, segments separated by single `/`,
/// none empty, `.` or `..` (so no leading or trailing `/` and no way out of the store's root).
pub fn validate_key(key: &str) -> Result<ObjectPath, BlobError> {
    let invalid = || BlobError::InvalidKey(key.chars().take(80).collect());
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if !ok {
        return Err(invalid());
    }
    ObjectPath::parse(key).map_err(|_| invalid())
}

/// A [`BlobStore`] on any `object_store` backend.
#[derive(Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    /// Where the blobs are, for logs (no credentials).
    location: String,
    /// The directory of a local store: every stored blob is fsynced there (with its directory)
    /// before `put_stream` and `rename` return, so a receipt never outlives a power cut's loss.
    local_root: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for ObjectBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBlobStore")
            .field("location", &self.location)
            .finish()
    }
}

impl ObjectBlobStore {
    pub fn new(store: Arc<dyn ObjectStore>, location: impl Into<String>) -> Self {
        ObjectBlobStore {
            store,
            location: location.into(),
            local_root: None,
        }
    }

    /// Forces a local blob and its directory to disk (a no-op for object stores, which
    /// acknowledge a put only once it is durable).
    async fn sync_local(&self, key: &str) -> Result<(), BlobError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let file = root.join(key);
        let sync = move || -> std::io::Result<()> {
            std::fs::File::open(&file)?.sync_all()?;
            if let Some(dir) = file.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        tokio::task::spawn_blocking(sync)
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(BlobError::Upload)
    }

    /// Blobs as files under `dir`, which is created if missing.
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self, BlobError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| {
            BlobError::Config(format!(
                "cannot create blob directory {}: {e}",
                dir.display()
            ))
        })?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| BlobError::Config(format!("blob directory {}: {e}", dir.display())))?
            .with_automatic_cleanup(true);
        let mut store = Self::new(Arc::new(fs), dir.display().to_string());
        store.local_root = Some(dir.to_path_buf());
        Ok(store)
    }

    /// Blobs in an S3-compatible bucket: `s3://BUCKET` or `s3://BUCKET/PREFIX`. Credentials,
    /// region and endpoint come from the `AWS_*` environment variables, then from `options`
    /// (object_store's configuration keys, e.g. `aws_endpoint`, `aws_allow_http`).
    pub fn from_url<I, K, V>(url: &str, options: I) -> Result<Self, BlobError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let parsed = url::Url::parse(url)
            .map_err(|e| BlobError::Config(format!("invalid blob store URL {url:?}: {e}")))?;
        if parsed.scheme() != "s3" {
            return Err(BlobError::Config(format!(
                "unsupported blob store URL {url:?}: use s3://BUCKET/PREFIX or a directory path"
            )));
        }
        let bucket = parsed
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| BlobError::Config(format!("no bucket in blob store URL {url:?}")))?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in options {
            let key = key.as_ref();
            let config_key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|_| BlobError::Config(format!("unknown S3 option {key:?}")))?;
            builder = builder.with_config(config_key, value);
        }
        let s3 = builder
            .build()
            .map_err(|e| BlobError::Config(format!("S3 blob store {url:?}: {e}")))?;
        let prefix = parsed.path().trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            let prefix = validate_key(prefix).map_err(|_| {
                BlobError::Config(format!("invalid prefix {prefix:?} in blob store URL"))
            })?;
            Arc::new(PrefixStore::new(s3, prefix))
        };
        // The URL carries no secrets (they come from the environment or `options`).
        Ok(Self::new(store, url))
    }

    /// `s3://…` → [`Self::from_url`] with no extra options; `file://DIR` or a plain path →
    /// [`Self::local`].
    pub fn from_config(location: &str) -> Result<Self, BlobError> {
        let location = location.trim();
        if location.starts_with("s3://") {
            Self::from_url(location, std::iter::empty::<(&str, String)>())
        } else if let Some(dir) = location.strip_prefix("file://") {
            Self::local(dir)
        } else if location.contains("://") {
            Err(BlobError::Config(format!(
                "unsupported blob store location {location:?}: use a directory path or s3://BUCKET/PREFIX"
            )))
        } else if location.is_empty() {
            Err(BlobError::Config("the blob store location is empty".into()))
        } else {
            Self::local(location)
        }
    }

    /// Where the blobs are (a directory or a URL), for logs.
    pub fn location(&self) -> &str {
        &self.location
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put_stream(
        &self,
        key: &str,
        mut stream: ByteStream<'_>,
    ) -> Result<BlobMeta, BlobError> {
        let path = validate_key(key)?;
        let mut writer = BufWriter::with_capacity(self.store.clone(), path, PART_SIZE)
            .with_max_concurrency(PARTS_IN_FLIGHT);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    abort(&mut writer, key).await;
                    return Err(BlobError::Upload(e));
                }
            };
            hasher.update(&chunk);
            size += chunk.len() as u64;
            if let Err(e) = writer.put(chunk).await {
                abort(&mut writer, key).await;
                return Err(BlobError::from_store(key, e));
            }
        }
        writer.shutdown().await.map_err(|e| {
            BlobError::Store(object_store::Error::Generic {
                store: "blob",
                source: Box::new(e),
            })
        })?;
        self.sync_local(key).await?;
        Ok(BlobMeta {
            key: key.to_string(),
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    async fn get_stream(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let path = validate_key(key)?;
        let result = self
            .store
            .get(&path)
            .await
            .map_err(|e| BlobError::from_store(key, e))?;
        let owned_key = key.to_string();
        Ok(result
            .into_stream()
            .map_err(move |e| BlobError::from_store(&owned_key, e))
            .boxed())
    }

    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        let path = validate_key(key)?;
        let result = self
            .store
            .get(&path)
            .await
            .map_err(|e| BlobError::from_store(key, e))?;
        result
            .bytes()
            .await
            .map_err(|e| BlobError::from_store(key, e))
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, BlobError> {
        let path = validate_key(key)?;
        match self.store.head(&path).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(BlobError::Store(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = validate_key(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(BlobError::Store(e)),
        }
    }

    /// A rename on the backend: `rename(2)` in a local directory, copy and delete on S3.
    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        let (from_path, to_path) = (validate_key(from)?, validate_key(to)?);
        self.store
            .rename(&from_path, &to_path)
            .await
            .map_err(|e| BlobError::from_store(from, e))?;
        self.sync_local(to).await
    }
}

/// Abandons a partial upload, cleaning up what was staged; a failure here is only logged, since
/// the caller is already returning the error that caused it.
async fn abort(writer: &mut BufWriter, key: &str) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(key, error = %e, "could not clean up an abandoned blob upload");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, ObjectBlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectBlobStore::local(dir.path().join("blobs")).unwrap();
        (dir, s)
    }

    /// Deterministic pseudo-random bytes (xorshift), so a corrupted copy cannot hash the same.
    fn data(len: usize) -> Vec<u8> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn chunked(bytes: &[u8], chunk: usize) -> ByteStream<'static> {
        let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        stream::iter(chunks).boxed()
    }

    #[tokio::test]
    async fn small_blobs_round_trip() {
        let (_dir, s) = store();
        let meta = s
            .put("tenders/t1/spec.pdf", Bytes::from_static(b"hello"))
            .await
            .unwrap();
        assert_eq!(meta.key, "tenders/t1/spec.pdf");
        assert_eq!(meta.size, 5);
        assert_eq!(meta.sha256, hex::encode(Sha256::digest(b"hello")));
        assert_eq!(s.get("tenders/t1/spec.pdf").await.unwrap(), "hello");
        assert_eq!(s.head("tenders/t1/spec.pdf").await.unwrap(), Some(5));

        // Replacing is allowed; the empty blob is a blob.
        let meta = s.put("tenders/t1/spec.pdf", Bytes::new()).await.unwrap();
        assert_eq!(meta.size, 0);
        assert_eq!(meta.sha256, hex::encode(Sha256::digest(b"")));
        assert_eq!(s.head("tenders/t1/spec.pdf").await.unwrap(), Some(0));
    }

    #[tokio::test]
    async fn large_streams_are_stored_in_parts_and_hashed() {
        let (_dir, s) = store();
        // 12 MiB + a bit: more than two parts, in 64 KiB chunks.
        let bytes = data(12 * 1024 * 1024 + 4321);
        let meta = s
            .put_stream("bids/b1/price.age", chunked(&bytes, 64 * 1024))
            .await
            .unwrap();
        assert_eq!(meta.size, bytes.len() as u64);
        assert_eq!(meta.sha256, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(
            s.head("bids/b1/price.age").await.unwrap(),
            Some(bytes.len() as u64)
        );

        let mut read = Vec::with_capacity(bytes.len());
        let mut st = s.get_stream("bids/b1/price.age").await.unwrap();
        while let Some(chunk) = st.next().await {
            read.extend_from_slice(&chunk.unwrap());
        }
        assert!(read == bytes, "streamed back the same bytes");
        assert!(s.get("bids/b1/price.age").await.unwrap() == bytes);
    }

    #[tokio::test]
    async fn a_failed_upload_stores_nothing() {
        let (_dir, s) = store();
        let first = data(6 * 1024 * 1024);
        let mut chunks: Vec<Result<Bytes, std::io::Error>> = first
            .chunks(1024 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        chunks.push(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )));
        let err = s
            .put_stream("bids/b2/price.age", stream::iter(chunks).boxed())
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::Upload(_)), "got {err:?}");
        assert_eq!(err.code(), "blob_upload_failed");
        assert_eq!(s.head("bids/b2/price.age").await.unwrap(), None);
    }

    /// Delegates everything but `rename`, to exercise the trait's default `rename`.
    struct NoRename(ObjectBlobStore);

    #[async_trait]
    impl BlobStore for NoRename {
        async fn put_stream(
            &self,
            key: &str,
            stream: ByteStream<'_>,
        ) -> Result<BlobMeta, BlobError> {
            self.0.put_stream(key, stream).await
        }
        async fn get_stream(
            &self,
            key: &str,
        ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
            self.0.get_stream(key).await
        }
        async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
            self.0.get(key).await
        }
        async fn head(&self, key: &str) -> Result<Option<u64>, BlobError> {
            self.0.head(key).await
        }
        async fn delete(&self, key: &str) -> Result<(), BlobError> {
            self.0.delete(key).await
        }
    }

    #[tokio::test]
    async fn rename_moves_a_blob_and_replaces_the_target() {
        let (_dir, s) = store();
        let (_dir2, inner) = store();
        let fallback = NoRename(inner);
        let stores: [&dyn BlobStore; 2] = [&s, &fallback];
        for b in stores {
            let bytes = data(7 * 1024 * 1024 + 3);
            b.put_stream("t/staging/x", chunked(&bytes, 100_000))
                .await
                .unwrap();
            b.put("t/documents/h", Bytes::from_static(b"old"))
                .await
                .unwrap();
            b.rename("t/staging/x", "t/documents/h").await.unwrap();
            assert_eq!(b.head("t/staging/x").await.unwrap(), None);
            assert!(b.get("t/documents/h").await.unwrap() == bytes);
            // A missing source is NotFound and leaves the target alone; keys are checked.
            assert!(matches!(
                b.rename("t/staging/x", "t/documents/h").await,
                Err(BlobError::NotFound(_))
            ));
            assert_eq!(
                b.head("t/documents/h").await.unwrap(),
                Some(bytes.len() as u64)
            );
            assert!(matches!(
                b.rename("t/documents/h", "../escape").await,
                Err(BlobError::InvalidKey(_))
            ));
        }
    }

    #[tokio::test]
    async fn missing_blobs_are_not_found() {
        let (_dir, s) = store();
        assert!(matches!(
            s.get("nope/x").await,
            Err(BlobError::NotFound(k)) if k == "nope/x"
        ));
        assert!(matches!(
            s.get_stream("nope/x").await.map(|_| ()),
            Err(BlobError::NotFound(_))
        ));
        assert_eq!(s.head("nope/x").await.unwrap(), None);
        s.delete("nope/x").await.unwrap();

        s.put("a/b", Bytes::from_static(b"x")).await.unwrap();
        s.delete("a/b").await.unwrap();
        assert_eq!(s.head("a/b").await.unwrap(), None);
        assert!(matches!(s.get("a/b").await, Err(BlobError::NotFound(_))));
    }

    #[tokio::test]
    async fn invalid_keys_are_refused() {
        let (dir, s) = store();
        for key in [
            "",
            "/abs",
            "trailing/",
            "a//b",
            "..",
            "a/../b",
            "./a",
            "a b",
            "a\\b",
            "a#1",
            "名字",
            "a%2e%2e",
            &"k".repeat(1025),
        ] {
            let err = s.put(key, Bytes::from_static(b"x")).await.unwrap_err();
            assert!(matches!(err, BlobError::InvalidKey(_)), "{key:?}: {err:?}");
            assert_eq!(err.code(), "invalid_blob_key");
            assert!(matches!(s.get(key).await, Err(BlobError::InvalidKey(_))));
            assert!(matches!(s.head(key).await, Err(BlobError::InvalidKey(_))));
            assert!(matches!(s.delete(key).await, Err(BlobError::InvalidKey(_))));
        }
        // Nothing escaped the blob directory.
        assert!(!dir.path().join("abs").exists());
        for key in [
            "a",
            "A-z_0.9/x.y",
            "bids/0193e5b0-7c1a-7000-8000-000000000000/price.age",
        ] {
            validate_key(key).unwrap();
        }
    }

    #[test]
    fn locations_are_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x").join("blobs");
        let s = ObjectBlobStore::from_config(p.to_str().unwrap()).unwrap();
        assert!(p.is_dir());
        assert_eq!(s.location(), p.display().to_string());
        let file_url = format!("file://{}", dir.path().join("y").display());
        ObjectBlobStore::from_config(&file_url).unwrap();
        assert!(dir.path().join("y").is_dir());

        let s3 = ObjectBlobStore::from_config("s3://sealbid-bids/prod/ciphertexts").unwrap();
        assert_eq!(s3.location(), "s3://sealbid-bids/prod/ciphertexts");
        ObjectBlobStore::from_url(
            "s3://sealbid-bids",
            [
                ("aws_region", "cn-north-1"),
                ("aws_endpoint", "http://127.0.0.1:9000"),
            ],
        )
        .unwrap();
        assert!(matches!(
            ObjectBlobStore::from_url("s3://b", [("no_such_option", "x")]),
            Err(BlobError::Config(_))
        ));
        assert!(matches!(
            ObjectBlobStore::from_config("gs://bucket/x"),
            Err(BlobError::Config(_))
        ));
        assert!(matches!(
            ObjectBlobStore::from_config("  "),
            Err(BlobError::Config(_))
        ));
        assert!(matches!(
            ObjectBlobStore::from_config("s3://bucket/a%20b"),
            Err(BlobError::Config(_))
        ));
    }
}
