//! The sealing commands: key generation, sealing and submitting a bid, withdrawing it, checking a
//! receipt, the committee's part of the opening, checking an opening record, and a simulated bank.
//!
//! None of them touches the platform's configuration or database: they work on files and talk to
//! a server over HTTP (each builds its own small runtime when it needs one). Everything that can be
//! checked locally is checked before anything is sent, and every answer that carries a proof
//! (receipts, opening records) is verified as soon as it arrives.
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::rngs::OsRng;
use rand::RngCore;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use sealbid_domain::{OrgId, TenderId};
use sealbid_seal::entry::LogEntryBody;
use sealbid_seal::envelope::{digest_reader, seal_envelope, EnvelopeDigest};
use sealbid_seal::error::SealError;
use sealbid_seal::keys::{
    parse_identity_file, parse_signing_key_file, MemberIdentity, MemberRecipient, SigningKey,
};
use sealbid_seal::manifest::{
    EnvelopeEntry, Manifest, SignedManifest, Withdrawal, MANIFEST_VERSION,
};
use sealbid_seal::note::NoteVerifier;
use sealbid_seal::opening::{
    verify_opening, BidOutcome, OpeningReport, Reveal, RevealedKey, SignedOpeningRecord,
};
use sealbid_seal::payload::{PricePayload, MAX_JSON_PAYLOAD};
use sealbid_seal::policy::{SealingPolicy, SignedPolicy};
use sealbid_seal::receipt::{Receipt, VerifiedReceipt};
use sealbid_seal::signed::Signed;
use sealbid_seal::threshold::{
    member_share_key_at, read_header, Committee, EnvelopeKind, ShareContext,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Size of the chunks the tar packer hands to the sealer (and how many may wait in between).
const PIPE_CHUNK: usize = 64 * 1024;
const PIPE_DEPTH: usize = 16;

/// Exit code of a verification that ran and found the document invalid.
const INVALID: u8 = 2;

/// The sealing commands (flattened into `sealbid`'s own command list).
#[derive(clap::Subcommand)]
pub enum SealCommand {
    /// Generate a committee member's age key (default) or a bidder's signing key (--signing).
    ///
    /// The secret key goes to --out (created readable by you only, never overwritten); the public
    /// key is printed on standard output: give it to the tenderee (age key) or keep it with your
    /// bids (signing key).
    Keygen(KeygenArgs),
    /// Seal a bid: encrypt the price (and the technical folder) to the tender's opening committee and
    /// sign the manifest. Writes price.age, technical.age and manifest.json to --out.
    Seal(SealArgs),
    /// Upload a sealed bid (the folder `sealbid seal` wrote) and keep the receipt the server answers
    /// with (receipt.json), verified against the log key.
    Submit(SubmitArgs),
    /// Withdraw a submitted bid with a signed withdrawal (before the deadline); keeps the receipt
    /// as withdrawal-receipt.json.
    Withdraw(WithdrawArgs),
    /// Check a receipt offline against the log's key: the entry was logged no later than the
    /// checkpoint's time. Exit 0: valid; 2: invalid (the reason is printed).
    VerifyReceipt(VerifyReceiptArgs),
    /// The opening committee's commands.
    Committee {
        #[command(subcommand)]
        command: CommitteeCommand,
    },
    /// Re-check a signed opening record offline: log proofs, signatures, the bid set, and every
    /// published key against the ciphertexts. Exit 0: valid; 2: invalid (`path: reason`).
    VerifyOpening(VerifyOpeningArgs),
    /// Re-run a tender's evaluation-committee draw from public data — its seed inputs (the closing
    /// checkpoint and the published nonce) and the expert pool it was drawn from — and check that
    /// it gives the same committee.
    VerifyDraw(VerifyDrawArgs),
    /// Sign a tender's evaluation report as a member of its committee: fetches the report, shows
    /// its conclusion, signs its signing bytes with your Ed25519 key and sends the signature.
    SignReport(SignReportArgs),
    /// A simulated bank for development and demos.
    DevBank {
        #[command(subcommand)]
        command: DevBankCommand,
    },
}

/// The opening committee's commands.
#[derive(clap::Subcommand)]
pub enum CommitteeCommand {
    /// Derive your share keys for the tender's envelopes, save the reveal document (readable by
    /// you only) before sending anything, commit to it, and reveal it if enough members have
    /// committed.
    Open(CommitteeOpenArgs),
    /// Send the reveal document `committee open` saved (once enough members have committed).
    Reveal(CommitteeRevealArgs),
}

/// The simulated bank's commands.
#[derive(clap::Subcommand)]
pub enum DevBankCommand {
    /// Report a deposit payment to the platform, signed with the bank's HMAC key.
    Pay(DevBankPayArgs),
}

/// Where the server is and who you are.
#[derive(clap::Args)]
pub struct Connection {
    /// The Sealbid server, e.g. https://sealbid.example.org (the API lives under /api/v1).
    #[arg(long, value_name = "URL")]
    server: String,
    /// Bearer token from `POST /api/v1/auth/login`; defaults to the SEALBID_TOKEN environment
    /// variable (which keeps it out of your shell history).
    // Tokens are base64url and may start with `-`.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SEALBID_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    token: String,
}

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// File to write the secret key to; it must not exist yet (created readable by you only).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Generate a bidder's Ed25519 signing key (SEALBID-SIGNING-KEY-1…) instead of a committee
    /// member's age key (AGE-SECRET-KEY-1…).
    #[arg(long)]
    signing: bool,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("policy_source").required(true).args(["server", "policy"])))]
pub struct SealArgs {
    /// Fetch the tender's signed sealing policy from this server
    /// (GET /api/v1/tenders/ID/committee; no sign-in needed for public tenders).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Bearer token, only for tenders not visible without signing in (default: SEALBID_TOKEN).
    // Tokens are base64url and may start with `-`.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SEALBID_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    token: Option<String>,
    /// Seal offline: the tender's signed sealing policy as a JSON file (the `policy` of
    /// GET /api/v1/tenders/ID/committee, or that whole answer).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The platform's pinned log key (`name+id+base64`, as `sealbid serve` prints it): the policy
    /// must be signed by it. Without it, the policy's signer is shown but not checked.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// The tender's id.
    #[arg(long, value_name = "ID")]
    tender: String,
    /// Your organisation's id on the platform (the envelopes are bound to it).
    #[arg(long, value_name = "ORG_ID")]
    bidder: String,
    /// Your deposit reference for this tender (POST /api/v1/tenders/ID/deposit-reference).
    #[arg(long, value_name = "R")]
    deposit_reference: String,
    /// Your signing key file (`sealbid keygen --signing`); every bid and withdrawal you make for a
    /// tender must be signed with the same key.
    #[arg(long, value_name = "FILE")]
    signing_key: PathBuf,
    /// The price as JSON: {"currency":"CNY","total":"1234.50","lines":[…]} (decimals as strings).
    #[arg(long, value_name = "PRICE.json")]
    price: PathBuf,
    /// Folder of technical documents, packed as a tar archive into technical.age.
    #[arg(long, value_name = "DIR")]
    technical: Option<PathBuf>,
    /// Your own age key (age1…), so that you can decrypt your own envelopes; it must not be a
    /// committee member's key.
    #[arg(long, value_name = "age1…")]
    own_key: Option<String>,
    /// Folder to write price.age, technical.age and manifest.json to (created if missing; must not
    /// already hold a sealed bid).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    conn: Connection,
    /// The tender's id (must be the manifest's).
    #[arg(long, value_name = "ID")]
    tender: String,
    /// The platform's pinned log key; the server's must equal it (default: trust the server's).
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// The folder `sealbid seal` wrote (manifest.json and the .age envelopes).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

#[derive(clap::Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    conn: Connection,
    /// The tender's id (must be the manifest's).
    #[arg(long, value_name = "ID")]
    tender: String,
    /// The signing key that signed the bid.
    #[arg(long, value_name = "FILE")]
    signing_key: PathBuf,
    /// The platform's pinned log key; the server's must equal it (default: trust the server's).
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// The folder of the bid to withdraw (its manifest.json names it).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

#[derive(clap::Args)]
pub struct VerifyReceiptArgs {
    /// The receipt (receipt.json, withdrawal-receipt.json, or the server's whole answer); `-` for
    /// standard input.
    #[arg(value_name = "RECEIPT")]
    receipt: PathBuf,
    /// The platform's log key (`name+id+base64`, as `sealbid serve` prints it or
    /// GET /api/v1/log/key answers). Pin it from a source you trust.
    #[arg(long, value_name = "VKEY")]
    log_key: String,
    /// Also require the checkpoint's time to be no later than this (RFC 3339, e.g.
    /// 2025-03-10T09:30:00+08:00): proof the entry was logged before the deadline.
    #[arg(long, value_name = "RFC3339")]
    deadline: Option<String>,
    /// Also require the receipt's entry to hold exactly this signed manifest (manifest.json).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct CommitteeOpenArgs {
    #[command(flatten)]
    conn: Connection,
    /// The tender's id.
    #[arg(long, value_name = "ID")]
    tender: String,
    /// Your age identity file (`sealbid keygen`), whose public key sits on your seat.
    #[arg(long, value_name = "KEY_FILE")]
    identity: PathBuf,
    /// Your seat number (1-based); default: the seat that holds your identity's public key.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..))]
    seat: Option<u8>,
    /// Folder for the reveal document (reveal-ID.json, secret until revealed) and the opening record.
    #[arg(long, value_name = "DIR", default_value = ".")]
    state: PathBuf,
}

#[derive(clap::Args)]
pub struct CommitteeRevealArgs {
    #[command(flatten)]
    conn: Connection,
    /// The tender's id.
    #[arg(long, value_name = "ID")]
    tender: String,
    /// The folder `committee open` saved the reveal document in.
    #[arg(long, value_name = "DIR", default_value = ".")]
    state: PathBuf,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("ciphertext_source").required(true).multiple(true).args(["server", "ciphertexts"])))]
pub struct VerifyOpeningArgs {
    /// The signed opening record (a file, or `-` for standard input); omit it to fetch the record
    /// of --tender from --server.
    #[arg(value_name = "RECORD")]
    record: Option<PathBuf>,
    /// The platform's log key (`name+id+base64`); the record and its checkpoint must be signed by it.
    #[arg(long, value_name = "VKEY")]
    log_key: String,
    /// Fetch the ciphertexts (and, without RECORD, the record) from this server.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Read the ciphertexts from this folder, named SHA256.age or SHA256 (tried before --server).
    #[arg(long, value_name = "DIR")]
    ciphertexts: Option<PathBuf>,
    /// The tender whose record to fetch from --server when RECORD is omitted.
    #[arg(long, value_name = "ID", requires = "server")]
    tender: Option<String>,
}

#[derive(clap::Args)]
pub struct VerifyDrawArgs {
    /// The tender's id.
    #[arg(value_name = "TENDER")]
    tender: String,
    /// The Sealbid server publishing the draw and the tender's closing checkpoint.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The expert pool the committee was drawn from, as CSV: the trading centre's full pool, or the
    /// public pool with names withheld. Default: the public pool the server publishes with the draw
    /// (GET /api/v1/tenders/ID/committee-draw/pool). Its digest must be the one the draw records.
    #[arg(long, value_name = "POOL.csv")]
    pool: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct SignReportArgs {
    /// The tender's id.
    #[arg(value_name = "TENDER")]
    tender: String,
    #[command(flatten)]
    conn: Connection,
    /// Your signing key file (`sealbid keygen --signing`).
    #[arg(long, value_name = "FILE")]
    signing_key: PathBuf,
    /// The digest (hex SHA-256 of the signing bytes) you read on the report page: the report is
    /// signed only if it is the one fetched, so nothing can be swapped under you.
    #[arg(long, value_name = "HEX")]
    digest: Option<String>,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("bank_secret").required(true).args(["secret", "keys_dir"])))]
