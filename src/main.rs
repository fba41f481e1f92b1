//! `sealbid`: the command line. `serve` runs the platform; the other commands administer it.
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::{parse_username, Role, User};
use sealbid_domain::{DivisionCode, OrgId, SystemClock, UserId, WorkingCalendar};
use sealbid_server::{AppState, ServerSettings, TlsFiles};

mod config;
mod demo;
mod demo_evaluation;
mod screen_cmd;
mod seal_cmd;

use config::Config;

#[derive(Parser)]
#[command(
    name = "sealbid",
    version,
    about = "Sealed-bid electronic tendering with cryptographic opening"
)]
struct Cli {
    /// Configuration file (default: ./sealbid.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH (default ./data/sealbid.db) or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (HTTP API, pages, scheduler).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Blob store: a directory or s3://bucket/prefix (default ./data/blobs).
        #[arg(long)]
        blob_store: Option<String>,
        /// PEM certificate: with --tls-key, serve HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Seed demo halls, organisations, accounts and a published tender, and print the logins.
        #[arg(long)]
        demo: bool,
    },
    /// Administer accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the API's OpenAPI 3.1 document (docs/api/openapi.json is this output).
    Openapi,
    /// Export every public tender as OCDS 1.1: a record package (each tender's releases and its
    /// compiled release), a release package, or compiled releases one per line (what
    /// `sealbid screen --ocds` reads).
    ExportOcds {
        /// Where to write (replaced atomically).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = OcdsFormat::Record)]
        format: OcdsFormat,
        /// Export the demo market, made on the spot in a temporary embedded store and removed
        /// afterwards; the configured database is not touched.
        #[arg(long)]
        demo: bool,
    },
    /// Write a self-signed certificate and key for local HTTPS under keys/.
    DevCert {
        /// Output directory.
        #[arg(long, default_value = "keys")]
        out: PathBuf,
        /// Host names and IP addresses the certificate is valid for.
        #[arg(long, default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
        host: Vec<String>,
    },
    /// Screen a market of bids for signs of collusion: every price screen per tender, the market's
    /// interquartile fences, the price patterns of 条例 40(4) and the price-screen classifier.
    ///
    /// Reads one-row-per-bid CSV (`--csv`) or OCDS compiled releases, one per line (`--ocds`).
    /// Prints each tender's classifier score in [0, 1] (`null` below two usable bids), its screens
    /// (`null` where undefined) and its alerts.
    Screen(screen_cmd::ScreenArgs),
    #[command(flatten)]
    Sealing(seal_cmd::SealCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account. The password is read from standard input (or prompted for).
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Roles, comma-separated: admin, centre_officer, tenderee, bidder, committee_member,
        /// evaluator, supervisor, approval_officer, applicant.
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<String>,
        /// Administrative division code of the user's hall, e.g. 370200.
        #[arg(long)]
        hall: String,
        /// Organisation id (required for tenderees and bidders).
        #[arg(long)]
        org: Option<String>,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OcdsFormat {
    /// A record package.
    Record,
    /// A release package.
    Release,
    /// Compiled releases, one JSON object per line.
    Jsonl,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-check the whole hash chain; report the first broken link.
    Verify,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Screening is pure computation over a file: no configuration, database or runtime.
    let result = match cli.command {
        Command::Screen(args) => screen_cmd::run(args),
        // Keys, sealing, receipts and the opening work on files and over HTTP: no configuration
        // or database either (they start their own runtime when they need one).
        Command::Sealing(command) => seal_cmd::run(command),
        command => run(Cli { command, ..cli }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Some(url) = cli.database_url {
        cfg.database_url = url;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve {
            listen,
            blob_store,
            tls_cert,
            tls_key,
            demo,
        } => {
            if let Some(l) = listen {
                cfg.listen = l;
            }
            if let Some(b) = blob_store {
                cfg.blob_store = b;
            }
            if tls_cert.is_some() {
                cfg.tls_cert = tls_cert;
                cfg.tls_key = tls_key;
            }
            init_tracing(&cfg.log);
            rt.block_on(serve(cfg, demo))?;
        }
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    username,
                    display_name,
                    role,
                    hall,
                    org,
                    password_stdin,
                },
        } => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the password from standard input")?;
                s.trim_end_matches(['\r', '\n']).to_string()
            } else {
                rpassword::prompt_password("Password: ").context("cannot read the password")?
            };
            let (id, username) = rt.block_on(create_user(
                &cfg,
                &username,
                display_name,
                &role,
                &hall,
                org.as_deref(),
                &password,
            ))?;
            println!("created user {username} ({id})");
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            return rt.block_on(audit_verify(&cfg));
        }
        Command::DevCert { out, host } => dev_cert(&out, &host)?,
        Command::ExportOcds { out, format, demo } => {
            let n = rt.block_on(export_ocds(cfg, &out, format, demo))?;
            eprintln!(
                "wrote {n} public tender(s) as OCDS 1.1 to {}",
                out.display()
            );
        }
        Command::Openapi => {
            let doc = sealbid_server::api::openapi_document()
                .map_err(|e| anyhow::anyhow!("cannot render the OpenAPI document: {e}"))?;
            println!("{doc}");
        }
        Command::Screen(args) => return screen_cmd::run(args),
        Command::Sealing(command) => return seal_cmd::run(command),
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEALBID_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

/// The platform's state for `cfg`: the store, the blob store, the system clock, the calendar, the
/// settings and the platform keys (created on first use); and the log's verifier key.
async fn app_state(cfg: &Config) -> anyhow::Result<(AppState, String)> {
    let store = sealbid_store::connect(&cfg.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                config::redact_url(&cfg.database_url)
            )
        })?;
    let blobs = sealbid_store::blob::ObjectBlobStore::from_config(&cfg.blob_store)
        .with_context(|| format!("cannot open the blob store {}", cfg.blob_store))?;
    let calendar = WorkingCalendar::try_builtin().context("the built-in holiday calendar")?;
    let settings = ServerSettings {
        session_ttl: chrono::Duration::hours(cfg.session_ttl_hours.max(1)),
        secure_cookies: cfg.tls_cert.is_some(),
        scheduler_interval: std::time::Duration::from_secs(cfg.scheduler_interval_secs.max(1)),
        login_throttle: sealbid_server::ThrottleLimits::default(),
        max_document_bytes: cfg.max_document_bytes,
        max_bid_bytes: cfg.max_bid_bytes,
    };
    let keys = sealbid_server::sealing::SealingKeys::load_or_create(&cfg.keys_dir, &cfg.log_origin)
        .with_context(|| format!("the platform keys in {}", cfg.keys_dir.display()))?;
    let log_key = keys.log_verifier().to_string();
    let state = AppState::with_keys(
        store,
        Arc::new(blobs),
        Arc::new(SystemClock),
        Arc::new(calendar),
        settings,
        keys,
    );
    Ok((state, log_key))
}

