//! Keys: committee members' age X25519 identities and recipients, and Ed25519 signing keys.
//!
//! Text formats:
//! - [`MemberIdentity`]: the standard age secret key, `AGE-SECRET-KEY-1…` (Bech32, upper case), so the
//!   `age` command-line tool can use a member's key file directly.
//! - [`MemberRecipient`]: the standard age public key, `age1…` (Bech32).
//! - [`SigningKey`]: `SEALBID-SIGNING-KEY-1…`, the 32-byte Ed25519 seed in upper-case Bech32 with HRP
//!   `sealbid-signing-key-` (the same shape as an age secret key, with a checksum that catches typos).
//! - [`VerifyingKey`]: standard base64 (with padding) of the 32-byte Ed25519 public key.
//! - [`Signature`]: standard base64 (with padding) of the 64-byte Ed25519 signature.
//!
//! Randomness is always passed in; nothing here reads the OS RNG or the clock.

use std::fmt;
use std::str::FromStr;

use base64::prelude::{Engine, BASE64_STANDARD};
use bech32::{FromBase32, Variant};
use rand_core::{CryptoRng, RngCore};
use ring::signature::{self as ring_sig, KeyPair};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Result, SealError};

/// Bech32 HRP of age secret keys (encoded upper case).
const AGE_SECRET_HRP: &str = "age-secret-key-";
/// Bech32 HRP of age public keys.
const AGE_PUBLIC_HRP: &str = "age";
/// Bech32 HRP of Sealbid signing keys (encoded upper case).
const SIGNING_SECRET_HRP: &str = "sealbid-signing-key-";

/// A committee member's age X25519 identity (secret key). Zeroized on drop; `Debug` prints only the
/// public key.
#[derive(Clone)]
pub struct MemberIdentity(StaticSecret);

impl MemberIdentity {
    /// Generates a new identity from the given RNG.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        Self(StaticSecret::random_from_rng(&mut *rng))
    }

    /// The standard age secret key text, `AGE-SECRET-KEY-1…`.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let bytes = Zeroizing::new(self.0.to_bytes());
        let lower = Zeroizing::new(bech32_encode(AGE_SECRET_HRP, bytes.as_slice()));
        Zeroizing::new(lower.to_uppercase())
    }

    /// The member's public key.
    pub fn recipient(&self) -> MemberRecipient {
        MemberRecipient(PublicKey::from(&self.0).to_bytes())
    }

    /// The same key as an `age` crate identity (for decrypting with the age API directly).
    pub fn to_age(&self) -> Result<age::x25519::Identity> {
        age::x25519::Identity::from_str(self.to_secret_string().as_str())
            .map_err(|e| SealError::BadKey(format!("age rejected the identity: {e}")))
    }

    /// X25519 Diffie–Hellman with a peer public key; `None` if the result is all-zero (a low-order
    /// peer point).
    pub(crate) fn diffie_hellman(&self, peer: &[u8; 32]) -> Option<Zeroizing<[u8; 32]>> {
        let shared = self.0.diffie_hellman(&PublicKey::from(*peer));
        if shared.was_contributory() {
            Some(Zeroizing::new(shared.to_bytes()))
        } else {
            None
        }
    }
}

impl FromStr for MemberIdentity {
    type Err = SealError;

    /// Parses an `AGE-SECRET-KEY-1…` string (surrounding whitespace is ignored).
    fn from_str(s: &str) -> Result<Self> {
        let mut bytes = bech32_decode(
            s.trim(),
            AGE_SECRET_HRP,
            "age secret key (AGE-SECRET-KEY-1…)",
        )?;
        let array: Result<[u8; 32]> = bytes.as_slice().try_into().map_err(|_| {
            SealError::BadKey(format!(
                "an age secret key holds 32 bytes, this one holds {}; use the key printed by \
                 `sealbid keygen` or `age-keygen`",
                bytes.len()
            ))
        });
        bytes.zeroize();
        let mut array = array?;
        let secret = StaticSecret::from(array);
        array.zeroize();
        Ok(Self(secret))
    }
}

impl fmt::Debug for MemberIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemberIdentity")
            .field("recipient", &self.recipient())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Parses an age identity file: `#` comment lines and blank lines are skipped, and exactly one