pub struct DevBankPayArgs {
    /// The Sealbid server.
    #[arg(long, value_name = "URL")]
    server: String,
    /// The bank's HMAC secret, hex.
    #[arg(long, value_name = "HEX")]
    secret: Option<String>,
    /// The server's key folder, to read the secret from bank-hmac.key (same machine only).
    #[arg(long, value_name = "DIR")]
    keys_dir: Option<PathBuf>,
    /// The deposit reference the payer quoted.
    #[arg(long, value_name = "R")]
    reference: String,
    /// Amount paid in yuan, e.g. 50000.00.
    #[arg(long, value_name = "A")]
    amount: String,
    /// The account holder's name.
    #[arg(long, value_name = "NAME")]
    payer: String,
    /// The payer's account number (digits, spaces and dashes).
    #[arg(long, value_name = "NO")]
    account: String,
    /// The payer's bank.
    #[arg(long, value_name = "NAME")]
    bank: String,
    /// The bank's transaction id (default: a random DEV-… id); repeating one is idempotent.
    #[arg(long, value_name = "ID")]
    transaction_id: Option<String>,
    /// When the payment was booked (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339")]
    paid_at: Option<String>,
}

/// Runs one sealing command.
pub fn run(command: SealCommand) -> anyhow::Result<ExitCode> {
    match command {
        SealCommand::Keygen(a) => keygen(a),
        SealCommand::Seal(a) => seal(a),
        SealCommand::Submit(a) => submit(a),
        SealCommand::Withdraw(a) => withdraw(a),
        SealCommand::VerifyReceipt(a) => verify_receipt_cmd(a),
        SealCommand::Committee {
            command: CommitteeCommand::Open(a),
        } => committee_open(a),
        SealCommand::Committee {
            command: CommitteeCommand::Reveal(a),
        } => committee_reveal(a),
        SealCommand::VerifyOpening(a) => verify_opening_cmd(a),
        SealCommand::VerifyDraw(a) => verify_draw_cmd(a),
        SealCommand::SignReport(a) => sign_report_cmd(a),
        SealCommand::DevBank {
            command: DevBankCommand::Pay(a),
        } => dev_bank_pay(a),
    }
}

// ----- files -----

/// Options for a new file readable by its owner only.
fn private_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Writes a new secret file (owner-only, never overwriting), removing it again if writing fails.
fn write_secret_file(path: &Path, parts: &[&[u8]]) -> anyhow::Result<()> {
    let mut f = private_options().open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            anyhow!(
                "{} already exists; refusing to overwrite it (choose another file, or move the old \
                 one away if you really mean to replace it)",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })?;
    let written = parts
        .iter()
        .try_for_each(|p| f.write_all(p))
        .and_then(|()| f.sync_all());
    if let Err(e) = written {
        drop(f);
        let _ = fs::remove_file(path);
        return Err(anyhow::Error::new(e).context(format!("cannot write {}", path.display())));
    }
    Ok(())
}

/// Writes a file through a temporary sibling and a rename, so a reader never sees half of it.
fn write_replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = path.with_file_name(format!(".{name}.partial"));
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write {}", path.display())
    })
}

/// Writes a new file that must not exist yet.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Warns when a secret key file can be read by others.
fn warn_if_exposed(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: {} can be read by other users; restrict it with `chmod 600 {}`",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the signing key {}", path.display()))?;
    warn_if_exposed(path);
    parse_signing_key_file(&text).with_context(|| {
        format!(
            "{}: not a Sealbid signing key (make one with `sealbid keygen --signing --out FILE`)",
            path.display()
        )
    })
}

fn read_identity(path: &Path) -> anyhow::Result<MemberIdentity> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the identity {}", path.display()))?;
    warn_if_exposed(path);
    parse_identity_file(&text).with_context(|| {
        format!(
            "{}: not an age identity (make one with `sealbid keygen --out FILE`)",
            path.display()
        )
    })
}

/// Reads a file, or standard input for `-`.
fn read_input(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        io::stdin()
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read the {what} from standard input"))?;
        Ok(bytes)
    } else {
        fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
    }
}

/// A downloaded file in the temporary directory, removed when dropped.
struct TempFile {
    file: Option<File>,
    path: PathBuf,
}

impl TempFile {
    fn create() -> io::Result<TempFile> {
        let dir = std::env::temp_dir();
        let mut last = None;
        for _ in 0..8 {
            let path = dir.join(format!("sealbid-{}.tmp", random_hex(12)));
            let mut opts = private_options();
            opts.read(true);
            match opts.open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        file: Some(file),
                        path,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("cannot create a temporary file")))
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the temporary file is closed"))
    }
}

impl Read for TempFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file()?.read(buf)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Close first: some systems cannot remove an open file.
        self.file = None;
        let _ = fs::remove_file(&self.path);
    }
}

/// Removes the files it lists when dropped, unless disarmed: a failed `seal` leaves nothing behind.
struct Cleanup(Vec<PathBuf>);

impl Cleanup {
    fn disarm(mut self) {
        self.0.clear();
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_file(p);
        }
    }
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn time_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

// ----- arguments -----

/// A tender id in the platform's canonical form.
fn canonical_tender(s: &str) -> anyhow::Result<String> {
    TenderId::parse(s.trim())
        .map(|t| t.to_string())
        .map_err(|e| {
            anyhow!(
                "--tender {s:?} is not a tender id ({e}); copy the id (a UUID) from the tender's page"
            )
        })
}

fn canonical_org(s: &str) -> anyhow::Result<String> {
    OrgId::parse(s.trim()).map(|o| o.to_string()).map_err(|e| {
        anyhow!(
            "--bidder {s:?} is not an organisation id ({e}); use your organisation's id (a UUID) \
             as the platform shows it"
        )
    })
}

fn parse_log_key(s: &str) -> anyhow::Result<NoteVerifier> {
    NoteVerifier::parse(s.trim()).map_err(|e| {
        anyhow!(
            "the log key {s:?} is not a note verifier key ({e}); it looks like \
             `sealbid.local/log+1a2b3c4d+AW…`, as `sealbid serve` prints it or GET /api/v1/log/key \
             answers"
        )
    })
}

fn parse_time(s: &str, what: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            anyhow!("{what} {s:?} is not an RFC 3339 time ({e}); write it like 2025-03-10T09:30:00+08:00")
        })
}

/// Reads and validates a price file; errors name the line (JSON syntax) or the bill line.
fn read_price(path: &Path) -> anyhow::Result<PricePayload> {
    let meta =
        fs::metadata(path).with_context(|| format!("cannot read the price {}", path.display()))?;
    if meta.len() > MAX_JSON_PAYLOAD as u64 {
        bail!(
            "{} is {} bytes; a price file may hold at most {MAX_JSON_PAYLOAD} bytes",
            path.display(),
            meta.len()
        );
    }
    let bytes =
        fs::read(path).with_context(|| format!("cannot read the price {}", path.display()))?;
    parse_price(&bytes).with_context(|| format!("{}", path.display()))
}

fn parse_price(bytes: &[u8]) -> anyhow::Result<PricePayload> {
    let payload: PricePayload = serde_json::from_slice(bytes).map_err(|e| {
        anyhow!(
            "{e}; the price file is JSON like \
             {{\"currency\":\"CNY\",\"total\":\"1234.50\",\"lines\":[{{\"code\":…,\"description\":…,\
             \"unit\":…,\"quantity\":\"2\",\"unit_price\":\"617.25\",\"amount\":\"1234.50\"}}]}}"
        )
    })?;
    payload.validate()?;
    Ok(payload)
}

// ----- HTTP -----

/// An error answer from the server: its status and `{"error":{"code","message"}}`.
#[derive(Debug)]
struct HttpError {
    what: String,
    status: StatusCode,
    code: String,
    message: String,
    /// Whether the request carried a bearer token (a 401 then means it expired or is wrong).
    token_sent: bool,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the server answered {} [{}]: {}",
            self.what, self.status, self.code, self.message
        )?;
        match self.status {
            StatusCode::UNAUTHORIZED if self.token_sent => f.write_str(
                " (sign in again: POST /api/v1/auth/login answers a token; pass it with --token or \
                 SEALBID_TOKEN)",
            ),
            StatusCode::FORBIDDEN => {
                f.write_str(" (check that you signed in with the right account)")
            }
            _ => Ok(()),
        }
    }
}

impl std::error::Error for HttpError {}

/// The server's error code of `e`, if it is an HTTP error answer.
fn http_code(e: &anyhow::Error) -> Option<(StatusCode, &str)> {
    e.downcast_ref::<HttpError>()
        .map(|h| (h.status, h.code.as_str()))
}

async fn http_error(resp: reqwest::Response, what: &str) -> HttpError {
    #[derive(Deserialize)]
    struct Body {
        error: Detail,
    }
    #[derive(Deserialize)]
    struct Detail {
        code: String,
        message: String,
        #[serde(default)]
        field: Option<String>,
    }
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<Body>(&body) {
        Ok(b) => HttpError {
            what: what.to_string(),
            token_sent: false,
            status,
            code: b.error.code,
            message: match b.error.field {
                Some(field) => format!("{} (field `{field}`)", b.error.message),
                None => b.error.message,
            },
        },
        Err(_) => {
            let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
            HttpError {
                what: what.to_string(),
                token_sent: false,
                status,
                code: format!("http_{}", status.as_u16()),
                message: if text.trim().is_empty() {
                    status.canonical_reason().unwrap_or("error").to_string()
                } else {
                    text.trim().to_string()
                },
            }
        }
    }
}

/// A client for one server's API.
struct Api {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    fn new(server: &str, token: Option<&str>) -> anyhow::Result<Api> {
        let trimmed = server.trim().trim_end_matches('/');
        let trimmed = trimmed.strip_suffix("/api/v1").unwrap_or(trimmed);
        let url = reqwest::Url::parse(trimmed).map_err(|e| {
            anyhow!(
                "--server {server:?} is not a URL ({e}); write it like https://sealbid.example.org"
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("--server {server:?} must be an http:// or https:// URL");
        }
        let token = match token.map(str::trim) {
            Some("") => bail!(
                "the token is empty: sign in with POST /api/v1/auth/login and pass the token with \
                 --token or SEALBID_TOKEN"
            ),
            other => other.map(str::to_string),
        };
        let client = reqwest::Client::builder()
            .user_agent(concat!("sealbid-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Api {
            client,
            base: trimmed.to_string(),
            token,
        })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// Sends a request; any non-2xx answer becomes an [`HttpError`].
    async fn send(
        &self,
        rb: reqwest::RequestBuilder,
        what: &str,
    ) -> anyhow::Result<reqwest::Response> {
        let resp = rb.send().await.map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "{what}: cannot reach the server {} (check --server and your network)",
                self.base
            ))
        })?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            let mut e = http_error(resp, what).await;
            e.token_sent = self.token.is_some();
            Err(e.into())
        }
    }

    async fn json<T: DeserializeOwned>(
        &self,
        rb: reqwest::RequestBuilder,
        what: &str,
    ) -> anyhow::Result<T> {
        let resp = self.send(rb, what).await?;
        read_json(resp, what).await
    }

    async fn post_json_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        what: &str,
    ) -> anyhow::Result<T> {
        let rb = self
            .request(Method::POST, path)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        self.json(rb, what).await
    }

    async fn log_key(&self) -> anyhow::Result<NoteVerifier> {
        #[derive(Deserialize)]
        struct LogKey {
            key: String,
        }
        let k: LogKey = self
            .json(
                self.request(Method::GET, "/log/key"),
                "fetching the log key",
            )
            .await?;
        parse_log_key(&k.key).context("the server's log key")
    }
}