/// `sealbid export-ocds`: returns how many tenders were written.
async fn export_ocds(
    mut cfg: Config,
    out: &std::path::Path,
    format: OcdsFormat,
    demo: bool,
) -> anyhow::Result<usize> {
    // The demo lives in a temporary directory of its own, removed at the end.
    let scratch = if demo {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("sealbid-ocds-demo-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        cfg.database_url = format!("sqlite://{}", dir.join("demo.db").display());
        cfg.blob_store = dir.join("blobs").display().to_string();
        cfg.keys_dir = dir.join("keys");
        Some(dir)
    } else {
        None
    };
    let result = async {
        let (state, _) = app_state(&cfg).await?;
        if demo {
            demo::seed(&state, &cfg.keys_dir)
                .await
                .context("seeding the demo")?;
        }
        let tenders = sealbid_server::ocds::public_tenders(&state, 0, 0)
            .await
            .map_err(|e| anyhow::anyhow!("reading the tenders: {e}"))?;
        let uri = format!("file://{}", out.display());
        let doc = match format {
            OcdsFormat::Release => {
                let mut releases = Vec::new();
                for t in &tenders {
                    releases.extend(
                        sealbid_server::ocds::releases_of(&state, t)
                            .await
                            .map_err(|e| anyhow::anyhow!("tender {}: {e}", t.code.as_str()))?,
                    );
                }
                let pkg = sealbid_domain::ocds::release_package(
                    &sealbid_server::ocds::config(),
                    &uri,
                    state.now(),
                    releases,
                );
                serde_json::to_vec_pretty(&pkg)?
            }
            OcdsFormat::Record | OcdsFormat::Jsonl => {
                let pkg = sealbid_server::ocds::record_package(&state, &tenders, &uri)
                    .await
                    .map_err(|e| anyhow::anyhow!("building the records: {e}"))?;
                if format == OcdsFormat::Jsonl {
                    sealbid_domain::ocds::compiled_releases_jsonl(&pkg)
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                        .into_bytes()
                } else {
                    serde_json::to_vec_pretty(&pkg)?
                }
            }
        };
        let tmp = out.with_extension("partial");
        std::fs::write(&tmp, &doc).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
        Ok::<usize, anyhow::Error>(tenders.len())
    }
    .await;
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn serve(cfg: Config, demo: bool) -> anyhow::Result<()> {
    tracing::info!(config = ?cfg, "starting sealbid");
    let (state, log_key) = app_state(&cfg).await?;
    let keys_dir = cfg.keys_dir.clone();
    if demo {
        demo::seed(&state, &keys_dir)
            .await
            .context("seeding the demo")?;
    }
    let listener = std::net::TcpListener::bind(&cfg.listen)
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let tls = match (cfg.tls_cert, cfg.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => anyhow::bail!("set both tls_cert and tls_key, or neither"),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let addr = listener.local_addr()?;
    println!("Sealbid is serving on {scheme}://{addr}/ (Ctrl-C to stop)");
    println!("Transparency log key (pin it to verify receipts and openings): {log_key}");
    sealbid_server::serve(state, listener, tls).await
}

async fn create_user(
    cfg: &Config,
    username: &str,
    display_name: Option<String>,
    roles: &[String],
    hall: &str,
    org: Option<&str>,
    password: &str,
) -> anyhow::Result<(UserId, String)> {
    let username = parse_username(username)?;
    let roles = roles
        .iter()
        .map(|r| {
            Role::parse(r.trim()).with_context(|| {
                format!(
                    "unknown role {r:?}: use one of {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let hall = DivisionCode::parse(hall).map_err(|e| anyhow::anyhow!("--hall: {e}"))?;
    let org = org
        .map(|o| OrgId::parse(o).map_err(|e| anyhow::anyhow!("--org: {e}")))
        .transpose()?;
    if org.is_none()
        && roles
            .iter()
            .any(|r| matches!(r, Role::Tenderee | Role::Bidder))
    {
        anyhow::bail!("tenderees and bidders act for an organisation: pass --org ID");
    }
    let store = sealbid_store::connect(&cfg.database_url).await?;
    if let Some(o) = org {
        store
            .get_org(o)
            .await?
            .with_context(|| format!("no organisation with id {o}"))?;
    }
    let mut salt = [0u8; 16];
    rand_salt(&mut salt);
    let hash = sealbid_server::auth::hash_password_with_salt(password, &salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = sealbid_domain::Clock::now(&SystemClock);
    let user = User {
        id: UserId::new(),
        username: username.clone(),
        display_name: display_name.unwrap_or_else(|| username.clone()),
        roles,
        org,
        hall,
        active: true,
        created_at: now,
    };
    let audit = AuditEvent::new(None, now, "user.create", "user", user.id)
        .with_change::<(), _>(None, Some(&user));
    store
        .create_user(&user, &hash, &audit)
        .await
        .map_err(|e| match e {
            sealbid_store::StoreError::Conflict(_) => {
                anyhow::anyhow!("the username {username} is taken")
            }
            other => other.into(),
        })?;
    Ok((user.id, username))
}

fn rand_salt(out: &mut [u8; 16]) {
    use rand::RngCore;
    rand::rngs::OsRng.fill_bytes(out);
}

async fn audit_verify(cfg: &Config) -> anyhow::Result<std::process::ExitCode> {
    let store = sealbid_store::connect(&cfg.database_url).await?;
    match store.verify_audit().await? {
        Ok(n) => {
            println!("audit chain intact: {n} records");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(broken) => {
            println!(
                "audit chain BROKEN at record {}: {}",
                broken.seq, broken.reason
            );
            Ok(std::process::ExitCode::from(2))
        }
    }
}

fn dev_cert(out: &std::path::Path, hosts: &[String]) -> anyhow::Result<()> {
    let cert = rcgen::generate_simple_self_signed(hosts.to_vec())
        .context("cannot generate the certificate")?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let cert_path = out.join("dev-cert.pem");
    let key_path = out.join("dev-key.pem");
    std::fs::write(&cert_path, cert.cert.pem())?;
    write_private(&key_path, cert.key_pair.serialize_pem().as_bytes())?;
    println!(
        "wrote {} and {}\nserve HTTPS with: sealbid serve --tls-cert {} --tls-key {}",
        cert_path.display(),
        key_path.display(),
        cert_path.display(),
        key_path.display()
    );
    Ok(())
}

/// Writes a secret file readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}
