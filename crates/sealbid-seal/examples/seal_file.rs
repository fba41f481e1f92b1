//! Seals a file to a 3-of-5 committee and opens it again, for timing against the `age` CLI on
//! the same file (docs/performance.md, `benches/seal/run.sh`).
//!
//! ```sh
//! seal_file keygen DIR            # five member identities in DIR (member1.key … member5.key)
//! seal_file seal DIR IN OUT       # seal IN to the 3-of-5 committee of DIR's keys
//! seal_file open DIR IN OUT       # members 1, 3 and 5 derive their share keys from the header,
//!                                 # the file key is recovered and the payload decrypted to OUT
//! ```
//!
//! Both directions stream in constant memory, as the CLI and the server do.
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use sealbid_seal::envelope::{open_envelope, seal_envelope};
use sealbid_seal::keys::{parse_identity_file, MemberIdentity};
use sealbid_seal::threshold::{
    member_share_key, read_header, recover_file_key, Committee, EnvelopeKind, ShareContext,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const MEMBERS: usize = 5;
const THRESHOLD: u8 = 3;

fn context() -> ShareContext {
    ShareContext {
        tender: "0190f3c2-bench-tender".into(),
        bidder: "0190f3c2-bench-bidder".into(),
        kind: EnvelopeKind::Technical,
    }
}

fn identities(dir: &Path) -> Res<Vec<MemberIdentity>> {
    (1..=MEMBERS)
        .map(|i| {
            let text = std::fs::read_to_string(dir.join(format!("member{i}.key")))?;
            Ok(parse_identity_file(&text)?)
        })
        .collect()
}

fn keygen(dir: &Path) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    for i in 1..=MEMBERS {
        let id = MemberIdentity::generate(&mut rand_core::OsRng);
        std::fs::write(
            dir.join(format!("member{i}.key")),
            format!("{}\n", id.to_secret_string().as_str()),
        )?;
    }
    Ok(())
}

fn seal(dir: &Path, input: &Path, output: &Path) -> Res<()> {
    let members = identities(dir)?;
    let committee = Committee::new(
        THRESHOLD,
        members.iter().map(MemberIdentity::recipient).collect(),
    )?;
    let mut out = BufWriter::with_capacity(1 << 16, File::create(output)?);
    seal_envelope(
        &committee,
        &context(),
        None,
        &mut rand_core::OsRng,
        File::open(input)?,
        &mut out,
    )?;
    out.flush()?;
    Ok(())
}

fn open(dir: &Path, input: &Path, output: &Path) -> Res<()> {
    let members = identities(dir)?;
    let ctx = context();
    let header = read_header(BufReader::new(File::open(input)?))?;
    // What three members do on their machines, then what the server does with their reveals.
    let keys = [0, 2, 4]
        .iter()
        .filter_map(|&i| members.get(i))
        .map(|m| member_share_key(m, &header, &ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let file_key = recover_file_key(&header, &keys)?;
    let mut out = BufWriter::with_capacity(1 << 16, File::create(output)?);
    open_envelope(&file_key, File::open(input)?, &mut out)?;
    out.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["keygen", dir] => keygen(Path::new(dir)),
        ["seal", dir, input, output] => seal(Path::new(dir), Path::new(input), Path::new(output)),
        ["open", dir, input, output] => open(Path::new(dir), Path::new(input), Path::new(output)),
        _ => Err("usage: seal_file keygen DIR | seal DIR IN OUT | open DIR IN OUT".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