async fn read_json<T: DeserializeOwned>(resp: reqwest::Response, what: &str) -> anyhow::Result<T> {
    let bytes = resp
        .bytes()
        .await
        .with_context(|| format!("{what}: the answer did not arrive whole; try again"))?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!("{what}: the server's answer is not what this client expects (is --server a Sealbid server of the same version?)")
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The log key to verify against: the server's, which must equal the pinned one if given.
async fn trusted_log_key(api: &Api, pinned: Option<&NoteVerifier>) -> anyhow::Result<NoteVerifier> {
    let served = api.log_key().await?;
    if let Some(p) = pinned {
        if *p != served {
            bail!(
                "the server's log key {served} is not the key you pinned ({p}): the server is not \
                 the platform you trust, or its key changed; do not rely on its receipts"
            );
        }
    }
    Ok(served)
}

// ----- keygen -----

fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let created = now_rfc3339();
    if args.signing {
        let key = SigningKey::generate(&mut OsRng);
        let public = key.verifying_key();
        let secret = key.to_secret_string();
        let header = format!("# created: {created}\n# verifying key: {public}\n");
        write_secret_file(&args.out, &[header.as_bytes(), secret.as_bytes(), b"\n"])?;
        eprintln!(
            "wrote a signing key to {} (readable by you only). Keep it safe and back it up: every \
             bid and withdrawal for a tender must be signed with the same key.",
            args.out.display()
        );
        println!("{public}");
    } else {
        let identity = MemberIdentity::generate(&mut OsRng);
        let public = identity.recipient();
        let secret = identity.to_secret_string();
        let header = format!("# created: {created}\n# public key: {public}\n");
        write_secret_file(&args.out, &[header.as_bytes(), secret.as_bytes(), b"\n"])?;
        eprintln!(
            "wrote an age identity to {} (readable by you only). Give the public key below to the \
             tenderee for your committee seat (or use it as a bidder's --own-key); keep the file \
             safe: without it your share cannot be revealed at the opening.",
            args.out.display()
        );
        println!("{public}");
    }
    Ok(ExitCode::SUCCESS)
}

// ----- seal -----

/// What the tender's committee answer holds (fields this client uses).
#[derive(Deserialize)]
struct CommitteeView {
    seats: Vec<SeatView>,
    policy: Option<serde_json::Value>,
    policy_hash: Option<String>,
    log_key: String,
}

#[derive(Deserialize)]
struct SeatView {
    index: u8,
    name: String,
    recipient: Option<String>,
}

/// Parses a policy file: the signed policy itself, or a committee answer holding it.
fn parse_policy_json(bytes: &[u8]) -> anyhow::Result<SignedPolicy> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).context("the policy file is not JSON")?;
    let policy = match value.get("policy") {
        Some(p) if value.get("body").is_none() => {
            if p.is_null() {
                bail!("the committee answer holds no policy yet: the tender is not published");
            }
            p.clone()
        }
        _ => value,
    };
    serde_json::from_value(policy).context(
        "not a signed sealing policy: give the `policy` of GET /api/v1/tenders/ID/committee \
         (or that whole answer)",
    )
}

/// Checks the signed policy: signature, rules, tender, and (if a key is trusted) its signer.
fn check_policy(
    policy: &SignedPolicy,
    tender: &str,
    trusted: Option<&NoteVerifier>,
) -> anyhow::Result<()> {
    policy
        .verify()
        .context("the sealing policy's signature does not verify: do not seal to it")?;
    policy
        .body
        .validate()
        .context("the sealing policy breaks the rules: do not seal to it")?;
    if policy.body.tender != tender {
        bail!(
            "the sealing policy is for tender {}, not {tender}: fetch this tender's policy",
            policy.body.tender
        );
    }
    if let Some(k) = trusted {
        if policy.key.as_bytes() != &k.public_key() {
            bail!(
                "the sealing policy is signed by {}, not by the platform key {k}: do not seal to it",
                policy.key
            );
        }
    }
    Ok(())
}

fn print_policy(p: &SealingPolicy, hash: &str, signer: &str) {
    println!("Sealing policy of tender {} (hash {hash})", p.tender);
    println!("  signed by {signer}");
    println!(
        "  deadline {}, opening {}",
        time_text(&p.deadline),
        time_text(&p.opening_time)
    );
    println!(
        "  opening needs {} of these {} committee members:",
        p.threshold,
        p.members.len()
    );
    for (i, m) in p.members.iter().enumerate() {
        let platform = if m.platform {
            ", the platform's share"
        } else {
            ""
        };
        println!(
            "    {}. {} ({}{platform})  {}",
            i + 1,
            m.name,
            m.role,
            m.recipient
        );
    }
}

/// Fetches and checks the policy from the server; returns it with the server's log key.
fn fetch_policy(
    server: &str,
    token: Option<&str>,
    tender: &str,
) -> anyhow::Result<(SignedPolicy, NoteVerifier)> {
    let api = Api::new(server, token)?;
    let view: CommitteeView = runtime()?.block_on(api.json(
        api.request(Method::GET, &format!("/tenders/{tender}/committee")),
        "fetching the tender's sealing policy",
    ))?;
    let policy = match view.policy {
        Some(p) => serde_json::from_value::<SignedPolicy>(p)
            .context("the server's sealing policy is malformed")?,
        None => bail!(
            "tender {tender} has no sealing policy yet (it is not published): seal once it is"
        ),
    };
    if let Some(h) = &view.policy_hash {
        if *h != policy.body.hash_hex()? {
            bail!("the server's policy hash does not match its policy; try again later");
        }
    }
    let log_key = parse_log_key(&view.log_key).context("the server's log key")?;
    Ok((policy, log_key))
}

/// The writing end of an in-memory pipe: chunks go to a bounded channel.
struct PipeWriter {
    tx: mpsc::SyncSender<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
    reader_gone: Arc<AtomicBool>,
}

impl PipeWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(PIPE_CHUNK));
        self.tx.send(Ok(chunk)).map_err(|_| {
            self.reader_gone.store(true, Ordering::SeqCst);
            io::Error::new(io::ErrorKind::BrokenPipe, "the sealer stopped reading")
        })
    }
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = PIPE_CHUNK - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(data.get(..n).unwrap_or(data));
        if self.buf.len() >= PIPE_CHUNK {
            self.send_buffer()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

/// The reading end: end of file once the writer is gone; an error it sent is passed on.
struct PipeReader {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let rest = self.chunk.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// What went into the technical archive.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct PackStats {
    files: u64,
    bytes: u64,
}

/// Packs `dir` as a tar stream into `out`: regular files and folders, in name order, with paths
/// relative to `dir`. Symbolic links and special files are refused (their targets would silently
/// be left out or pulled in from outside the folder).
fn pack_dir<W: Write>(dir: &Path, out: W) -> anyhow::Result<PackStats> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let mut stats = PackStats::default();
    pack_walk(&mut builder, dir, Path::new(""), &mut stats)?;
    if stats.files == 0 {
        bail!(
            "the technical folder {} holds no files; put the technical documents in it",
            dir.display()
        );
    }
    let mut out = builder
        .into_inner()
        .context("cannot finish the technical archive")?;
    out.flush().context("cannot finish the technical archive")?;
    Ok(stats)
}