/// `AGE-SECRET-KEY-1…` line must remain (a committee member uses one key per tender).
pub fn parse_identity_file(text: &str) -> Result<MemberIdentity> {
    let key = single_key_line(text, "age identity (AGE-SECRET-KEY-1…)")?;
    key.parse()
}

/// Parses a signing key file: `#` comment lines and blank lines are skipped, and exactly one
/// `SEALBID-SIGNING-KEY-1…` line must remain.
pub fn parse_signing_key_file(text: &str) -> Result<SigningKey> {
    let key = single_key_line(text, "signing key (SEALBID-SIGNING-KEY-1…)")?;
    key.parse()
}

fn single_key_line<'a>(text: &'a str, what: &str) -> Result<&'a str> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    match (lines.next(), lines.next()) {
        (Some(line), None) => Ok(line),
        (None, _) => Err(SealError::BadKey(format!(
            "the key file holds no {what}; only comments were found — check that you chose the \
             right file"
        ))),
        (Some(_), Some(_)) => Err(SealError::BadKey(format!(
            "the key file holds more than one non-comment line; it must hold exactly one {what}"
        ))),
    }
}

/// A committee member's age X25519 public key (`age1…`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberRecipient([u8; 32]);

impl MemberRecipient {
    /// The raw 32-byte X25519 public key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Builds a recipient from raw bytes, rejecting low-order points (which would make every
    /// shared secret zero and the wrapping worthless).
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self> {
        // Every clamped scalar is a multiple of the cofactor, so a low-order point gives an all-zero
        // shared secret whatever the scalar: one Diffie–Hellman with a fixed scalar detects it.
        let probe = StaticSecret::from([1u8; 32]);
        if !probe
            .diffie_hellman(&PublicKey::from(bytes))
            .was_contributory()
        {
            return Err(SealError::BadKey(
                "the age public key is a low-order point and cannot be encrypted to; ask the \
                 member for the key printed by `sealbid keygen` or `age-keygen`"
                    .into(),
            ));
        }
        Ok(Self(bytes))
    }

    /// The same key as an `age` crate recipient.
    pub fn to_age(&self) -> Result<age::x25519::Recipient> {
        age::x25519::Recipient::from_str(&self.to_string())
            .map_err(|e| SealError::BadKey(format!("age rejected the recipient {self}: {e}")))
    }
}

impl FromStr for MemberRecipient {
    type Err = SealError;

    /// Parses an `age1…` public key (surrounding whitespace is ignored).
    fn from_str(s: &str) -> Result<Self> {
        let bytes = bech32_decode(s.trim(), AGE_PUBLIC_HRP, "age public key (age1…)")?;
        let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            SealError::BadKey(format!(
                "an age public key holds 32 bytes, `{}` holds {}; copy the whole age1… line",
                s.trim(),
                bytes.len()
            ))
        })?;
        Self::from_bytes(array)
    }
}

impl fmt::Display for MemberRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bech32_encode(AGE_PUBLIC_HRP, &self.0))
    }
}

impl fmt::Debug for MemberRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberRecipient({self})")
    }
}

impl Serialize for MemberRecipient {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MemberRecipient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signing key (a bidder's, a member's or the platform's). Holds the 32-byte seed,
/// zeroized on drop; `Debug` prints only the public key.
///
/// Signing uses `ring`, whose key pair object is rebuilt from the seed for each signature (ring does
/// not zeroize its own copy; it lives only for the duration of the call).
#[derive(Clone)]
pub struct SigningKey {
    seed: Zeroizing<[u8; 32]>,
    public: VerifyingKey,
}

impl SigningKey {
    /// A signing key from its 32-byte seed (RFC 8032 private key).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let seed = Zeroizing::new(seed);
        let public = match ring_sig::Ed25519KeyPair::from_seed_unchecked(seed.as_slice()) {
            Ok(pair) => {
                let mut pk = [0u8; 32];
                pk.copy_from_slice(pair.public_key().as_ref());
                VerifyingKey(pk)
            }
            // ring accepts every 32-byte seed; an all-zero key (which verifies nothing) is the
            // harmless fallback should that ever change.
            Err(_) => VerifyingKey([0u8; 32]),
        };
        Self { seed, public }
    }

    /// Generates a new signing key from the given RNG.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let key = Self::from_seed(seed);
        seed.zeroize();
        key
    }

