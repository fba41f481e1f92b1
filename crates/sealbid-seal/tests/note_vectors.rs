//! Published signed-note and checkpoint examples.
//!
//! Vector data (only the data; the tests are our own) comes from:
//! - the Go reference implementation `golang.org/x/mod/sumdb/note`, file `note_test.go`
//!   (github.com/golang/mod, BSD-3-Clause): the PeterNeumann signer and verifier keys, the EnochRoot
//!   verifier key, the example text and both example signatures;
//! - the C2SP specifications (CC-BY-4.0): the example note of c2sp.org/signed-note and the example
//!   checkpoint of c2sp.org/tlog-checkpoint (their keys are not published, so only their syntax is
//!   checked).

use sealbid_seal::checkpoint::{Checkpoint, SignedCheckpoint};
use sealbid_seal::note::{
    open_note, parse_note, sign_note, LogError, NoteSigner, NoteVerifier, MAX_SIGNATURES,
};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/// The example of c2sp.org/signed-note.
const C2SP_NOTE: &str = "Ognuno sta solo sul cuor della terra\n\
trafitto da un raggio di sole:\n\
\n\
ed è subito sera.\n\
\n\
\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

/// The example of c2sp.org/tlog-checkpoint.
const C2SP_CHECKPOINT: &str = "example.com/behind-the-sofa\n\
20852163\n\
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
\n\
\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

fn peter() -> NoteVerifier {
    NoteVerifier::parse(PETER_VKEY).unwrap()
}

fn enoch() -> NoteVerifier {
    NoteVerifier::parse(ENOCH_VKEY).unwrap()
}

#[test]
fn go_keys_parse_and_match() {
    let v = peter();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_hash(), 0xc74f20a3);
    assert_eq!(v.to_string(), PETER_VKEY);
    let s = NoteSigner::parse(PETER_SKEY).unwrap();
    assert_eq!(s.name(), "PeterNeumann");
    assert_eq!(s.key_hash(), 0xc74f20a3);
    assert_eq!(s.verifier(), v, "the seed derives the published public key");
    assert_eq!(s.to_skey_string().as_str(), PETER_SKEY);
    assert_eq!(enoch().key_hash(), 0xaf0cfe78);
    assert_eq!(enoch().to_string(), ENOCH_VKEY);
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(json, format!("\"{PETER_VKEY}\""));
}

/// Every proper substring and every single-byte increment of a key string is refused (as the Go
/// suite's TestNewVerifier / TestNewSigner check).
#[test]
fn mangled_go_keys_are_refused() {
    let b = PETER_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i != 0 || j != b.len() {
                assert!(NoteVerifier::parse(&PETER_VKEY[i..j]).is_err(), "{i}..{j}");
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let m = String::from_utf8(m).unwrap();
        assert!(NoteVerifier::parse(&m).is_err(), "{m}");
    }
    // Wrong key length and unknown algorithm, each with a matching key ID (from the Go suite).
    for k in [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
        assert_eq!(NoteVerifier::parse(k).unwrap_err().code(), "bad_key");
    }

    let b = PETER_SKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i != 0 || j != b.len() {
                assert!(NoteSigner::parse(&PETER_SKEY[i..j]).is_err(), "{i}..{j}");
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] += 1;
        let m = String::from_utf8(m).unwrap();
        assert!(NoteSigner::parse(&m).is_err(), "{m}");
    }
}

#[test]
fn signing_reproduces_the_go_note_byte_for_byte() {
    let s = NoteSigner::parse(PETER_SKEY).unwrap();
    let note = sign_note(TEXT, &[&s]).unwrap();
    assert_eq!(note, format!("{TEXT}\n{PETER_SIG}"));
    assert_eq!(sign_note("abc", &[&s]).unwrap_err().code(), "bad_note");
}