fn pack_walk<W: Write>(
    builder: &mut tar::Builder<W>,
    root: &Path,
    rel: &Path,
    stats: &mut PackStats,
) -> anyhow::Result<()> {
    let here = root.join(rel);
    let mut entries = fs::read_dir(&here)
        .with_context(|| format!("cannot list the folder {}", here.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot list the folder {}", here.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = rel.join(entry.file_name());
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_dir() {
            builder
                .append_dir(&name, &path)
                .with_context(|| format!("cannot pack {}", path.display()))?;
            pack_walk(builder, root, &name, stats)?;
        } else if kind.is_file() {
            let mut f =
                File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let len = f
                .metadata()
                .with_context(|| format!("cannot read {}", path.display()))?
                .len();
            builder
                .append_file(&name, &mut f)
                .with_context(|| format!("cannot pack {}", path.display()))?;
            stats.files += 1;
            stats.bytes += len;
        } else if kind.is_symlink() {
            bail!(
                "{} is a symbolic link; copy the file it points to into the folder instead",
                path.display()
            );
        } else {
            bail!(
                "{} is not a regular file or folder; remove it from the technical folder",
                path.display()
            );
        }
    }
    Ok(())
}

/// Seals the technical folder: a thread packs it as tar into a bounded pipe that the sealer reads,
/// so the archive is never held whole in memory or on disk.
fn seal_technical<W: Write>(
    dir: &Path,
    committee: &Committee,
    ctx: &ShareContext,
    own: Option<&MemberRecipient>,
    output: W,
) -> anyhow::Result<(EnvelopeDigest, PackStats)> {
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(PIPE_DEPTH);
    let reader_gone = Arc::new(AtomicBool::new(false));
    let writer = PipeWriter {
        tx: tx.clone(),
        buf: Vec::with_capacity(PIPE_CHUNK),
        reader_gone: reader_gone.clone(),
    };
    let root = dir.to_path_buf();
    let packer = std::thread::spawn(move || {
        let packed = pack_dir(&root, writer);
        if let Err(e) = &packed {
            // Make the sealer fail rather than seal a truncated archive.
            let _ = tx.send(Err(io::Error::other(format!("{e:#}"))));
        }
        packed
    });
    let reader = PipeReader {
        rx,
        chunk: Vec::new(),
        pos: 0,
    };
    let sealed = seal_envelope(committee, ctx, own, &mut OsRng, reader, output);
    let packed = packer
        .join()
        .map_err(|_| anyhow!("packing the technical folder crashed"))?;
    match (sealed, packed) {
        (Ok(d), Ok(stats)) => Ok((d, stats)),
        (Err(e), Ok(_)) => Err(anyhow::Error::new(e).context("cannot seal the technical envelope")),
        (Ok(_), Err(e)) => Err(e),
        (Err(seal), Err(pack)) => {
            if reader_gone.load(Ordering::SeqCst) {
                Err(anyhow::Error::new(seal).context("cannot seal the technical envelope"))
            } else {
                Err(pack)
            }
        }
    }
}

/// Creates `path` (which must not exist), lets `write` fill it, and syncs it.
fn seal_to_file<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::with_capacity(PIPE_CHUNK, file);
    let out = write(&mut w)?;
    let file = w
        .into_inner()
        .map_err(|e| anyhow::Error::new(e.into_error()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(out)
}

fn envelope_file_name(kind: EnvelopeKind) -> String {
    format!("{}.age", kind.as_str())
}

fn seal(args: SealArgs) -> anyhow::Result<ExitCode> {
    // Everything local first: a typo should not cost a network round trip.
    let tender = canonical_tender(&args.tender)?;
    let bidder = canonical_org(&args.bidder)?;
    let deposit_reference = args.deposit_reference.trim().to_string();
    if deposit_reference.is_empty() {
        bail!("--deposit-reference is empty; request yours with POST /api/v1/tenders/ID/deposit-reference");
    }
    let signing_key = read_signing_key(&args.signing_key)?;
    let price = read_price(&args.price)?;
    let price_bytes = price.to_json_bytes()?;
    let own = args
        .own_key
        .as_deref()
        .map(|k| k.parse::<MemberRecipient>())
        .transpose()
        .context("--own-key")?;
    if let Some(dir) = &args.technical {
        if !dir.is_dir() {
            bail!("--technical {} is not a folder", dir.display());
        }
    }
    let pinned = args.log_key.as_deref().map(parse_log_key).transpose()?;

    let (policy, trusted) = match (&args.server, &args.policy) {
        (Some(server), _) => {
            let (policy, served) = fetch_policy(server, args.token.as_deref(), &tender)?;
            if let Some(p) = &pinned {
                if *p != served {
                    bail!(
                        "the server's log key {served} is not the key you pinned ({p}): do not \
                         seal to its policy"
                    );
                }
            }
            (policy, Some(served))
        }
        (None, Some(file)) => {
            let bytes = fs::read(file)
                .with_context(|| format!("cannot read the policy {}", file.display()))?;
            let policy =
                parse_policy_json(&bytes).with_context(|| format!("{}", file.display()))?;
            (policy, pinned.clone())
        }
        (None, None) => bail!("give --server URL or --policy FILE"),
    };
    check_policy(&policy, &tender, trusted.as_ref())?;
    let policy_hash = policy.body.hash_hex()?;
    print_policy(&policy.body, &policy_hash, &policy.key.to_string());
    if trusted.is_none() {
        eprintln!(
            "warning: the policy's signature verifies, but its signer was not checked against a \
             pinned platform key; pass --log-key to check it"
        );
    }
    if Utc::now() > policy.body.deadline {
        eprintln!(
            "warning: the deadline ({}) has passed; the server will refuse this bid",
            time_text(&policy.body.deadline)
        );
    }

    let out = &args.out;
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for name in ["manifest.json", "price.age", "technical.age"] {
        if out.join(name).exists() {
            bail!(
                "{} already holds a sealed bid ({name}); choose a new --out folder (a new seal \
                 replaces a bid only once submitted)",
                out.display()
            );
        }
    }
    let committee = policy.body.committee();
    let mut cleanup = Cleanup(Vec::new());

    let price_path = out.join(envelope_file_name(EnvelopeKind::Price));
    cleanup.0.push(price_path.clone());
    let price_ctx = ShareContext {
        tender: tender.clone(),
        bidder: bidder.clone(),
        kind: EnvelopeKind::Price,
    };
    let price_digest = seal_to_file(&price_path, |w| {
        seal_envelope(
            &committee,
            &price_ctx,
            own.as_ref(),
            &mut OsRng,
            price_bytes.as_slice(),
            w,
        )
        .context("cannot seal the price envelope")
    })?;
    let mut envelopes = vec![EnvelopeEntry {
        kind: EnvelopeKind::Price,
        sha256: price_digest.sha256_hex(),
        size: price_digest.size,
    }];

    let mut technical = None;
    if let Some(dir) = &args.technical {
        let path = out.join(envelope_file_name(EnvelopeKind::Technical));
        cleanup.0.push(path.clone());
        let ctx = ShareContext {
            tender: tender.clone(),
            bidder: bidder.clone(),
            kind: EnvelopeKind::Technical,
        };
        let (digest, stats) = seal_to_file(&path, |w| {
            seal_technical(dir, &committee, &ctx, own.as_ref(), w)
        })?;
        envelopes.push(EnvelopeEntry {
            kind: EnvelopeKind::Technical,
            sha256: digest.sha256_hex(),
            size: digest.size,
        });
        technical = Some(stats);
    }

    let manifest = Manifest {
        version: MANIFEST_VERSION,
        tender: tender.clone(),
        bidder,
        policy_hash,
        deposit_reference,
        envelopes,
        sealed_at: Utc::now(),
    };
    manifest.validate()?;
    let signed = Signed::sign(manifest, &signing_key)?;
    let manifest_bytes = signed.to_json_bytes()?;
    let manifest_path = out.join("manifest.json");
    cleanup.0.push(manifest_path.clone());
    write_new(&manifest_path, &manifest_bytes)?;
    cleanup.disarm();

    println!("Sealed the bid in {}:", out.display());
    for e in &signed.body.envelopes {
        let extra = match (e.kind, technical) {
            (EnvelopeKind::Technical, Some(s)) => {
                format!("; {} file(s), {} bytes packed", s.files, s.bytes)
            }
            _ => String::new(),
        };
        println!(
            "  {:<14} sha256 {}  ({} bytes{extra})",
            envelope_file_name(e.kind),
            e.sha256,
            e.size
        );
    }
    println!(
        "  {:<14} digest {}  (signed by {})",
        "manifest.json",
        signed.digest_hex()?,
        signed.key
    );
    println!(
        "Next: sealbid submit --server URL --tender {tender} {}",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

// ----- submit and withdraw -----

/// Reads and checks a signed manifest (signature and rules).
fn load_manifest(path: &Path) -> anyhow::Result<(Vec<u8>, SignedManifest)> {
    let bytes =
        fs::read(path).with_context(|| format!("cannot read the manifest {}", path.display()))?;
    let signed = SignedManifest::from_json_bytes(&bytes).with_context(|| {
        format!(
            "{} is not a signed manifest (use the manifest.json `sealbid seal` wrote)",
            path.display()
        )
    })?;
    signed.verify().with_context(|| {
        format!(
            "{}: the signature does not verify; seal the bid again",
            path.display()
        )
    })?;
    signed
        .body
        .validate()
        .with_context(|| format!("{}", path.display()))?;
    Ok((bytes, signed))
}

/// Finds each envelope file of the manifest in `dir` and checks its size and hash.
fn local_envelopes(dir: &Path, m: &Manifest) -> anyhow::Result<Vec<(EnvelopeEntry, PathBuf)>> {
    let mut out = Vec::new();
    for e in &m.envelopes {
        let path = dir.join(envelope_file_name(e.kind));
        let f = File::open(&path).with_context(|| {
            format!(
                "cannot read {} (the manifest lists a {} envelope)",
                path.display(),
                e.kind
            )
        })?;
        let d = digest_reader(BufReader::new(f))
            .with_context(|| format!("cannot read {}", path.display()))?;
        if d.sha256_hex() != e.sha256 || d.size != e.size {
            bail!(
                "{} (SHA-256 {}, {} bytes) is not the envelope the manifest signed ({}, {} bytes): \
                 it was changed after sealing; seal the bid again",
                path.display(),
                d.sha256_hex(),
                d.size,
                e.sha256,
                e.size
            );
        }
        out.push((e.clone(), path));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct EnvelopeStored {
    sha256: String,
    size: u64,
}

async fn upload_envelope(
    api: &Api,
    tender: &str,
    e: &EnvelopeEntry,
    path: &Path,
) -> anyhow::Result<()> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    let what = format!("uploading {}", path.display());
    eprintln!("uploading {} ({} bytes)…", path.display(), e.size);
    let rb = api
        .request(
            Method::PUT,
            &format!("/tenders/{tender}/envelopes/{}", e.sha256),
        )
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(reqwest::Body::from(file));
    let stored: EnvelopeStored = api.json(rb, &what).await?;
    if stored.sha256 != e.sha256 || stored.size != e.size {
        bail!(
            "{what}: the server stored SHA-256 {} ({} bytes), not {} ({} bytes); upload again",
            stored.sha256,
            stored.size,
            e.sha256,
            e.size
        );
    }
    Ok(())
}

/// The server's answer to a bid or withdrawal.
#[derive(Deserialize)]
struct BidAnswer {
    bid: serde_json::Value,
    receipt: serde_json::Value,
}

/// Checks that a verified receipt's entry holds exactly `ours`.
fn check_bid_entry(v: &VerifiedReceipt, ours: &SignedManifest) -> Result<(), String> {
    match &v.body {
        LogEntryBody::Bid { manifest } => {
            if manifest != ours {
                let theirs = manifest.digest_hex().unwrap_or_default();
                let mine = ours.digest_hex().unwrap_or_default();
                return Err(format!(
                    "the receipt's log entry holds another manifest (digest {theirs}) than yours \
                     ({mine})"
                ));
            }
            Ok(())
        }
        other => Err(format!(
            "the receipt is for a {} entry, not a bid",
            other.kind()
        )),
    }
}

fn json_field(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".into(),
    }
}

fn submit(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let tender = canonical_tender(&args.tender)?;
    let pinned = args.log_key.as_deref().map(parse_log_key).transpose()?;
    let (bytes, signed) = load_manifest(&args.dir.join("manifest.json"))?;
    if signed.body.tender != tender {
        bail!(
            "the manifest in {} is for tender {}, not {tender}",
            args.dir.display(),
            signed.body.tender
        );
    }
    let files = local_envelopes(&args.dir, &signed.body)?;
    let api = Api::new(&args.conn.server, Some(&args.conn.token))?;
    let rt = runtime()?;
    let answer: BidAnswer = rt.block_on(async {
        for (e, path) in &files {
            upload_envelope(&api, &tender, e, path).await?;
        }
        let mut rb = api
            .request(Method::POST, &format!("/tenders/{tender}/bids"))
            .header(CONTENT_TYPE, "application/json")
            .body(bytes);
        if let Some(device) = device_id() {
            rb = rb.header("x-sealbid-device", device);
        }
        api.json(rb, "submitting the manifest").await
    })?;
    let receipt: Receipt = serde_json::from_value(answer.receipt).context(
        "the server's receipt is malformed; fetch it again with GET /api/v1/tenders/ID/bids/mine",
    )?;
    let receipt_path = args.dir.join("receipt.json");
    write_replace(&receipt_path, &serde_json::to_vec_pretty(&receipt)?)?;
    let log_key = rt.block_on(trusted_log_key(&api, pinned.as_ref()))?;
    let verified = receipt.verify(&log_key).map_err(|e| {
        anyhow!(
            "the server accepted the bid, but its receipt does not verify: {e}. Keep {} and report \
             this to the platform's operator",
            receipt_path.display()
        )
    })?;
    check_bid_entry(&verified, &signed).map_err(|reason| {
        anyhow!(
            "the server accepted the bid, but {reason}. Keep {} and report this",
            receipt_path.display()
        )
    })?;
    println!(
        "Bid {} submitted ({}); receipt saved in {}",
        json_field(&answer.bid, "id"),
        json_field(&answer.bid, "status"),
        receipt_path.display()
    );
    println!(
        "  log entry {} of a tree of {}, checkpoint time {} (logged no later than that)",
        receipt.index,
        verified.checkpoint.size,
        time_text(&verified.time)
    );
    println!("  manifest digest {}", signed.digest_hex()?);
    println!("  log key {log_key}");
    Ok(ExitCode::SUCCESS)
}

fn withdraw(args: WithdrawArgs) -> anyhow::Result<ExitCode> {
    let tender = canonical_tender(&args.tender)?;
    let pinned = args.log_key.as_deref().map(parse_log_key).transpose()?;
    let (_, signed) = load_manifest(&args.dir.join("manifest.json"))?;
    if signed.body.tender != tender {
        bail!(
            "the manifest in {} is for tender {}, not {tender}",
            args.dir.display(),
            signed.body.tender
        );
    }
    let key = read_signing_key(&args.signing_key)?;
    if key.verifying_key() != signed.key {
        bail!(
            "{} is not the key that signed the bid ({}); sign the withdrawal with that key",
            args.signing_key.display(),
            signed.key
        );
    }
    let withdrawal = Withdrawal {
        version: MANIFEST_VERSION,
        tender: tender.clone(),
        bidder: signed.body.bidder.clone(),
        withdrawn_manifest: signed.digest_hex()?,
        at: Utc::now(),
    };
    withdrawal.validate()?;
    let signed_w = Signed::sign(withdrawal, &key)?;
    let api = Api::new(&args.conn.server, Some(&args.conn.token))?;
    let rt = runtime()?;
    let answer: BidAnswer = rt.block_on(api.post_json_bytes(
        &format!("/tenders/{tender}/bids/withdraw"),
        signed_w.to_json_bytes()?,
        "withdrawing the bid",
    ))?;
    let receipt: Receipt =
        serde_json::from_value(answer.receipt).context("the server's receipt is malformed")?;
    let receipt_path = args.dir.join("withdrawal-receipt.json");
    write_replace(&receipt_path, &serde_json::to_vec_pretty(&receipt)?)?;
    let log_key = rt.block_on(trusted_log_key(&api, pinned.as_ref()))?;
    let verified = receipt.verify(&log_key).map_err(|e| {
        anyhow!(
            "the server withdrew the bid, but its receipt does not verify: {e}. Keep {} and \
             report this",
            receipt_path.display()
        )
    })?;
    match &verified.body {
        LogEntryBody::Withdrawal { withdrawal } if *withdrawal == signed_w => {}
        other => bail!(
            "the server withdrew the bid, but its receipt holds a {} entry other than your \
             withdrawal. Keep {} and report this",
            other.kind(),
            receipt_path.display()
        ),
    }
    println!(
        "Bid {} withdrawn ({}); receipt saved in {}",
        json_field(&answer.bid, "id"),
        json_field(&answer.bid, "status"),
        receipt_path.display()
    );
    println!(
        "  log entry {}, checkpoint time {}",
        receipt.index,
        time_text(&verified.time)
    );
    Ok(ExitCode::SUCCESS)
}

// ----- verify-receipt -----

/// Parses a receipt, or the server's whole `{bid, receipt}` answer.
fn parse_receipt(bytes: &[u8]) -> Result<Receipt, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the receipt is not JSON: {e}"))?;
    let inner = match value.get("receipt") {
        Some(r) if r.is_object() => r.clone(),
        _ => value,
    };
    serde_json::from_value(inner).map_err(|e| format!("not a Sealbid receipt: {e}"))
}

/// Verifies a receipt and the optional conditions; the reason on failure.
fn check_receipt(
    bytes: &[u8],
    log_key: &NoteVerifier,
    deadline: Option<DateTime<Utc>>,
    manifest: Option<&SignedManifest>,
) -> Result<(Receipt, VerifiedReceipt), String> {
    let receipt = parse_receipt(bytes)?;
    let verified = match deadline {
        Some(d) => receipt.verify_before(log_key, d),
        None => receipt.verify(log_key),
    }
    .map_err(|e| e.to_string())?;
    if let Some(m) = manifest {
        check_bid_entry(&verified, m)?;
    }
    Ok((receipt, verified))
}

fn verify_receipt_cmd(args: VerifyReceiptArgs) -> anyhow::Result<ExitCode> {
    let log_key = parse_log_key(&args.log_key)?;
    let deadline = args
        .deadline
        .as_deref()
        .map(|d| parse_time(d, "--deadline"))
        .transpose()?;
    let manifest = match &args.manifest {
        Some(p) => {
            let bytes =
                fs::read(p).with_context(|| format!("cannot read the manifest {}", p.display()))?;
            Some(
                SignedManifest::from_json_bytes(&bytes)
                    .with_context(|| format!("{} is not a signed manifest", p.display()))?,
            )
        }
        None => None,
    };
    let bytes = read_input(&args.receipt, "receipt")?;
    let (receipt, v) = match check_receipt(&bytes, &log_key, deadline, manifest.as_ref()) {
        Ok(ok) => ok,
        Err(reason) => {
            println!("receipt INVALID: {reason}");
            return Ok(ExitCode::from(INVALID));
        }
    };
    println!("receipt VALID");
    println!(
        "  log entry {} ({}) is in the tree of {} entries of the log {}",
        receipt.index,
        v.body.kind(),
        v.checkpoint.size,
        v.checkpoint.origin
    );
    println!(
        "  the checkpoint is signed by the log key and dated {}: the entry was logged no later",
        time_text(&v.time)
    );
    match &v.body {
        LogEntryBody::Bid { manifest: m } => {
            println!(
                "  bid of {} for tender {}, manifest digest {}",
                m.body.bidder,
                m.body.tender,
                m.digest_hex().unwrap_or_default()
            );
            println!(
                "  signed by {}; sealed to policy {}; sealed at {} (the bidder's claim)",
                m.key,
                m.body.policy_hash,
                time_text(&m.body.sealed_at)
            );
            for e in &m.body.envelopes {
                println!(
                    "    {} envelope: sha256 {} ({} bytes)",
                    e.kind, e.sha256, e.size
                );
            }
        }
        LogEntryBody::Withdrawal { withdrawal: w } => println!(
            "  withdrawal by {} of manifest {} for tender {}, signed by {}",
            w.body.bidder, w.body.withdrawn_manifest, w.body.tender, w.key
        ),
        other => println!("  a {} entry", other.kind()),
    }
    if let Some(d) = deadline {
        println!("  logged before the deadline {}", time_text(&d));
    }
    if let Some(p) = &args.manifest {
        println!(
            "  the entry holds exactly the signed manifest in {}",
            p.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

// ----- the committee -----

/// One envelope to open, as the server lists it.
#[derive(Deserialize)]
struct EnvelopeToOpen {
    source: String,
    tender: String,
    bidder: String,
    kind: String,
    sha256: String,
    header: String,
}

fn reveal_path(state: &Path, tender: &str) -> PathBuf {
    state.join(format!("reveal-{tender}.json"))
}

/// Derives this member's share key for each envelope; envelopes it cannot open are reported
/// (as `(sha256, reason)`) and skipped.
fn derive_keys(
    identity: &MemberIdentity,
    seat: u8,
    tender: &str,
    envelopes: &[EnvelopeToOpen],
) -> (Vec<RevealedKey>, Vec<(String, String)>) {
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for e in envelopes {
        let derived = (|| -> anyhow::Result<RevealedKey> {
            if e.tender != tender {
                bail!("it belongs to tender {}", e.tender);
            }
            let header = base64::engine::general_purpose::STANDARD
                .decode(e.header.trim())
                .context("its header is not base64")?;
            let info = read_header(header.as_slice())?;
            let kind: EnvelopeKind = e.kind.parse()?;
            let ctx = ShareContext {
                tender: tender.to_string(),
                bidder: e.bidder.clone(),
                kind,
            };
            let key = member_share_key_at(identity, &info, &ctx, seat)?;
            Ok(RevealedKey {
                envelope_sha256: e.sha256.clone(),
                key,
            })
        })();
        match derived {
            Ok(k) => keys.push(k),
            Err(err) => skipped.push((
                e.sha256.clone(),
                format!("{} {} envelope: {err:#}", e.source, e.kind),
            )),
        }
    }
    (keys, skipped)
}

/// Saves the reveal document, readable by its owner only; refuses to overwrite one.
fn save_reveal(path: &Path, reveal: &Reveal) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec(reveal).context("cannot encode the reveal document")?;
    write_secret_file(path, &[&bytes])
}

fn load_reveal(path: &Path, tender: &str) -> anyhow::Result<Reveal> {
    let bytes = fs::read(path).with_context(|| {
        format!(
            "cannot read the reveal document {} (run `sealbid committee open` first, with the \
             same --state folder)",
            path.display()
        )
    })?;
    let reveal: Reveal = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a reveal document", path.display()))?;
    if reveal.tender != tender {
        bail!(
            "{} is the reveal for tender {}, not {tender}",
            path.display(),
            reveal.tender
        );
    }
    Ok(reveal)
}

/// Finds this identity's seat on the committee (and checks a given one).
fn find_seat(
    view: &CommitteeView,
    identity: &MemberIdentity,
    given: Option<u8>,
) -> anyhow::Result<u8> {
    let mine = identity.recipient();
    // The signed policy is what the envelopes were sealed to; the seat list is the fallback.
    let from_policy: Option<Vec<(u8, String)>> = view
        .policy
        .as_ref()
        .and_then(|p| serde_json::from_value::<SignedPolicy>(p.clone()).ok())
        .map(|p| {
            p.body
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        u8::try_from(i + 1).unwrap_or(u8::MAX),
                        m.recipient.to_string(),
                    )
                })
                .collect()
        });
    let seats = from_policy.unwrap_or_else(|| {
        view.seats
            .iter()
            .filter_map(|s| s.recipient.clone().map(|r| (s.index, r)))
            .collect()
    });
    let found = seats
        .iter()
        .find(|(_, r)| *r == mine.to_string())
        .map(|(i, _)| *i);
    match (given, found) {
        (Some(g), Some(f)) if g == f => Ok(g),
        (Some(g), Some(f)) => bail!(
            "your identity {mine} holds seat {f}, not seat {g}; drop --seat or pass --seat {f}"
        ),
        (Some(g), None) => {
            let holder = seats.iter().find(|(i, _)| *i == g).map(|(_, r)| r.clone());
            match holder {
                Some(r) => bail!(
                    "seat {g} holds the key {r}, not your identity's {mine}: use the identity \
                     file whose public key you registered"
                ),
                None => bail!("the committee has no seat {g} with a key"),
            }
        }
        (None, Some(f)) => Ok(f),
        (None, None) => bail!(
            "your identity's key {mine} is on none of this tender's committee seats: use the \
             identity file whose public key you registered"
        ),
    }
}

#[derive(Deserialize)]
struct RevealAnswer {
    opened: bool,
    record: Option<serde_json::Value>,
}

/// Sends the reveal; explains the answers that are not failures.
fn send_reveal(
    api: &Api,
    rt: &tokio::runtime::Runtime,
    reveal: &Reveal,
    state: &Path,
    after_commit: bool,
) -> anyhow::Result<ExitCode> {
    let tender = &reveal.tender;
    let bytes = serde_json::to_vec(reveal).context("cannot encode the reveal document")?;
    let answer: anyhow::Result<RevealAnswer> = rt.block_on(api.post_json_bytes(
        &format!("/tenders/{tender}/opening/reveal"),
        bytes,
        "revealing",
    ));
    match answer {
        Ok(a) if a.opened => {
            println!("Revealed. Your reveal completed the threshold: the bids are open.");
            if let Some(record) = a.record {
                let bytes = serde_json::to_vec(&record)?;
                let path = state.join(format!("opening-record-{tender}.json"));
                write_replace(&path, &bytes)?;
                if let Ok(r) = SignedOpeningRecord::from_json_bytes(&bytes) {
                    print_record_bids(&r);
                }
                println!(
                    "The signed opening record is in {}; check it with: sealbid verify-opening {} \
                     --log-key VKEY --server URL",
                    path.display(),
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(_) => {
            println!(
                "Revealed. The bids open once enough members have revealed; the record will be at \
                 GET /api/v1/tenders/{tender}/opening/record"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => match http_code(&e) {
            Some((StatusCode::CONFLICT, "reveal_not_yet")) => {
                let msg = e
                    .downcast_ref::<HttpError>()
                    .map(|h| h.message.clone())
                    .unwrap_or_default();
                println!(
                    "{}Not revealed yet: {msg}. Once enough members have committed, run: sealbid \
                     committee reveal --server URL --tender {tender} --state {}",
                    if after_commit { "Committed. " } else { "" },
                    state.display()
                );
                Ok(ExitCode::SUCCESS)
            }
            Some((StatusCode::CONFLICT, "already_revealed")) => {
                println!("You have already revealed for this tender.");
                Ok(ExitCode::SUCCESS)
            }
            Some((StatusCode::CONFLICT, "already_opened")) => {
                println!(
                    "The bids are already open; the record is at GET \
                     /api/v1/tenders/{tender}/opening/record"
                );
                Ok(ExitCode::SUCCESS)
            }
            _ => Err(e),
        },
    }
}

fn print_record_bids(r: &SignedOpeningRecord) {
    for b in &r.body.bids {
        match (&b.outcome, &b.price) {
            (BidOutcome::Valid, Some(p)) => {
                println!(
                    "  {} ({}): {} {}",
                    b.bidder_name, b.bidder, p.total, p.currency
                )
            }
            (BidOutcome::Valid, None) => println!("  {} ({}): valid", b.bidder_name, b.bidder),
            (BidOutcome::Invalid { code, reason }, _) => println!(
                "  {} ({}): INVALID [{code}] {reason}",
                b.bidder_name, b.bidder
            ),
        }
    }
}

fn committee_open(args: CommitteeOpenArgs) -> anyhow::Result<ExitCode> {
    let tender = canonical_tender(&args.tender)?;
    let identity = read_identity(&args.identity)?;
    let path = reveal_path(&args.state, &tender);
    let api = Api::new(&args.conn.server, Some(&args.conn.token))?;
    let rt = runtime()?;

    let (reveal, fresh) = if path.exists() {
        let reveal = load_reveal(&path, &tender)?;
        if let Some(s) = args.seat {
            if s != reveal.seat {
                bail!(
                    "{} is the reveal for seat {}, not {s}",
                    path.display(),
                    reveal.seat
                );
            }
        }
        eprintln!(
            "using the reveal document saved earlier in {} (seat {}, {} key(s))",
            path.display(),
            reveal.seat,
            reveal.keys.len()
        );
        (reveal, false)
    } else {
        let view: CommitteeView = rt.block_on(api.json(
            api.request(Method::GET, &format!("/tenders/{tender}/committee")),
            "fetching the committee",
        ))?;
        let seat = find_seat(&view, &identity, args.seat)?;
        let name = view
            .seats
            .iter()
            .find(|s| s.index == seat)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        eprintln!("seat {seat} ({name})");
        let envelopes: Vec<EnvelopeToOpen> = rt.block_on(api.json(
            api.request(Method::GET, &format!("/tenders/{tender}/opening/envelopes")),
            "fetching the envelopes to open",
        ))?;
        let (keys, skipped) = derive_keys(&identity, seat, &tender, &envelopes);
        for (sha, reason) in &skipped {
            eprintln!("skipped envelope {sha}: {reason}");
        }
        if keys.is_empty() && !envelopes.is_empty() {
            bail!(
                "your identity opens none of the {} envelope(s): check --identity (and --seat); \
                 nothing was saved or sent",
                envelopes.len()
            );
        }
        println!(
            "Derived your share key for {} of {} envelope(s){}.",
            keys.len(),
            envelopes.len(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" ({} skipped)", skipped.len())
            }
        );
        let reveal = Reveal {
            tender: tender.clone(),
            seat,
            keys,
            nonce: random_hex(32),
        };
        fs::create_dir_all(&args.state)
            .with_context(|| format!("cannot create {}", args.state.display()))?;
        // Saved before anything is sent: the commitment binds this exact document.
        save_reveal(&path, &reveal)?;
        eprintln!(
            "saved the reveal document in {} (secret until you reveal it; keep it)",
            path.display()
        );
        (reveal, true)
    };

    let commitment = reveal.commitment()?;
    let committed: anyhow::Result<()> = rt.block_on(async {
        api.send(
            api.request(Method::POST, &format!("/tenders/{tender}/opening/commit"))
                .json(&serde_json::json!({ "commitment": commitment })),
            "committing",
        )
        .await
        .map(drop)
    });
    match committed {
        Ok(()) => println!("Committed to your reveal (commitment {commitment})."),
        Err(e) => match http_code(&e) {
            Some((StatusCode::CONFLICT, "already_committed")) if !fresh => {
                println!("Already committed earlier (with the saved reveal document).")
            }
            Some((StatusCode::CONFLICT, "already_committed")) => bail!(
                "the server holds an earlier commitment of yours, but no reveal document was \
                 saved in {}: run this command with the --state folder of your first \
                 `committee open` (the new {} cannot match that commitment)",
                args.state.display(),
                path.display()
            ),
            Some((StatusCode::CONFLICT, "already_opened")) => {
                println!(
                    "The bids are already open; the record is at GET \
                     /api/v1/tenders/{tender}/opening/record"
                );
                return Ok(ExitCode::SUCCESS);
            }
            _ => return Err(e),
        },
    }
    send_reveal(&api, &rt, &reveal, &args.state, true)
}

fn committee_reveal(args: CommitteeRevealArgs) -> anyhow::Result<ExitCode> {
    let tender = canonical_tender(&args.tender)?;
    let reveal = load_reveal(&reveal_path(&args.state, &tender), &tender)?;
    let api = Api::new(&args.conn.server, Some(&args.conn.token))?;
    let rt = runtime()?;
    match send_reveal(&api, &rt, &reveal, &args.state, false) {
        Err(e) if matches!(http_code(&e), Some((_, "not_committed"))) => Err(e.context(
            "commit first with `sealbid committee open` (it reuses the saved reveal document)",
        )),
        other => other,
    }
}

// ----- verify-opening -----

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Opens `DIR/SHA.age` or `DIR/SHA`, if either exists.
fn local_ciphertext(dir: &Path, sha: &str) -> Result<Option<Box<dyn Read>>, SealError> {
    for name in [format!("{sha}.age"), sha.to_string()] {
        match File::open(dir.join(&name)) {
            Ok(f) => return Ok(Some(Box::new(BufReader::new(f)))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SealError::io("reading a ciphertext", e)),
        }
    }
    Ok(None)
}

/// Downloads a ciphertext to a temporary file (`None`: the server does not have it).
async fn download_envelope(api: &Api, tender: &str, sha: &str) -> anyhow::Result<Option<TempFile>> {
    let what = format!("downloading envelope {sha}");
    let resp = api
        .request(Method::GET, &format!("/tenders/{tender}/envelopes/{sha}"))
        .send()
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("{what}: cannot reach the server")))?;
    if resp.status() == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(http_error(resp, &what).await.into());
    }
    let mut tmp = TempFile::create().context("cannot create a temporary file")?;
    let mut resp = resp;
    while let Some(chunk) = resp
        .chunk()
        .await
        .with_context(|| format!("{what}: the download broke off"))?
    {
        tmp.file()?
            .write_all(&chunk)
            .context("cannot write a temporary file (is the disk full?)")?;
    }
    tmp.file()?.rewind()?;
    Ok(Some(tmp))
}

fn print_report(r: &SignedOpeningRecord, report: &OpeningReport) {
    let b = &r.body;
    println!(
        "opening record VALID: tender {} ({}), opened {} by seats {:?} ({} needed)",
        b.tender,
        b.tender_code,
        time_text(&b.opened_at),
        b.revealed_by,
        b.threshold
    );
    println!(
        "  bids: {} (valid {}, invalid {}); envelopes decrypted and checked: {}",
        report.bids, report.valid, report.invalid, report.envelopes_decrypted
    );
    print_record_bids(r);
    if !report.envelopes_missing.is_empty() {
        println!(
            "  NOT CHECKED: {} ciphertext(s) were not available:",
            report.envelopes_missing.len()
        );
        for m in &report.envelopes_missing {
            println!("    {m}");
        }
    }
}

fn sign_report_cmd(args: SignReportArgs) -> anyhow::Result<ExitCode> {
    use sealbid_seal::report::EvaluationReport;
    let tender = canonical_tender(&args.tender)?;
    let key = read_signing_key(&args.signing_key)?;
    let api = Api::new(&args.conn.server, Some(&args.conn.token))?;
    let rt = runtime()?;
    let path = format!("/tenders/{tender}/evaluation/report");
    let view: serde_json::Value =
        rt.block_on(api.json(api.request(Method::GET, &path), "fetching the report"))?;
    let report: EvaluationReport = serde_json::from_value(view["report"].clone())
        .context("the server's report does not parse")?;
    let bytes = report.signing_bytes()?;
    // What the server says it wants signed must be exactly the report it shows.
    let announced = base64::engine::general_purpose::STANDARD
        .decode(view["signing_bytes_b64"].as_str().unwrap_or_default())
        .context("the server's signing bytes are not base64")?;
    if announced != bytes {
        bail!("the server's signing bytes are not those of the report it shows: not signing");
    }
    let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
    if let Some(expected) = &args.digest {
        if !expected.trim().eq_ignore_ascii_case(&digest) {
            bail!(
                "the report's digest is {digest}, not the {} you read: it changed; read it again",
                expected.trim()
            );
        }
    }
    let version = view["version"]
        .as_i64()
        .ok_or_else(|| anyhow!("the server's report has no version"))?;
    let candidates = report.outcome["candidates"]
        .as_array()
        .map(|c| c.len())
        .unwrap_or(0);
    eprintln!(
        "signing the evaluation report of {} (version {version}, digest {digest}): {} member(s), \
         {candidates} candidate(s)",
        report.tender_code,
        report.members.len()
    );
    let body = serde_json::json!({
        "key": key.verifying_key().to_string(),
        "signature": key.sign(&bytes).to_string(),
        "version": version,
    });
    let after: serde_json::Value = rt.block_on(
        api.json(
            api.request(Method::POST, &format!("{path}/signatures"))
                .json(&body),
            "sending the signature",
        ),
    )?;
    let signed = after["signatures"].as_array().map_or(0, Vec::len);
    println!(
        "signed: {signed} of {} member(s) have signed",
        report.members.len()
    );
    if let Some(index) = after["logged"]["log_index"].as_u64() {
        println!("every member has signed: the report is logged at index {index}");
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_draw_cmd(args: VerifyDrawArgs) -> anyhow::Result<ExitCode> {
    use sealbid_domain::evaluation::draw::{Draw, PublicDraw};
    let tender = canonical_tender(&args.tender)?;
    let api = Api::new(&args.server, None)?;
    let rt = runtime()?;
    let (csv, source) = match &args.pool {
        Some(path) => (
            std::fs::read(path)
                .with_context(|| format!("cannot read the pool {}", path.display()))?,
            path.display().to_string(),
        ),
        None => {
            let resp = rt.block_on(api.send(
                api.request(
                    Method::GET,
                    &format!("/tenders/{tender}/committee-draw/pool"),
                ),
                "fetching the public pool",
            ))?;
            let bytes = rt
                .block_on(resp.bytes())
                .context("reading the public pool")?;
            (bytes.to_vec(), "the public pool".to_string())
        }
    };
    let pool = sealbid_server::api::evaluation::parse_pool_csv(&csv).map_err(|errors| {
        anyhow!(
            "{}: {} bad row(s): {}",
            source,
            errors.len(),
            errors
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let (draw, committee): (serde_json::Value, serde_json::Value) = rt.block_on(async {
        let d = api
            .json(
                api.request(Method::GET, &format!("/tenders/{tender}/committee-draw")),
                "fetching the committee draw",
            )
            .await?;
        let c = api
            .json(
                api.request(Method::GET, &format!("/tenders/{tender}/committee")),
                "fetching the tender's closing checkpoint",
            )
            .await?;
        anyhow::Ok((d, c))
    })?;
    let public: PublicDraw =
        serde_json::from_value(draw["public"].clone()).context("the server's draw is malformed")?;
    // The seed must come from the checkpoint the tender closed with, not one chosen afterwards.
    if committee["closing_checkpoint"].as_str() != Some(public.closing_checkpoint.as_str()) {
        eprintln!("the draw does NOT verify: its seed uses a checkpoint other than the tender's closing checkpoint");
        return Ok(ExitCode::from(1));
    }
    match Draw::verify_public(&public, &pool) {
        Ok(()) => {
            println!(
                "the draw verifies: seed {} (algorithm {}), pool digest {} ({} experts), {} member(s): {}",
                public.seed_hex,
                public.algorithm,
                public.pool_digest,
                public.pool_size,
                public.members.len(),
                public
                    .members
                    .iter()
                    .map(|m| m.expert_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("the draw does NOT verify: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn verify_opening_cmd(args: VerifyOpeningArgs) -> anyhow::Result<ExitCode> {
    let log_key = parse_log_key(&args.log_key)?;
    let remote = match &args.server {
        Some(s) => Some((Api::new(s, None)?, runtime()?)),
        None => None,
    };
    let bytes = match (&args.record, &args.tender, &remote) {
        (Some(path), _, _) => read_input(path, "opening record")?,
        (None, Some(t), Some((api, rt))) => {
            let t = canonical_tender(t)?;
            rt.block_on(async {
                let resp = api
                    .send(
                        api.request(Method::GET, &format!("/tenders/{t}/opening/record")),
                        "fetching the opening record",
                    )
                    .await?;
                let bytes = resp
                    .bytes()
                    .await
                    .context("the opening record did not arrive whole; try again")?;
                anyhow::Ok(bytes.to_vec())
            })?
        }
        _ => bail!("give the RECORD file (or -), or --server URL with --tender ID to fetch it"),
    };
    // The tender to fetch ciphertexts for comes from the record itself.
    let tender = SignedOpeningRecord::from_json_bytes(&bytes)
        .map(|r| r.body.tender)
        .unwrap_or_default();
    if !tender.is_empty() {
        if let Some(t) = &args.tender {
            if canonical_tender(t)? != tender {
                bail!("the record is for tender {tender}, not {t}");
            }
        }
    }
    let mut fetch = |sha: &str| -> Result<Option<Box<dyn Read>>, SealError> {
        if !is_sha256_hex(sha) {
            return Err(SealError::invalid(
                "bad_record",
                format!("`{sha}` is not a lower-case hex SHA-256"),
            ));
        }
        if let Some(dir) = &args.ciphertexts {
            if let Some(r) = local_ciphertext(dir, sha)? {
                return Ok(Some(r));
            }
        }
        if let Some((api, rt)) = &remote {
            return rt
                .block_on(download_envelope(api, &tender, sha))
                .map(|t| t.map(|t| Box::new(t) as Box<dyn Read>))
                .map_err(|e| SealError::invalid("fetch_failed", format!("{e:#}")));
        }
        Ok(None)
    };
    match verify_opening(&bytes, &log_key, &mut fetch) {
        Ok(report) => {
            let record = SignedOpeningRecord::from_json_bytes(&bytes)?;
            print_report(&record, &report);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("opening record INVALID: {e}");
            Ok(ExitCode::from(INVALID))
        }
    }
}

// ----- dev-bank -----

/// The bank's callback body (field order as the platform documents it).
#[derive(Serialize)]
struct BankCallback<'a> {
    transaction_id: &'a str,
    reference: &'a str,
    amount: &'a str,
    payer_name: &'a str,
    account_number: &'a str,
    bank: &'a str,
    paid_at: DateTime<Utc>,
}

/// The body and its `X-Sealbid-Signature` (hex HMAC-SHA256 of the body).
fn signed_bank_body(secret: &[u8], cb: &BankCallback<'_>) -> anyhow::Result<(Vec<u8>, String)> {
    let body = serde_json::to_vec(cb).context("cannot encode the callback")?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mac = hex::encode(ring::hmac::sign(&key, &body).as_ref());
    Ok((body, mac))
}

fn parse_amount(s: &str) -> anyhow::Result<String> {
    let amount: rust_decimal::Decimal = s
        .trim()
        .parse()
        .map_err(|_| anyhow!("--amount {s:?} is not a number of yuan like 50000.00"))?;
    if amount <= rust_decimal::Decimal::ZERO || amount.normalize().scale() > 2 {
        bail!("--amount {s:?} must be positive with at most two decimal places");
    }
    Ok(amount.to_string())
}

fn dev_bank_pay(args: DevBankPayArgs) -> anyhow::Result<ExitCode> {
    let secret_hex = match (&args.secret, &args.keys_dir) {
        (Some(s), _) => s.clone(),
        (None, Some(dir)) => {
            let path = dir.join("bank-hmac.key");
            fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read {} (the server writes it on first start; pass its --keys-dir)",
                    path.display()
                )
            })?
        }
        (None, None) => bail!("give --secret HEX or --keys-dir DIR"),
    };
    let secret =
        hex::decode(secret_hex.trim()).map_err(|e| anyhow!("the bank secret is not hex ({e})"))?;
    if secret.is_empty() {
        bail!("the bank secret is empty");
    }
    let amount = parse_amount(&args.amount)?;
    let paid_at = match &args.paid_at {
        Some(t) => parse_time(t, "--paid-at")?,
        None => Utc::now(),
    };
    let transaction_id = args
        .transaction_id
        .clone()
        .unwrap_or_else(|| format!("DEV-{}", random_hex(8)));
    let cb = BankCallback {
        transaction_id: &transaction_id,
        reference: args.reference.trim(),
        amount: &amount,
        payer_name: &args.payer,
        account_number: &args.account,
        bank: &args.bank,
        paid_at,
    };
    let (body, mac) = signed_bank_body(&secret, &cb)?;
    let api = Api::new(&args.server, None)?;
    let rt = runtime()?;
    let answer: serde_json::Value = rt
        .block_on(
            api.json(
                api.request(Method::POST, "/bank/deposits")
                    .header(CONTENT_TYPE, "application/json")
                    .header("X-Sealbid-Signature", mac)
                    .body(body),
                "reporting the deposit",
            ),
        )
        .map_err(|e| match http_code(&e) {
            Some((StatusCode::UNAUTHORIZED, _)) => e.context(
                "the platform rejected the bank's signature: use the secret in the server's \
             bank-hmac.key (--keys-dir DIR reads it)",
            ),
            _ => e,
        })?;
    let new = answer.get("new").and_then(serde_json::Value::as_bool);
    println!(
        "deposit {}: reference {} paid {} (transaction {transaction_id})",
        match new {
            Some(false) => "already recorded",
            _ => "recorded",
        },
        json_field(&answer, "reference"),
        json_field(&answer, "amount"),
    );
    Ok(ExitCode::SUCCESS)
}

/// This machine's device id for `X-Sealbid-Device`: a digest of the operating system's machine id
/// (`/etc/machine-id`), never the id itself. The platform compares device ids between the bidders
/// of a tender after the opening, as trading platforms compare the bid-preparation tool's machine
/// code (条例 40(1)); `None` where the machine has no id.
fn device_id() -> Option<String> {
    let id = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())?;
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("sealbid-device-v1:{id}").as_bytes(),
    );
    digest.as_ref().get(..16).map(hex::encode)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};
    use sealbid_seal::checkpoint::{Checkpoint, SignedCheckpoint};
    use sealbid_seal::envelope::open_own;
    use sealbid_seal::merkle::leaf_hash;
    use sealbid_seal::note::NoteSigner;

    #[derive(Parser)]
    struct TestCli {
        #[command(subcommand)]
        command: SealCommand,
    }

    fn parse(args: &[&str]) -> Result<TestCli, clap::Error> {
        TestCli::try_parse_from(std::iter::once("sealbid").chain(args.iter().copied()))
    }

    const TENDER: &str = "0190b7e2-4c7a-7c4e-9a3b-1d2e3f4a5b6c";

    #[test]
    fn the_command_line_is_well_formed() {
        TestCli::command().debug_assert();
    }

    #[test]
    fn argument_validation() {
        let base = [
            "seal",
            "--tender",
            TENDER,
            "--bidder",
            TENDER,
            "--deposit-reference",
            "1234",
            "--signing-key",
            "k",
            "--price",
            "p.json",
            "--out",
            "o",
        ];
        // Neither or both policy sources.
        assert!(parse(&base).is_err());
        let mut both = base.to_vec();
        both.extend(["--server", "http://x", "--policy", "p"]);
        assert!(parse(&both).is_err());
        let mut one = base.to_vec();
        one.extend(["--policy", "p"]);
        assert!(parse(&one).is_ok());

        // verify-opening needs somewhere to get ciphertexts from.
        assert!(parse(&["verify-opening", "r.json", "--log-key", "k"]).is_err());
        assert!(parse(&[
            "verify-opening",
            "r.json",
            "--log-key",
            "k",
            "--ciphertexts",
            "d"
        ])
        .is_ok());
        assert!(parse(&[
            "verify-opening",
            "--log-key",
            "k",
            "--ciphertexts",
            "d",
            "--server",
            "http://x"
        ])
        .is_ok());
        // A token may start with `-` (base64url): it is a value, not a flag.
        assert!(parse(&[
            "submit",
            "--server",
            "http://x",
            "--token",
            "-x2whKqDpG9ez8Uf8",
            "--tender",
            TENDER,
            "dir"
        ])
        .is_ok());
        // Seats are 1-based.
        assert!(parse(&[
            "committee",
            "open",
            "--server",
            "http://x",
            "--token",
            "t",
            "--tender",
            TENDER,
            "--identity",
            "id",
            "--seat",
            "0"
        ])
        .is_err());
        assert!(parse(&[
            "committee",
            "open",
            "--server",
            "http://x",
            "--token",
            "t",
            "--tender",
            TENDER,
            "--identity",
            "id",
            "--seat",
            "3"
        ])
        .is_ok());
        // The bank needs exactly one secret source.
        let pay = [
            "dev-bank",
            "pay",
            "--server",
            "http://x",
            "--reference",
            "R",
            "--amount",
            "1",
            "--payer",
            "P",
            "--account",
            "1",
            "--bank",
            "B",
        ];
        assert!(parse(&pay).is_err());
        let mut both = pay.to_vec();
        both.extend(["--secret", "aa", "--keys-dir", "d"]);
        assert!(parse(&both).is_err());

        // Value checks done by the commands.
        assert!(canonical_tender("not-a-uuid").is_err());
        assert_eq!(canonical_tender(&format!(" {TENDER} ")).unwrap(), TENDER);
        assert!(canonical_org("x").is_err());
        assert!(parse_log_key("nonsense").is_err());
        assert!(parse_time("2025-03-10 09:30", "--deadline").is_err());
        assert!(parse_time("2025-03-10T09:30:00+08:00", "--deadline").is_ok());
        assert_eq!(parse_amount("50000.00").unwrap(), "50000.00");
        assert!(parse_amount("0").is_err());
        assert!(parse_amount("1.234").is_err());
        assert!(parse_amount("abc").is_err());
        assert!(Api::new("ftp://x", None).is_err());
        assert!(Api::new("http://x", Some(" ")).is_err());
        let api = Api::new("http://x:8080/api/v1/", None).unwrap();
        assert_eq!(api.base, "http://x:8080");
    }

    #[test]
    fn price_errors_name_the_line() {
        let err = parse_price(b"{\n  \"currency\": \"CNY\",\n  \"total\": \"12\",\n}").unwrap_err();
        assert!(format!("{err:#}").contains("line 4"), "{err:#}");
        let err = parse_price(b"{\n  \"currency\": \"CNY\",\n  \"total\": 12\n}").unwrap_err();
        assert!(format!("{err:#}").contains("line 3"), "{err:#}");
        let bad_line = br#"{"currency":"CNY","total":"10.00","lines":[
            {"code":"A","description":"a","unit":"m","quantity":"1","unit_price":"5.00","amount":"5.00"},
            {"code":"B","description":"b","unit":"m","quantity":"1","unit_price":"5.00","amount":"6.00"}]}"#;
        let err = parse_price(bad_line).unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
        let ok = br#"{"currency":"CNY","total":"10.00","lines":[]}"#;
        assert_eq!(parse_price(ok).unwrap().total.to_string(), "10.00");
    }

    fn write_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
        let files = vec![
            ("a.txt".to_string(), b"alpha".to_vec()),
            ("docs/b.pdf".to_string(), vec![7u8; 200_000]),
            ("docs/deep/c.bin".to_string(), (0..=255u8).collect()),
            (
                format!("docs/{}.txt", "n".repeat(120)),
                b"long name".to_vec(),
            ),
        ];
        for (name, data) in &files {
            let p = root.join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, data).unwrap();
        }
        files
    }

    fn unpack(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut a = tar::Archive::new(archive);
        for entry in a.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type().is_file() {
                let name = entry.path().unwrap().to_string_lossy().replace('\\', "/");
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                out.push((name, data));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn tar_packing_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_tree(dir.path());
        files.sort();
        let mut archive = Vec::new();
        let stats = pack_dir(dir.path(), &mut archive).unwrap();
        assert_eq!(stats.files, 4);
        assert_eq!(
            stats.bytes,
            files.iter().map(|(_, d)| d.len() as u64).sum::<u64>()
        );
        assert_eq!(unpack(&archive), files);
        // Deterministic order: packing again gives the same entries in the same order.
        let mut again = Vec::new();
        pack_dir(dir.path(), &mut again).unwrap();
        assert_eq!(unpack(&again), files);

        let empty = tempfile::tempdir().unwrap();
        assert!(pack_dir(empty.path(), Vec::new())
            .unwrap_err()
            .to_string()
            .contains("holds no files"));
    }

    #[cfg(unix)]
    #[test]
    fn tar_packing_refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path());
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
        let err = pack_dir(dir.path(), Vec::new()).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err:#}");
    }

    fn committee(n: usize) -> (Vec<MemberIdentity>, Committee) {
        let members: Vec<_> = (0..n)
            .map(|_| MemberIdentity::generate(&mut OsRng))
            .collect();
        let c = Committee::new(2, members.iter().map(MemberIdentity::recipient).collect()).unwrap();
        (members, c)
    }

    #[test]
    fn technical_folder_streams_through_the_sealer() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_tree(dir.path());
        files.sort();
        let (_, c) = committee(3);
        let own = MemberIdentity::generate(&mut OsRng);
        let ctx = ShareContext {
            tender: TENDER.into(),
            bidder: "org".into(),
            kind: EnvelopeKind::Technical,
        };
        let mut sealed = Vec::new();
        let (digest, stats) =
            seal_technical(dir.path(), &c, &ctx, Some(&own.recipient()), &mut sealed).unwrap();
        assert_eq!(digest.size, sealed.len() as u64);
        assert_eq!(stats.files, 4);
        let mut plain = Vec::new();
        open_own(&own, sealed.as_slice(), &mut plain).unwrap();
        assert_eq!(unpack(&plain), files);

        // A packing failure fails the seal instead of sealing a truncated archive.
        let missing = dir.path().join("nope");
        assert!(seal_technical(&missing, &c, &ctx, None, Vec::new()).is_err());
    }

    #[test]
    fn pipe_passes_data_and_errors() {
        let (tx, rx) = mpsc::sync_channel(2);
        let gone = Arc::new(AtomicBool::new(false));
        let mut w = PipeWriter {
            tx: tx.clone(),
            buf: Vec::new(),
            reader_gone: gone.clone(),
        };
        let t = std::thread::spawn(move || {
            let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            w.write_all(&data).unwrap();
            w.flush().unwrap();
            drop(w);
            tx.send(Err(io::Error::other("boom"))).unwrap();
        });
        let mut r = PipeReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        };
        let mut got = vec![0u8; 300_000];
        r.read_exact(&mut got).unwrap();
        assert!(got.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
        assert_eq!(r.read(&mut [0u8; 10]).unwrap_err().to_string(), "boom");
        t.join().unwrap();
        assert!(!gone.load(Ordering::SeqCst));
    }

    #[test]
    fn reveal_is_derived_and_saved_private() {
        let (members, c) = committee(3);
        let org = "0190b7e2-0000-7000-8000-000000000001";
        let ctx = ShareContext {
            tender: TENDER.into(),
            bidder: org.into(),
            kind: EnvelopeKind::Price,
        };
        let mut sealed = Vec::new();
        let d = seal_envelope(&c, &ctx, None, &mut OsRng, &b"{}"[..], &mut sealed).unwrap();
        let header = read_header(sealed.as_slice()).unwrap();
        let to_open = vec![
            EnvelopeToOpen {
                source: "bid".into(),
                tender: TENDER.into(),
                bidder: org.into(),
                kind: "price".into(),
                sha256: d.sha256_hex(),
                header: base64::engine::general_purpose::STANDARD.encode(header.raw_header()),
            },
            EnvelopeToOpen {
                source: "bid".into(),
                tender: TENDER.into(),
                bidder: "someone-else".into(),
                kind: "price".into(),
                sha256: "ab".repeat(32),
                header: base64::engine::general_purpose::STANDARD.encode(header.raw_header()),
            },
        ];
        let (keys, skipped) = derive_keys(&members[1], 2, TENDER, &to_open);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].envelope_sha256, d.sha256_hex());
        assert_eq!(keys[0].key.index, 2);
        assert_eq!(skipped.len(), 1);
        // The wrong seat opens nothing.
        let (keys_wrong, _) = derive_keys(&members[1], 1, TENDER, &to_open);
        assert!(keys_wrong.is_empty());

        let reveal = Reveal {
            tender: TENDER.into(),
            seat: 2,
            keys,
            nonce: random_hex(32),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = reveal_path(dir.path(), TENDER);
        save_reveal(&path, &reveal).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Never overwritten: a second reveal would not match the first commitment.
        assert!(save_reveal(&path, &reveal).is_err());
        let back = load_reveal(&path, TENDER).unwrap();
        assert_eq!(back.commitment().unwrap(), reveal.commitment().unwrap());
        assert_eq!(serde_json::to_vec(&back).unwrap(), fs::read(&path).unwrap());
        assert!(load_reveal(&path, "0190b7e2-4c7a-7c4e-9a3b-000000000000").is_err());
    }

    #[test]
    fn seat_is_found_by_key() {
        let (members, _) = committee(3);
        let view = CommitteeView {
            seats: members
                .iter()
                .enumerate()
                .map(|(i, m)| SeatView {
                    index: u8::try_from(i + 1).unwrap(),
                    name: format!("m{i}"),
                    recipient: Some(m.recipient().to_string()),
                })
                .collect(),
            policy: None,
            policy_hash: None,
            log_key: String::new(),
        };
        assert_eq!(find_seat(&view, &members[2], None).unwrap(), 3);
        assert_eq!(find_seat(&view, &members[2], Some(3)).unwrap(), 3);
        assert!(find_seat(&view, &members[2], Some(1)).is_err());
        let stranger = MemberIdentity::generate(&mut OsRng);
        assert!(find_seat(&view, &stranger, None).is_err());
    }

    #[test]
    fn keys_are_written_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("member.age");
        keygen(KeygenArgs {
            out: path.clone(),
            signing: false,
        })
        .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# created: "));
        assert!(text.contains("# public key: age1"));
        let id = parse_identity_file(&text).unwrap();
        assert!(text.contains(&id.recipient().to_string()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(keygen(KeygenArgs {
            out: path.clone(),
            signing: true,
        })
        .is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), text);

        let spath = dir.path().join("bidder.key");
        keygen(KeygenArgs {
            out: spath.clone(),
            signing: true,
        })
        .unwrap();
        let key = read_signing_key(&spath).unwrap();
        assert!(fs::read_to_string(&spath)
            .unwrap()
            .contains(&key.verifying_key().to_string()));
    }

    /// A one-entry log holding `entry`, with its receipt and the log's key.
    fn one_entry_receipt(entry: &LogEntryBody, at: DateTime<Utc>) -> (Receipt, NoteVerifier) {
        let signer = NoteSigner::from_seed("test.sealbid/log", [5; 32]).unwrap();
        let leaf = String::from_utf8(entry.to_leaf().unwrap()).unwrap();
        let cp = Checkpoint::with_time("test.sealbid/log", 1, leaf_hash(leaf.as_bytes()), at);
        let signed = SignedCheckpoint::sign(cp, &signer).unwrap();
        (Receipt::new(leaf, 0, &[], signed.note), signer.verifier())
    }

    fn manifest(key: &SigningKey, reference: &str) -> SignedManifest {
        let m = Manifest {
            version: 1,
            tender: TENDER.into(),
            bidder: "0190b7e2-0000-7000-8000-000000000001".into(),
            policy_hash: "0f".repeat(32),
            deposit_reference: reference.into(),
            envelopes: vec![EnvelopeEntry {
                kind: EnvelopeKind::Price,
                sha256: "ab".repeat(32),
                size: 300,
            }],
            sealed_at: Utc::now(),
        };
        Signed::sign(m, key).unwrap()
    }

    #[test]
    fn receipts_are_checked() {
        let key = SigningKey::generate(&mut OsRng);
        let ours = manifest(&key, "1111");
        let at = parse_time("2025-03-10T01:00:00Z", "t").unwrap();
        let (receipt, vkey) = one_entry_receipt(
            &LogEntryBody::Bid {
                manifest: ours.clone(),
            },
            at,
        );
        let bytes = serde_json::to_vec(&receipt).unwrap();
        check_receipt(&bytes, &vkey, None, Some(&ours)).unwrap();
        // The server's whole answer is accepted too.
        let answer =
            serde_json::to_vec(&serde_json::json!({"bid": {}, "receipt": receipt})).unwrap();
        check_receipt(&answer, &vkey, None, None).unwrap();
        // Deadline.
        check_receipt(&bytes, &vkey, Some(at), None).unwrap();
        let early = at - chrono::Duration::seconds(1);
        assert!(check_receipt(&bytes, &vkey, Some(early), None).is_err());
        // Another manifest.
        let other = manifest(&key, "2222");
        let reason = check_receipt(&bytes, &vkey, None, Some(&other)).unwrap_err();
        assert!(reason.contains("another manifest"), "{reason}");
        // Another log key.
        let stranger = NoteSigner::from_seed("test.sealbid/log", [6; 32])
            .unwrap()
            .verifier();
        assert!(check_receipt(&bytes, &stranger, None, None).is_err());
        // Tampered entry.
        let mut bad = receipt.clone();
        bad.entry = bad.entry.replace("1111", "1112");
        let bad = serde_json::to_vec(&bad).unwrap();
        assert!(check_receipt(&bad, &vkey, None, None).is_err());
        assert!(check_receipt(b"not json", &vkey, None, None).is_err());
    }

    #[test]
    fn bank_body_is_signed() {
        let secret = [9u8; 32];
        let cb = BankCallback {
            transaction_id: "T1",
            reference: "1234567890123456",
            amount: "50000.00",
            payer_name: "某某建设有限公司",
            account_number: "6222 0000 1111",
            bank: "ICBC",
            paid_at: parse_time("2025-03-01T08:00:00Z", "t").unwrap(),
        };
        let (body, mac) = signed_bank_body(&secret, &cb).unwrap();
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(
            text.starts_with("{\"transaction_id\":\"T1\",\"reference\":"),
            "{text}"
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
        ring::hmac::verify(&key, &body, &hex::decode(mac).unwrap()).unwrap();
    }

    #[test]
    fn policy_files_are_accepted_in_both_shapes() {
        use sealbid_seal::policy::PolicyMember;
        let (members, _) = committee(3);
        let signer = SigningKey::from_seed([5; 32]);
        let p = SealingPolicy {
            version: 1,
            tender: TENDER.into(),
            deadline: parse_time("2025-03-10T01:30:00Z", "t").unwrap(),
            opening_time: parse_time("2025-03-10T01:30:00Z", "t").unwrap(),
            threshold: 2,
            members: members
                .iter()
                .enumerate()
                .map(|(i, m)| PolicyMember {
                    name: format!("m{i}"),
                    role: "notary".into(),
                    recipient: m.recipient(),
                    platform: false,
                })
                .collect(),
        };
        let signed = Signed::sign(p, &signer).unwrap();
        let bare = signed.to_json_bytes().unwrap();
        assert_eq!(parse_policy_json(&bare).unwrap(), signed);
        let wrapped =
            serde_json::to_vec(&serde_json::json!({"policy": signed, "seats": []})).unwrap();
        assert_eq!(parse_policy_json(&wrapped).unwrap(), signed);
        assert!(parse_policy_json(br#"{"policy": null}"#).is_err());

        // The log key of the same seed is the platform key: the signer check passes.
        let vkey = NoteSigner::from_seed("test.sealbid/log", [5; 32])
            .unwrap()
            .verifier();
        check_policy(&signed, TENDER, Some(&vkey)).unwrap();
        check_policy(&signed, TENDER, None).unwrap();
        let other = NoteSigner::from_seed("test.sealbid/log", [6; 32])
            .unwrap()
            .verifier();
        assert!(check_policy(&signed, TENDER, Some(&other)).is_err());
        assert!(check_policy(&signed, "0190b7e2-4c7a-7c4e-9a3b-000000000000", None).is_err());
    }
}