    /// The key as text, `SEALBID-SIGNING-KEY-1…` (see the module documentation).
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let lower = Zeroizing::new(bech32_encode(SIGNING_SECRET_HRP, self.seed.as_slice()));
        Zeroizing::new(lower.to_uppercase())
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.public
    }

    /// Signs `msg` (pure Ed25519, RFC 8032).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        match ring_sig::Ed25519KeyPair::from_seed_unchecked(self.seed.as_slice()) {
            Ok(pair) => {
                let mut sig = [0u8; 64];
                sig.copy_from_slice(pair.sign(msg).as_ref());
                Signature(sig)
            }
            // Unreachable with ring 0.17 (every seed is accepted); an all-zero signature never
            // verifies, so the failure surfaces at the verifier.
            Err(_) => Signature([0u8; 64]),
        }
    }
}

impl FromStr for SigningKey {
    type Err = SealError;

    /// Parses a `SEALBID-SIGNING-KEY-1…` string (surrounding whitespace is ignored).
    fn from_str(s: &str) -> Result<Self> {
        let mut bytes = bech32_decode(
            s.trim(),
            SIGNING_SECRET_HRP,
            "Sealbid signing key (SEALBID-SIGNING-KEY-1…)",
        )?;
        let array: Result<[u8; 32]> = bytes.as_slice().try_into().map_err(|_| {
            SealError::BadKey(format!(
                "a signing key holds 32 bytes, this one holds {}; use the key printed by \
                 `sealbid keygen`",
                bytes.len()
            ))
        });
        bytes.zeroize();
        let mut array = array?;
        let key = Self::from_seed(array);
        array.zeroize();
        Ok(key)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("verifying_key", &self.public)
            .field("seed", &"<redacted>")
            .finish()
    }
}

/// An Ed25519 public key. Text form: standard base64 of the 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VerifyingKey([u8; 32]);

impl VerifyingKey {
    /// From the raw 32 bytes (validity is checked when verifying).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Verifies an Ed25519 signature on `msg`.
    pub fn verify(&self, msg: &[u8], signature: &Signature) -> Result<()> {
        ring_sig::UnparsedPublicKey::new(&ring_sig::ED25519, &self.0)
            .verify(msg, &signature.0)
            .map_err(|_| {
                SealError::BadSignature(format!(
                    "the signature does not verify under key {self}: the document was changed after \
                     signing or was signed with a different key; obtain the original signed document"
                ))
            })
    }
}

impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64_STANDARD.encode(self.0))
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({self})")
    }
}

impl FromStr for VerifyingKey {
    type Err = SealError;

    fn from_str(s: &str) -> Result<Self> {
        let bytes = decode_base64_exact::<32>(s.trim()).ok_or_else(|| {
            SealError::BadKey(format!(
                "`{}` is not a verifying key: expected standard base64 of 32 bytes (44 characters \
                 ending in `=`)",
                s.trim()
            ))
        })?;
        Ok(Self(bytes))
    }
}

impl Serialize for VerifyingKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VerifyingKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature. Text form: standard base64 of the 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature([u8; 64]);