#[test]
fn opening_follows_the_go_suite() {
    let (p, e) = (peter(), enoch());
    let both = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");

    // One verified, one unknown.
    let n = open_note(&both, &[&p]).unwrap();
    assert_eq!(n.text, TEXT);
    assert_eq!(n.verified_by, vec!["PeterNeumann".to_owned()]);
    assert_eq!(n.unverified, 1);

    // Both verified.
    let n = open_note(&both, &[&p, &e]).unwrap();
    assert_eq!(
        n.verified_by,
        vec!["PeterNeumann".to_owned(), "EnochRoot".to_owned()]
    );
    assert_eq!(n.unverified, 0);

    // None known.
    assert_eq!(open_note(&both, &[]).unwrap_err(), LogError::UnknownKey);

    // A verifier listed twice (same key) is not ambiguous here; the Go reference calls it ambiguous.
    let n = open_note(&format!("{TEXT}\n{ENOCH_SIG}"), &[&e, &p, &e]).unwrap();
    assert_eq!(n.verified_by, vec!["EnochRoot".to_owned()]);

    // Too many signatures.
    let many = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert_eq!(open_note(&many, &[&p]).unwrap_err().code(), "bad_note");
    assert_eq!(open_note(&many, &[]).unwrap_err().code(), "bad_note");

    // A damaged signature from a known key.
    let damaged = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    assert_eq!(
        open_note(&damaged, &[&p]).unwrap_err(),
        LogError::BadSignature("PeterNeumann+c74f20a3".into())
    );

    // Repeated verified and unverified signatures are counted once each.
    let enoch_damaged = format!("{}ABCD{}", &ENOCH_SIG[..60], &ENOCH_SIG[60..]);
    let repeated = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{enoch_damaged}");
    let n = open_note(&repeated, &[&p]).unwrap();
    assert_eq!(n.verified_by, vec!["PeterNeumann".to_owned()]);
    assert_eq!(n.unverified, 2);

    // A changed text.
    let changed = format!(
        "{}\n{PETER_SIG}",
        TEXT.replace("cryptography", "cryptographY")
    );
    assert_eq!(
        open_note(&changed, &[&p]).unwrap_err().code(),
        "bad_signature"
    );

    // The same signature under another name, or another key ID, is from an unknown key.
    let renamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego");
    assert_eq!(
        open_note(&format!("{TEXT}\n{renamed}"), &[&p]).unwrap_err(),
        LogError::UnknownKey
    );
    let rehashed = PETER_SIG.replace("x08g", "xxxx");
    assert_eq!(
        open_note(&format!("{TEXT}\n{rehashed}"), &[&p]).unwrap_err(),
        LogError::UnknownKey
    );
}

#[test]
fn malformed_messages_from_the_go_suite() {
    let p = peter();
    let bad = [
        TEXT.to_owned(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{TEXT}\n{PETER_SIG}"),
        format!("{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
    ];
    for msg in &bad {
        assert_eq!(
            open_note(msg, &[&p]).unwrap_err().code(),
            "bad_note",
            "{msg:?}"
        );
    }
}

#[test]
fn c2sp_signed_note_example_parses() {
    let parsed = parse_note(C2SP_NOTE).unwrap();
    assert_eq!(
        parsed.text,
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    );
    assert_eq!(parsed.signatures.len(), 1);
    assert_eq!(parsed.signatures[0].name, "quasimodo.example/salvatore");
    assert_eq!(parsed.signatures[0].signature.len(), 64);
    // Its key is not published: with our keys it is an unknown-key note.
    assert_eq!(
        open_note(C2SP_NOTE, &[&peter()]).unwrap_err(),
        LogError::UnknownKey
    );
}

#[test]
fn c2sp_checkpoint_example_parses() {
    let parsed = parse_note(C2SP_CHECKPOINT).unwrap();
    let cp = Checkpoint::parse(&parsed.text).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert_eq!(
        hex::encode(cp.root),
        "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62"
    );
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.time(), None);
    assert_eq!(cp.to_text(), parsed.text);

    let signed = SignedCheckpoint::parse_unverified(C2SP_CHECKPOINT).unwrap();
    assert_eq!(signed.checkpoint, cp);
    let json = serde_json::to_string(&signed).unwrap();
    assert_eq!(
        serde_json::from_str::<SignedCheckpoint>(&json).unwrap(),
        signed
    );

    // Without the log's key it cannot be verified: a key of the right name but another ID is unknown.
    let impostor = NoteSigner::from_seed("example.com/behind-the-sofa", [7; 32]).unwrap();
    assert_eq!(
        SignedCheckpoint::verify(C2SP_CHECKPOINT, &impostor.verifier())
            .unwrap_err()
            .code(),
        "unknown_key"
    );
    // Re-signing the same body with our own key of that name verifies.
    let ours = SignedCheckpoint::sign(cp.clone(), &impostor).unwrap();
    assert_eq!(
        SignedCheckpoint::verify(&ours.note, &impostor.verifier())
            .unwrap()
            .checkpoint,
        cp
    );
}