impl Signature {
    /// From the raw 64 bytes.
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The raw 64 bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE64_STANDARD.encode(self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl FromStr for Signature {
    type Err = SealError;

    fn from_str(s: &str) -> Result<Self> {
        let bytes = decode_base64_exact::<64>(s.trim()).ok_or_else(|| {
            SealError::BadSignature(
                "the signature is not standard base64 of 64 bytes (88 characters ending in `==`); \
                 copy it again from the signed document"
                    .into(),
            )
        })?;
        Ok(Self(bytes))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn decode_base64_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = BASE64_STANDARD.decode(s).ok()?;
    bytes.as_slice().try_into().ok()
}

// --- Bech32 ---------------------------------------------------------------------------------------
//
// Decoding uses the `bech32` crate. Encoding is done here (BIP 173, ~30 lines) because the crate's
// encoder is fallible (it validates the HRP at run time) and these HRPs are constants: doing it here
// keeps `Display` and `to_secret_string` infallible without an `unwrap`. Tests check the output
// against age's own test vectors and parser.

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl IntoIterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let b = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// Encodes `data` with a lower-case ASCII `hrp` (Bech32, not Bech32m), in lower case.
fn bech32_encode(hrp: &str, data: &[u8]) -> String {
    // 8-bit to 5-bit groups, zero-padded.
    let mut groups = Vec::with_capacity(data.len() * 8 / 5 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &byte in data {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            groups.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        groups.push(((acc << (5 - bits)) & 31) as u8);
    }
    let hrp_bytes = hrp.as_bytes();
    let expanded = hrp_bytes
        .iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp_bytes.iter().map(|c| c & 31));
    let checksum = bech32_polymod(expanded.chain(groups.iter().copied()).chain([0u8; 6])) ^ 1;
    let mut out = String::with_capacity(hrp.len() + 1 + groups.len() + 6);
    out.push_str(hrp);
    out.push('1');
    let checksum_groups = (0..6).map(|i| ((checksum >> (5 * (5 - i))) & 31) as u8);
    for g in groups.iter().copied().chain(checksum_groups) {
        out.push(char::from(BECH32_CHARSET[usize::from(g)]));
    }
    groups.zeroize();
    out
}

/// Decodes a Bech32 string whose HRP must be `hrp`.
fn bech32_decode(s: &str, hrp: &str, what: &str) -> Result<Vec<u8>> {
    let (found_hrp, data, variant) = bech32::decode(s).map_err(|e| {
        SealError::BadKey(format!(
            "not a valid {what}: {e}; copy the whole key again (a typo breaks its checksum)"
        ))
    })?;
    if found_hrp != hrp || variant != Variant::Bech32 {
        return Err(SealError::BadKey(format!(
            "expected an {what}, found a key of another kind (prefix `{found_hrp}1`); check that \
             you used the right key"
        )));
    }
    Vec::<u8>::from_base32(&data).map_err(|e| {
        SealError::BadKey(format!("not a valid {what}: {e}; copy the whole key again"))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    // age's own test vector (age/src/x25519.rs).
    const TEST_SK: &str =
        "AGE-SECRET-KEY-1GQ9778VQXMMJVE8SK7J6VT8UJ4HDQAJUVSFCWCM02D8GEWQ72PVQ2Y5J33";
    const TEST_PK: &str = "age1t7rxyev2z3rw82stdlrrepyc39nvn86l5078zqkf5uasdy86jp6svpy7pa";

    #[test]
    fn age_test_vector_round_trips() {
        let id: MemberIdentity = TEST_SK.parse().unwrap();
        assert_eq!(id.to_secret_string().as_str(), TEST_SK);
        assert_eq!(id.recipient().to_string(), TEST_PK);
        let r: MemberRecipient = TEST_PK.parse().unwrap();
        assert_eq!(r, id.recipient());
        assert_eq!(r.to_age().unwrap().to_string(), TEST_PK);
    }

    #[test]
    fn generated_identities_parse_back_and_age_accepts_them() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..20 {
            let id = MemberIdentity::generate(&mut rng);
            let text = id.to_secret_string();
            assert!(text.starts_with("AGE-SECRET-KEY-1"));
            let back: MemberIdentity = text.parse().unwrap();
            assert_eq!(back.recipient(), id.recipient());
            let age_id = age::x25519::Identity::from_str(text.as_str()).unwrap();
            assert_eq!(age_id.to_public().to_string(), id.recipient().to_string());
            let r: MemberRecipient = id.recipient().to_string().parse().unwrap();
            assert_eq!(r, id.recipient());
        }
    }

    #[test]
    fn identity_file_with_comments() {
        let mut rng = StdRng::seed_from_u64(2);
        let id = MemberIdentity::generate(&mut rng);
        let file = format!(
            "# created: 2025-01-01T00:00:00Z\n# public key: {}\n{}\n\n",
            id.recipient(),
            id.to_secret_string().as_str()
        );
        assert_eq!(
            parse_identity_file(&file).unwrap().recipient(),
            id.recipient()
        );
        assert_eq!(
            parse_identity_file("# nothing\n").unwrap_err().code(),
            "bad_key"
        );
        let two = format!("{0}\n{0}\n", id.to_secret_string().as_str());
        assert_eq!(parse_identity_file(&two).unwrap_err().code(), "bad_key");
    }

    #[test]
    fn bad_keys_are_rejected() {
        // Checksum typo.
        let mut typo = TEST_SK.to_string();
        typo.replace_range(20..21, "Q");
        assert_ne!(typo, TEST_SK);
        assert_eq!(
            typo.parse::<MemberIdentity>().unwrap_err().code(),
            "bad_key"
        );
        // A public key where a secret key is expected and vice versa.
        assert_eq!(
            TEST_PK.parse::<MemberIdentity>().unwrap_err().code(),
            "bad_key"
        );
        assert_eq!(
            TEST_SK.parse::<MemberRecipient>().unwrap_err().code(),
            "bad_key"
        );
        // Low-order point (all zero).
        let zero = bech32_encode(AGE_PUBLIC_HRP, &[0u8; 32]);
        let err = zero.parse::<MemberRecipient>().unwrap_err();
        assert_eq!(err.code(), "bad_key");
        assert!(err.to_string().contains("low-order"));
        // A signing key is not an age identity.
        let sk = SigningKey::from_seed([7; 32]);
        assert_eq!(
            sk.to_secret_string()
                .parse::<MemberIdentity>()
                .unwrap_err()
                .code(),
            "bad_key"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut rng = StdRng::seed_from_u64(3);
        let id = MemberIdentity::generate(&mut rng);
        let dbg = format!("{id:?}");
        assert!(dbg.contains("redacted"));
        let secret = id.to_secret_string();
        assert!(!dbg.contains(&secret[16..]));
        let sk = SigningKey::generate(&mut rng);
        let dbg = format!("{sk:?}");
        let secret = sk.to_secret_string();
        assert!(dbg.contains("redacted"));
        assert!(!dbg.contains(&secret[21..]));
    }

    #[test]
    fn signing_keys_round_trip_and_sign() {
        let mut rng = StdRng::seed_from_u64(4);
        let sk = SigningKey::generate(&mut rng);
        let text = sk.to_secret_string();
        assert!(
            text.starts_with("SEALBID-SIGNING-KEY-1"),
            "{}",
            text.as_str()
        );
        let back: SigningKey = text.parse().unwrap();
        assert_eq!(back.verifying_key(), sk.verifying_key());
        let file = format!("# bidder key\n{}\n", text.as_str());
        assert_eq!(
            parse_signing_key_file(&file).unwrap().verifying_key(),
            sk.verifying_key()
        );

        let sig = sk.sign(b"hello");
        sk.verifying_key().verify(b"hello", &sig).unwrap();
        assert_eq!(
            sk.verifying_key()
                .verify(b"hellO", &sig)
                .unwrap_err()
                .code(),
            "bad_signature"
        );
        let other = SigningKey::generate(&mut rng);
        assert_eq!(
            other
                .verifying_key()
                .verify(b"hello", &sig)
                .unwrap_err()
                .code(),
            "bad_signature"
        );

        // Text forms round-trip.
        let vk: VerifyingKey = sk.verifying_key().to_string().parse().unwrap();
        assert_eq!(vk, sk.verifying_key());
        assert_eq!(vk.to_string().len(), 44);
        let sig2: Signature = sig.to_string().parse().unwrap();
        assert_eq!(sig2, sig);
        assert_eq!(sig.to_string().len(), 88);
        assert_eq!(
            serde_json::from_str::<VerifyingKey>(&serde_json::to_string(&vk).unwrap()).unwrap(),
            vk
        );
        assert_eq!(
            "AAAA".parse::<VerifyingKey>().unwrap_err().code(),
            "bad_key"
        );
        assert_eq!(
            "AAAA".parse::<Signature>().unwrap_err().code(),
            "bad_signature"
        );
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1, TEST 1 (empty message).
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let sk = SigningKey::from_seed(seed);
        assert_eq!(
            hex::encode(sk.verifying_key().as_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex::encode(sk.sign(b"").as_bytes()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn recipient_serde_is_the_age_string() {
        let r: MemberRecipient = TEST_PK.parse().unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, format!("\"{TEST_PK}\""));
        assert_eq!(serde_json::from_str::<MemberRecipient>(&json).unwrap(), r);
        assert!(serde_json::from_str::<MemberRecipient>("\"age1xyz\"").is_err());
    }
}
