//! The verifiable random draw of an evaluation committee from the expert pool (法 37, 条例 46).
//!
//! A committee has at least 5 members, an odd number; at least two thirds are technical or
//! economic experts drawn at random from the pool, the rest (at most one third) may be the
//! tenderee's representatives. Experts with an interest in a bidder withdraw. The draw is a pure
//! function of public inputs, so anyone holding the pool can re-run it ([`Draw::verify`]).
//!
//! # Algorithm `sealbid-draw-v1` (exact bytes)
//!
//! **Seed.** `seed = SHA-256("sealbid-draw-v1\n" || checkpoint || "\n" || nonce_hex)`, where
//! `checkpoint` is the UTF-8 text of the tender's signed closing checkpoint exactly as published
//! (no trimming, no newline added) and `nonce_hex` is the published nonce as lower-case ASCII hex
//! (at least 16 bytes, i.e. 32 hex digits; upper-case input is lower-cased first). The seed is 32
//! bytes.
//!
//! **Random numbers.** A counter `i` starts at 0. The next 64-bit number is the first 8 bytes, read
//! big-endian, of `SHA-256(seed || u64be(i))` (32 + 8 bytes hashed); then `i += 1`. One counter runs
//! through the whole draw, replacements included.
//!
//! **Uniform choice among `m` candidates** (rejection sampling, no modulo bias): take the next
//! 64-bit number `x`; if `x < m · floor(2^64 / m)` the choice is `x mod m`, otherwise discard `x`
//! and take the next one.
//!
//! **Eligibility.** An expert is excluded for a conflict of interest, checked in this order and
//! recorded with the first that applies: `employer_is_bidder` (the employer's credit code is a
//! bidder's), `declared_relationship` (a declared relationship with a bidder's credit code),
//! `same_credit_code` (the expert's own credit code is a bidder's). Of the rest, experts not
//! `available` are counted as unavailable. The remaining experts are *eligible*, sorted by id in
//! ascending byte order; the input order of the pool therefore does not matter.
//!
//! **Committee.** `drawn` starts empty. For each quota in the request's order, for each of its
//! seats: the candidates are the eligible experts (in id order) that have the quota's specialty
//! code ([`super::experts::specialty_code`]) and are not in `drawn`; choose one uniformly (above);
//! it takes the next seat (seats are numbered from 0 in this order) and is added to `drawn`.
//!
//! **Declines.** The declined ids are processed in the given order, after the committee is drawn.
//! Each must be a current member; it leaves its seat (recorded as declined, and stays in `drawn`);
//! the candidates are the eligible experts with the seat's specialty not in `drawn`, the
//! replacement is chosen uniformly, continuing the same counter, and takes the same seat. The
//! members who did not decline are therefore never changed by a decline, and re-running with the
//! same inputs and the same declined list gives the same committee.
//!
//! **Shortfall.** Before drawing, every quota whose specialty has fewer eligible experts than
//! seats is reported at once ([`DrawError::Shortfall`]). If experts with several specialties make
//! a later quota run out during the draw, or a replacement finds no candidate, that quota is
//! reported with the candidates left at that point. Nothing is returned half-drawn.
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::experts::{
    pool_digest, public_pool_digest, specialty_code, validate_pool, Expert, PoolError,
};
use crate::CreditCode;

/// The algorithm's name; also the seed's domain-separation prefix (followed by `\n`).
pub const ALGORITHM: &str = "sealbid-draw-v1";

/// Fewest members of an evaluation committee.
pub const MIN_COMMITTEE_SIZE: u32 = 5;

/// Fewest nonce bytes accepted.
pub const MIN_NONCE_BYTES: usize = 16;

/// Seats to be filled with experts of one specialty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Specialty code (or `code description`); matched on the code.
    pub specialty: String,
    pub count: u32,
}

/// What committee to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawRequest {
    /// All members, representatives included: at least 5, odd.
    pub committee_size: u32,
    /// The tenderee's representatives (not drawn): at most a third of the committee.
    pub tenderee_representatives: u32,
    /// Drawn experts per specialty, filled in this order; the counts add up to
    /// `committee_size − tenderee_representatives`.
    pub quotas: Vec<Quota>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("an evaluation committee has at least {MIN_COMMITTEE_SIZE} members; {size} requested")]
    TooSmall { size: u32 },
    #[error("an evaluation committee has an odd number of members; {size} requested")]
    EvenSize { size: u32 },
    #[error(
        "at most a third of the committee may be the tenderee's representatives: {representatives} \
         of {size} requested, at most {max}"
    )]
    TooManyRepresentatives {
        representatives: u32,
        size: u32,
        max: u32,
    },
    #[error(
        "the quotas add up to {quotas} experts but the committee of {size} with {representatives} \
         representatives needs {needed}"
    )]
    QuotaSum {
        quotas: u64,
        size: u32,
        representatives: u32,
        needed: u32,
    },
    #[error("quota {index} has no specialty")]
    EmptySpecialty { index: usize },
    #[error("the quota for specialty {specialty} asks for 0 experts")]
    ZeroQuota { specialty: String },
    #[error("specialty {specialty} has more than one quota; merge them")]
    DuplicateQuota { specialty: String },
}

impl DrawRequest {
    /// Check the committee rules (法 37): size ≥ 5 and odd, representatives ≤ 1/3 (so drawn
    /// experts ≥ 2/3), quotas non-empty, distinct and adding up to the drawn seats.
    pub fn validate(&self) -> Result<(), RequestError> {
        let size = self.committee_size;
        if size < MIN_COMMITTEE_SIZE {
            return Err(RequestError::TooSmall { size });
        }
        if size.is_multiple_of(2) {
            return Err(RequestError::EvenSize { size });
        }
        let representatives = self.tenderee_representatives;
        if u64::from(representatives) * 3 > u64::from(size) {
            return Err(RequestError::TooManyRepresentatives {
                representatives,
                size,
                max: size / 3,
            });
        }
        let mut seen = HashSet::new();
        for (index, q) in self.quotas.iter().enumerate() {
            let code = specialty_code(&q.specialty);
            if code.is_empty() {
                return Err(RequestError::EmptySpecialty { index });
            }
            if q.count == 0 {
                return Err(RequestError::ZeroQuota {
                    specialty: code.to_owned(),
                });
            }
            if !seen.insert(code) {
                return Err(RequestError::DuplicateQuota {
                    specialty: code.to_owned(),
                });
            }
        }
        let quotas: u64 = self.quotas.iter().map(|q| u64::from(q.count)).sum();
        let needed = size - representatives;
        if quotas != u64::from(needed) {
            return Err(RequestError::QuotaSum {
                quotas,
                size,
                representatives,
                needed,
            });
        }
        Ok(())
    }
}

/// The public inputs of the seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedInputs {
    /// The tender's signed closing checkpoint, as published.
    pub closing_checkpoint: String,
    /// The published nonce, hex.
    pub nonce_hex: String,
}

impl SeedInputs {
    /// The nonce lower-cased, checked to be hex of at least [`MIN_NONCE_BYTES`] bytes.
    pub fn normalised_nonce(&self) -> Result<String, DrawError> {
        let n = self.nonce_hex.trim().to_ascii_lowercase();
        match hex::decode(&n) {
            Ok(bytes) if bytes.len() >= MIN_NONCE_BYTES => Ok(n),
            Ok(bytes) => Err(DrawError::InvalidNonce {
                reason: format!(
                    "{} bytes given, at least {MIN_NONCE_BYTES} needed",
                    bytes.len()
                ),
            }),
            Err(e) => Err(DrawError::InvalidNonce {
                reason: e.to_string(),
            }),
        }
    }

    /// `SHA-256("sealbid-draw-v1\n" || checkpoint || "\n" || nonce_hex)`.
    pub fn seed(&self) -> Result<[u8; 32], DrawError> {
        if self.closing_checkpoint.is_empty() {
            return Err(DrawError::MissingCheckpoint);
        }
        let nonce = self.normalised_nonce()?;
        let mut h = Sha256::new();
        h.update(ALGORITHM.as_bytes());
        h.update(b"\n");
        h.update(self.closing_checkpoint.as_bytes());
        h.update(b"\n");
        h.update(nonce.as_bytes());
        Ok(h.finalize().into())
    }
}

/// The deterministic random stream of the module documentation.
#[derive(Debug, Clone)]
pub struct SeedStream {
    seed: [u8; 32],
    counter: u64,
}

impl SeedStream {
    pub fn new(seed: [u8; 32]) -> Self {
        SeedStream { seed, counter: 0 }
    }

    /// How many 64-bit numbers have been taken.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// First 8 bytes (big-endian) of `SHA-256(seed || u64be(counter))`; then the counter advances.
    pub fn next_u64(&mut self) -> u64 {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(self.counter.to_be_bytes());
        self.counter += 1;
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        u64::from_be_bytes(b)
    }

    /// Uniform in `0..m` by rejection sampling: accept `x < m·floor(2^64/m)`, answer `x mod m`.
    /// `m` must be at least 1 (0 answers 0 without consuming anything).
    pub fn uniform(&mut self, m: u64) -> u64 {
        if m == 0 {
            return 0;
        }
        let span = 1u128 << 64;
        let limit = (span / u128::from(m)) * u128::from(m);
        loop {
            let x = self.next_u64();
            if u128::from(x) < limit {
                return x % m;
            }
        }
    }
}

/// Why an expert withdraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictReason {
    EmployerIsBidder,
    DeclaredRelationship,
    SameCreditCode,
}

impl ConflictReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmployerIsBidder => "employer_is_bidder",
            Self::DeclaredRelationship => "declared_relationship",
            Self::SameCreditCode => "same_credit_code",
        }
    }
}

impl fmt::Display for ConflictReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first conflict of `expert` with `bidders`, with the bidder concerned.
pub fn conflict(
    expert: &Expert,
    bidders: &HashSet<&CreditCode>,
) -> Option<(ConflictReason, CreditCode)> {
    if let Some(code) = expert
        .employer
        .as_ref()
        .and_then(|e| e.credit_code.as_ref())
        .filter(|c| bidders.contains(c))
    {
        return Some((ConflictReason::EmployerIsBidder, code.clone()));
    }
    if let Some(r) = expert
        .relationships
        .iter()
        .find(|r| bidders.contains(&r.credit_code))
    {
        return Some((ConflictReason::DeclaredRelationship, r.credit_code.clone()));
    }
    if let Some(code) = expert.credit_code.as_ref().filter(|c| bidders.contains(c)) {
        return Some((ConflictReason::SameCreditCode, code.clone()));
    }
    None
}

/// A specialty without enough eligible experts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    pub specialty: String,
    pub needed: u32,
    pub eligible: u32,
}

fn list_shortfalls(s: &[Shortfall]) -> String {
    s.iter()
        .map(|x| {
            format!(
                "specialty {} needs {} but only {} eligible",
                x.specialty, x.needed, x.eligible
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a draw cannot be made (or verified).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("invalid committee request: {0}")]
    InvalidRequest(#[from] RequestError),
    #[error("invalid expert pool: {0}")]
    InvalidPool(#[from] PoolError),
    #[error("the closing checkpoint text is empty")]
    MissingCheckpoint,
    #[error("the draw nonce must be hex of at least {MIN_NONCE_BYTES} bytes: {reason}")]
    InvalidNonce { reason: String },
    #[error("not enough eligible experts: {}", list_shortfalls(.shortfalls))]
    Shortfall { shortfalls: Vec<Shortfall> },
    #[error("expert {expert_id} declined but is not a member of the committee")]
    NotAMember { expert_id: String },
    #[error("the draw does not verify: {what} differs")]
    Mismatch { what: &'static str },
}

/// A drawn seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    /// Seat number, from 0, in quota order.
    pub seat: u32,
    pub expert_id: String,
    /// The quota's specialty code.
    pub specialty: String,
    /// Value of the random counter before this expert was chosen (locates the choice in the stream).
    pub counter: u64,
}

/// Counts of experts not eligible.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionCounts {
    pub employer_is_bidder: u32,
    pub declared_relationship: u32,
    pub same_credit_code: u32,
    pub unavailable: u32,
    /// Experts left eligible (any specialty).
    pub eligible: u32,
}

/// The part of a draw that is published at once: enough to re-run and check it, no names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicDraw {
    pub algorithm: String,
    pub closing_checkpoint: String,
    pub nonce_hex: String,
    pub seed_hex: String,
    pub pool_digest: String,
    /// Digest of the public pool (names withheld, `sealbid-expert-pool-public-v1`): anyone can
    /// re-run the draw from it. Empty in draws made before it was published.
    #[serde(default)]
    pub public_pool_digest: String,
    pub pool_size: u32,
    /// The bidders' credit codes, sorted, without duplicates.
    pub bidders: Vec<CreditCode>,
    pub request: DrawRequest,
    /// Current members, by seat.
    pub members: Vec<Seat>,
    /// Members who declined, in the order they declined (each replaced in their seat).
    pub declined: Vec<Seat>,
    pub exclusions: ExclusionCounts,
    /// Random numbers consumed in all.
    pub counter: u64,
}

/// An excluded expert with the reason and the bidder concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedExpert {
    pub expert_id: String,
    pub reason: ConflictReason,
    pub bidder: CreditCode,
}

/// A member's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberName {
    pub seat: u32,
    pub expert_id: String,
    pub name: String,
}

/// The part kept secret until the evaluation result: names, and who withdrew for which bidder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateDraw {
    pub members: Vec<MemberName>,
    /// Sorted by expert id.
    pub excluded: Vec<ExcludedExpert>,
}

/// A drawn committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub public: PublicDraw,
    pub private: PrivateDraw,
}

/// Draw a committee (module documentation); equivalent to [`draw_with_declines`] with no decline.
pub fn draw(
    pool: &[Expert],
    bidders: &[CreditCode],
    request: &DrawRequest,
    seed_inputs: &SeedInputs,
) -> Result<Draw, DrawError> {
    draw_with_declines(pool, bidders, request, seed_inputs, &[])
}

/// Draw a committee, then replace the `declined` members in that order (module documentation).
pub fn draw_with_declines(
    pool: &[Expert],
    bidders: &[CreditCode],
    request: &DrawRequest,
    seed_inputs: &SeedInputs,
    declined: &[String],
) -> Result<Draw, DrawError> {
    request.validate()?;
    validate_pool(pool)?;
    let seed = seed_inputs.seed()?;
    let nonce_hex = seed_inputs.normalised_nonce()?;

    let bidder_set: HashSet<&CreditCode> = bidders.iter().collect();
    let mut exclusions = ExclusionCounts::default();
    let mut excluded = Vec::new();
    let mut eligible: Vec<&Expert> = Vec::new();
    for e in pool {
        if let Some((reason, bidder)) = conflict(e, &bidder_set) {
            match reason {
                ConflictReason::EmployerIsBidder => exclusions.employer_is_bidder += 1,
                ConflictReason::DeclaredRelationship => exclusions.declared_relationship += 1,
                ConflictReason::SameCreditCode => exclusions.same_credit_code += 1,
            }
            excluded.push(ExcludedExpert {
                expert_id: e.id.clone(),
                reason,
                bidder,
            });
        } else if !e.available {
            exclusions.unavailable += 1;
        } else {
            eligible.push(e);
        }
    }
    eligible.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    excluded.sort_by(|a, b| a.expert_id.as_bytes().cmp(b.expert_id.as_bytes()));
    exclusions.eligible = u32::try_from(eligible.len()).unwrap_or(u32::MAX);

    // Report every quota that cannot be filled even on its own.
    let candidates_for = |specialty: &str, drawn: &HashSet<&str>| -> Vec<&Expert> {
        eligible
            .iter()
            .copied()
            .filter(|e| e.has_specialty(specialty) && !drawn.contains(e.id.as_str()))
            .collect()
    };
    let empty = HashSet::new();
    let mut per_quota = Vec::with_capacity(request.quotas.len());
    let mut shortfalls = Vec::new();
    for q in &request.quotas {
        let c = candidates_for(&q.specialty, &empty);
        if (c.len() as u64) < u64::from(q.count) {
            shortfalls.push(Shortfall {
                specialty: specialty_code(&q.specialty).to_owned(),
                needed: q.count,
                eligible: u32::try_from(c.len()).unwrap_or(u32::MAX),
            });
        }
        per_quota.push(c);
    }
    if !shortfalls.is_empty() {
        return Err(DrawError::Shortfall { shortfalls });
    }

    let mut stream = SeedStream::new(seed);
    let mut drawn: HashSet<&str> = HashSet::new();
    let mut members: Vec<(Seat, &Expert)> = Vec::new();
    let mut seat_no = 0u32;
    for (q, mut candidates) in request.quotas.iter().zip(per_quota) {
        let code = specialty_code(&q.specialty);
        candidates.retain(|e| !drawn.contains(e.id.as_str()));
        for _ in 0..q.count {
            let chosen =
                choose(&mut stream, &mut candidates).ok_or_else(|| DrawError::Shortfall {
                    shortfalls: vec![Shortfall {
                        specialty: code.to_owned(),
                        needed: q.count,
                        eligible: 0,
                    }],
                })?;
            drawn.insert(chosen.1.id.as_str());
            members.push((
                Seat {
                    seat: seat_no,
                    expert_id: chosen.1.id.clone(),
                    specialty: code.to_owned(),
                    counter: chosen.0,
                },
                chosen.1,
            ));
            seat_no += 1;
        }
    }

    let mut declined_seats = Vec::new();
    for id in declined {
        let Some(slot) = members.iter_mut().find(|(s, _)| &s.expert_id == id) else {
            return Err(DrawError::NotAMember {
                expert_id: id.clone(),
            });
        };
        let specialty = slot.0.specialty.clone();
        let mut candidates = candidates_for(&specialty, &drawn);
        let left = candidates.len();
        let Some((counter, replacement)) = choose(&mut stream, &mut candidates) else {
            return Err(DrawError::Shortfall {
                shortfalls: vec![Shortfall {
                    specialty,
                    needed: 1,
                    eligible: u32::try_from(left).unwrap_or(u32::MAX),
                }],
            });
        };
        drawn.insert(replacement.id.as_str());
        let new_seat = Seat {
            seat: slot.0.seat,
            expert_id: replacement.id.clone(),
            specialty,
            counter,
        };
        declined_seats.push(std::mem::replace(&mut slot.0, new_seat));
        slot.1 = replacement;
    }

    let mut sorted_bidders: Vec<CreditCode> = bidders.to_vec();
    sorted_bidders.sort();
    sorted_bidders.dedup();
    let names = members
        .iter()
        .map(|(s, e)| MemberName {
            seat: s.seat,
            expert_id: e.id.clone(),
            name: e.name.clone(),
        })
        .collect();
    Ok(Draw {
        public: PublicDraw {
            algorithm: ALGORITHM.to_owned(),
            closing_checkpoint: seed_inputs.closing_checkpoint.clone(),
            nonce_hex,
            seed_hex: hex::encode(seed),
            pool_digest: pool_digest(pool),
            public_pool_digest: public_pool_digest(pool),
            pool_size: u32::try_from(pool.len()).unwrap_or(u32::MAX),
            bidders: sorted_bidders,
            request: request.clone(),
            members: members.into_iter().map(|(s, _)| s).collect(),
            declined: declined_seats,
            exclusions,
            counter: stream.counter(),
        },
        private: PrivateDraw {
            members: names,
            excluded,
        },
    })
}

/// Choose uniformly among `candidates`, remove the chosen one (the rest keep their order) and
/// return it with the counter value before the choice; `None` if there is no candidate.
fn choose<'a>(
    stream: &mut SeedStream,
    candidates: &mut Vec<&'a Expert>,
) -> Option<(u64, &'a Expert)> {
    if candidates.is_empty() {
        return None;
    }
    let counter = stream.counter();
    let i = usize::try_from(stream.uniform(candidates.len() as u64)).ok()?;
    Some((counter, candidates.remove(i)))
}

impl Draw {
    /// The public inputs this draw was made from.
    pub fn seed_inputs(&self) -> SeedInputs {
        SeedInputs {
            closing_checkpoint: self.public.closing_checkpoint.clone(),
            nonce_hex: self.public.nonce_hex.clone(),
        }
    }

    /// Ids of the members who declined, in order.
    pub fn declined_ids(&self) -> Vec<String> {
        self.public
            .declined
            .iter()
            .map(|s| s.expert_id.clone())
            .collect()
    }

    /// Replace a member who declined: the same inputs with `declined_id` appended to the declined
    /// list. Other members keep their seats. The pool must be the one drawn from.
    pub fn replace(&self, pool: &[Expert], declined_id: &str) -> Result<Draw, DrawError> {
        if pool_digest(pool) != self.public.pool_digest {
            return Err(DrawError::Mismatch {
                what: "pool digest",
            });
        }
        let mut declined = self.declined_ids();
        declined.push(declined_id.to_owned());
        draw_with_declines(
            pool,
            &self.public.bidders,
            &self.public.request,
            &self.seed_inputs(),
            &declined,
        )
    }

    /// Re-run the draw from its public inputs on `pool` and check that the public part is the
    /// same (pool digest first, so a different pool is named as such).
    /// `pool` is the full pool (its digest is `pool_digest`) or the public one, names withheld
    /// (its digest is `public_pool_digest`): the draw reads no name, so both re-run it alike.
    pub fn verify_public(public: &PublicDraw, pool: &[Expert]) -> Result<(), DrawError> {
        let full = pool_digest(pool) == public.pool_digest;
        let published = !public.public_pool_digest.is_empty()
            && public_pool_digest(pool) == public.public_pool_digest;
        if !full && !published {
            return Err(DrawError::Mismatch {
                what: "pool digest",
            });
        }
        let declined: Vec<String> = public
            .declined
            .iter()
            .map(|s| s.expert_id.clone())
            .collect();
        let again = draw_with_declines(
            pool,
            &public.bidders,
            &public.request,
            &SeedInputs {
                closing_checkpoint: public.closing_checkpoint.clone(),
                nonce_hex: public.nonce_hex.clone(),
            },
            &declined,
        )?;
        let p = &again.public;
        let checks: [(&'static str, bool); 5] = [
            ("seed", p.seed_hex == public.seed_hex),
            ("members", p.members == public.members),
            ("declined", p.declined == public.declined),
            ("exclusion counts", p.exclusions == public.exclusions),
            ("random counter", p.counter == public.counter),
        ];
        match checks.into_iter().find(|(_, ok)| !ok) {
            Some((what, _)) => Err(DrawError::Mismatch { what }),
            None => Ok(()),
        }
    }

    /// [`Draw::verify_public`] on this draw's public part.
    pub fn verify(&self, pool: &[Expert]) -> Result<(), DrawError> {
        Self::verify_public(&self.public, pool)
    }

    /// Expert ids of the current members, by seat.
    pub fn member_ids(&self) -> Vec<&str> {
        self.public
            .members
            .iter()
            .map(|s| s.expert_id.as_str())
            .collect()
    }

    /// Exclusions by reason, as `reason → count` (for display).
    pub fn exclusion_counts(&self) -> BTreeMap<&'static str, u32> {
        let e = &self.public.exclusions;
        BTreeMap::from([
            (
                ConflictReason::EmployerIsBidder.as_str(),
                e.employer_is_bidder,
            ),
            (
                ConflictReason::DeclaredRelationship.as_str(),
                e.declared_relationship,
            ),
            (ConflictReason::SameCreditCode.as_str(), e.same_credit_code),
            ("unavailable", e.unavailable),
        ])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::credit_code::complete_credit_code;
    use crate::evaluation::experts::{Employer, Relationship};
    use crate::DivisionCode;

    fn code(i: u32) -> CreditCode {
        complete_credit_code(&format!("913702{i:011}")).unwrap()
    }

    fn expert(id: &str, specialties: &[&str]) -> Expert {
        Expert {
            id: id.to_owned(),
            name: format!("Name of {id}"),
            specialties: specialties.iter().map(|s| (*s).to_owned()).collect(),
            employer: None,
            region: DivisionCode::parse("370202").unwrap(),
            relationships: vec![],
            credit_code: None,
            available: true,
        }
    }

    /// 30 A01 experts, 20 B02, 10 with both, 5 C03.
    fn pool() -> Vec<Expert> {
        let mut p = Vec::new();
        for i in 0..30 {
            p.push(expert(&format!("A{i:03}"), &["A01 building works"]));
        }
        for i in 0..20 {
            p.push(expert(&format!("B{i:03}"), &["B02 water works"]));
        }
        for i in 0..10 {
            p.push(expert(&format!("X{i:03}"), &["A01 building", "B02 water"]));
        }
        for i in 0..5 {
            p.push(expert(&format!("C{i:03}"), &["C03 roads"]));
        }
        p
    }

    fn request() -> DrawRequest {
        DrawRequest {
            committee_size: 7,
            tenderee_representatives: 2,
            quotas: vec![
                Quota {
                    specialty: "A01".into(),
                    count: 3,
                },
                Quota {
                    specialty: "B02 water works".into(),
                    count: 2,
                },
            ],
        }
    }

    fn seed(nonce: &str) -> SeedInputs {
        SeedInputs {
            closing_checkpoint: "sealbid.example/tenders\n42\nabc=\n\n— sealbid sig".into(),
            nonce_hex: nonce.into(),
        }
    }

    const NONCE: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn seed_bytes_are_as_documented() {
        let s = seed(NONCE);
        let mut bytes = b"sealbid-draw-v1\n".to_vec();
        bytes.extend_from_slice(s.closing_checkpoint.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(NONCE.as_bytes());
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(s.seed().unwrap(), expected);
        // Upper-case nonce is the same nonce.
        assert_eq!(seed(&NONCE.to_uppercase()).seed().unwrap(), expected);
        // The stream: first 8 bytes big-endian of SHA-256(seed || u64be(i)).
        let mut st = SeedStream::new(expected);
        let mut b = expected.to_vec();
        b.extend_from_slice(&0u64.to_be_bytes());
        let d = Sha256::digest(&b);
        assert_eq!(
            st.next_u64(),
            u64::from_be_bytes(d[..8].try_into().unwrap())
        );
        assert_eq!(st.counter(), 1);
        assert!(matches!(
            seed("abcd").seed(),
            Err(DrawError::InvalidNonce { .. })
        ));
        assert!(matches!(
            seed("zz112233445566778899aabbccddeeff").seed(),
            Err(DrawError::InvalidNonce { .. })
        ));
        let mut empty = seed(NONCE);
        empty.closing_checkpoint.clear();
        assert_eq!(empty.seed(), Err(DrawError::MissingCheckpoint));
    }

    #[test]
    fn deterministic_and_input_order_irrelevant() {
        let p = pool();
        let a = draw(&p, &[code(1), code(2)], &request(), &seed(NONCE)).unwrap();
        let b = draw(&p, &[code(1), code(2)], &request(), &seed(NONCE)).unwrap();
        assert_eq!(a, b);
        let mut rev = p.clone();
        rev.reverse();
        let c = draw(&rev, &[code(2), code(1), code(2)], &request(), &seed(NONCE)).unwrap();
        assert_eq!(a.public, c.public);
        assert_eq!(a.public.members.len(), 5);
        assert_eq!(a.private.members.len(), 5);
        let ids = a.member_ids();
        let unique: HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 5, "{ids:?}");
        for s in &a.public.members[..3] {
            assert_eq!(s.specialty, "A01");
            assert!(p
                .iter()
                .any(|e| e.id == s.expert_id && e.has_specialty("A01")));
        }
        for s in &a.public.members[3..] {
            assert_eq!(s.specialty, "B02");
        }
        assert_eq!(a.private.members[0].name, format!("Name of {}", ids[0]));
        a.verify(&p).unwrap();
        // The public part serialises without names.
        let json = serde_json::to_string(&a.public).unwrap();
        assert!(!json.contains("Name of"));
    }

    #[test]
    fn different_nonce_gives_different_committee() {
        let p = pool();
        let a = draw(&p, &[], &request(), &seed(NONCE)).unwrap();
        let b = draw(
            &p,
            &[],
            &request(),
            &seed("ff112233445566778899aabbccddeeff"),
        )
        .unwrap();
        assert_ne!(a.public.seed_hex, b.public.seed_hex);
        assert_ne!(a.member_ids(), b.member_ids());
    }

    #[test]
    fn conflicts_are_excluded_with_their_reason() {
        let mut p = pool();
        // Make the A01 pool tiny so exclusions are decisive: keep only A000..A004.
        p.retain(|e| (!e.id.starts_with('A') || e.id.as_str() < "A005") && !e.id.starts_with('X'));
        let by_id =
            |p: &[Expert], id: &str| -> usize { p.iter().position(|e| e.id == id).unwrap() };
        let i = by_id(&p, "A000");
        p[i].employer = Some(Employer {
            name: "Bidder One".into(),
            credit_code: Some(code(1)),
        });
        let i = by_id(&p, "A001");
        p[i].relationships.push(Relationship {
            credit_code: code(2),
            org_name: "Bidder Two".into(),
            kind: "former_employer".into(),
        });
        let i = by_id(&p, "A002");
        p[i].credit_code = Some(code(3));
        let i = by_id(&p, "A003");
        p[i].available = false;
        // A relationship with a non-bidder is no conflict.
        let i = by_id(&p, "A004");
        p[i].relationships.push(Relationship {
            credit_code: code(99),
            org_name: String::new(),
            kind: "shareholder".into(),
        });
        let req = DrawRequest {
            committee_size: 5,
            tenderee_representatives: 1,
            quotas: vec![
                Quota {
                    specialty: "A01".into(),
                    count: 1,
                },
                Quota {
                    specialty: "B02".into(),
                    count: 3,
                },
            ],
        };
        let d = draw(&p, &[code(1), code(2), code(3)], &req, &seed(NONCE)).unwrap();
        assert_eq!(d.public.members[0].expert_id, "A004");
        let e = &d.public.exclusions;
        assert_eq!(
            (
                e.employer_is_bidder,
                e.declared_relationship,
                e.same_credit_code,
                e.unavailable
            ),
            (1, 1, 1, 1)
        );
        let reasons: Vec<(&str, ConflictReason)> = d
            .private
            .excluded
            .iter()
            .map(|x| (x.expert_id.as_str(), x.reason))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("A000", ConflictReason::EmployerIsBidder),
                ("A001", ConflictReason::DeclaredRelationship),
                ("A002", ConflictReason::SameCreditCode),
            ]
        );
        assert_eq!(d.private.excluded[1].bidder, code(2));
        assert_eq!(d.exclusion_counts()["declared_relationship"], 1);
        // Without bidders nobody is excluded.
        let free = draw(&p, &[], &req, &seed(NONCE)).unwrap();
        assert!(free.private.excluded.is_empty());
    }

    #[test]
    fn shortfall_names_every_short_specialty() {
        let p = pool();
        let req = DrawRequest {
            committee_size: 9,
            tenderee_representatives: 0,
            quotas: vec![
                Quota {
                    specialty: "C03".into(),
                    count: 6,
                },
                Quota {
                    specialty: "D04".into(),
                    count: 1,
                },
                Quota {
                    specialty: "A01".into(),
                    count: 2,
                },
            ],
        };
        let err = draw(&p, &[], &req, &seed(NONCE)).unwrap_err();
        assert_eq!(
            err,
            DrawError::Shortfall {
                shortfalls: vec![
                    Shortfall {
                        specialty: "C03".into(),
                        needed: 6,
                        eligible: 5
                    },
                    Shortfall {
                        specialty: "D04".into(),
                        needed: 1,
                        eligible: 0
                    },
                ]
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("specialty C03 needs 6 but only 5 eligible"),
            "{msg}"
        );
        assert!(msg.contains("D04"), "{msg}");
    }

    #[test]
    fn replacement_is_deterministic_and_keeps_other_members() {
        let p = pool();
        let bidders = [code(1)];
        let a = draw(&p, &bidders, &request(), &seed(NONCE)).unwrap();
        let decliner = a.public.members[1].expert_id.clone();
        let r1 = a.replace(&p, &decliner).unwrap();
        let r2 = a.replace(&p, &decliner).unwrap();
        assert_eq!(r1, r2);
        let again = draw_with_declines(
            &p,
            &bidders,
            &request(),
            &seed(NONCE),
            std::slice::from_ref(&decliner),
        )
        .unwrap();
        assert_eq!(again, r1);
        assert_eq!(r1.public.declined.len(), 1);
        assert_eq!(r1.public.declined[0].expert_id, decliner);
        assert!(!r1.member_ids().contains(&decliner.as_str()));
        for (old, new) in a.public.members.iter().zip(&r1.public.members) {
            if old.seat == 1 {
                assert_ne!(old.expert_id, new.expert_id);
                assert_eq!(new.specialty, "A01");
                assert!(new.counter >= a.public.counter);
            } else {
                assert_eq!(old, new);
            }
        }
        r1.verify(&p).unwrap();
        // The replacement can decline too; nobody who declined comes back.
        let second = r1.public.members[1].expert_id.clone();
        let r3 = r1.replace(&p, &second).unwrap();
        assert_eq!(r3.declined_ids(), vec![decliner.clone(), second.clone()]);
        assert!(!r3.member_ids().contains(&second.as_str()));
        r3.verify(&p).unwrap();
        // Declining someone who is not a member is refused.
        assert_eq!(
            r3.replace(&p, &decliner),
            Err(DrawError::NotAMember {
                expert_id: decliner
            })
        );
    }

    #[test]
    fn verify_detects_tampering() {
        let p = pool();
        let a = draw(&p, &[], &request(), &seed(NONCE)).unwrap();
        let mut t = a.clone();
        t.public.members.swap(0, 1);
        assert_eq!(t.verify(&p), Err(DrawError::Mismatch { what: "members" }));
        let mut other = p.clone();
        other[0].available = false;
        assert_eq!(
            a.verify(&other),
            Err(DrawError::Mismatch {
                what: "pool digest"
            })
        );
    }

    #[test]
    fn the_public_pool_re_runs_the_draw_without_names() {
        use crate::evaluation::experts::{pseudonymous, public_pool_csv, WITHHELD};
        let p = pool();
        let a = draw(&p, &[], &request(), &seed(NONCE)).unwrap();
        // The public pool, as published (CSV) and read back, withholds every name...
        let csv = public_pool_csv(&p);
        assert!(!csv.contains("Name of"), "{csv}");
        // (No field of this pool needs CSV quoting, so splitting on commas reads it.)
        let mut lines = csv.lines();
        let headers: Vec<&str> = lines.next().unwrap().split(',').collect();
        let public: Vec<Expert> = lines
            .map(|line| {
                let map: std::collections::HashMap<&str, &str> =
                    headers.iter().copied().zip(line.split(',')).collect();
                Expert::from_record(&map).unwrap()
            })
            .collect();
        assert!(public.iter().all(|e| e.name == WITHHELD));
        assert_eq!(public.len(), p.len());
        // ...and still re-runs the same draw.
        a.verify(&public).unwrap();
        assert_eq!(
            public_pool_digest(&public),
            public_pool_digest(&p.iter().map(pseudonymous).collect::<Vec<_>>())
        );
        // A changed public pool does not verify.
        let mut other = public.clone();
        other[0].available = !other[0].available;
        assert_eq!(
            a.verify(&other),
            Err(DrawError::Mismatch {
                what: "pool digest"
            })
        );
    }

    #[test]
    fn uniform_is_roughly_unbiased() {
        // m = 3 over 30,000 draws from many seeds: each bucket near 10,000.
        let mut counts = [0u32; 3];
        for s in 0..300u32 {
            let seed: [u8; 32] = Sha256::digest(s.to_be_bytes()).into();
            let mut st = SeedStream::new(seed);
            for _ in 0..100 {
                counts[usize::try_from(st.uniform(3)).unwrap()] += 1;
            }
        }
        for c in counts {
            assert!((9_400..=10_600).contains(&c), "{counts:?}");
        }
        // Rejection is exercised: for m just above 2^63 about half of the numbers are rejected.
        let m = (1u64 << 63) + 1;
        let mut st = SeedStream::new([7; 32]);
        for _ in 0..200 {
            assert!(st.uniform(m) < m);
        }
        assert!(st.counter() > 300, "{}", st.counter());
        // First pick over a 7-candidate list, across seeds: every position chosen, none dominating.
        let p: Vec<Expert> = (0..7).map(|i| expert(&format!("E{i}"), &["A01"])).collect();
        let req = DrawRequest {
            committee_size: 5,
            tenderee_representatives: 0,
            quotas: vec![Quota {
                specialty: "A01".into(),
                count: 5,
            }],
        };
        let mut first = BTreeMap::new();
        for n in 0..700u32 {
            let nonce = format!("{n:032x}");
            let d = draw(&p, &[], &req, &seed(&nonce)).unwrap();
            *first
                .entry(d.public.members[0].expert_id.clone())
                .or_insert(0u32) += 1;
        }
        assert_eq!(first.len(), 7);
        for (id, c) in &first {
            assert!((55..=145).contains(c), "{id}: {first:?}");
        }
    }

    #[test]
    fn request_validation() {
        let p = pool();
        let mk = |size, reps, counts: &[u32]| DrawRequest {
            committee_size: size,
            tenderee_representatives: reps,
            quotas: counts
                .iter()
                .enumerate()
                .map(|(i, c)| Quota {
                    specialty: ["A01", "B02", "C03"][i].into(),
                    count: *c,
                })
                .collect(),
        };
        let cases: Vec<(DrawRequest, &str)> = vec![
            (mk(4, 0, &[4]), "at least 5 members; 4 requested"),
            (mk(6, 0, &[6]), "odd number of members; 6 requested"),
            (mk(7, 3, &[4]), "3 of 7 requested, at most 2"),
            (mk(5, 0, &[2, 2]), "add up to 4 experts"),
            (mk(5, 0, &[5, 0]), "asks for 0 experts"),
        ];
        for (req, text) in cases {
            let err = draw(&p, &[], &req, &seed(NONCE)).unwrap_err();
            assert!(matches!(err, DrawError::InvalidRequest(_)), "{err:?}");
            assert!(err.to_string().contains(text), "{err} / {text}");
        }
        let mut dup = mk(5, 0, &[2, 3]);
        dup.quotas[1].specialty = "A01 again".into();
        assert_eq!(
            dup.validate(),
            Err(RequestError::DuplicateQuota {
                specialty: "A01".into()
            })
        );
        assert!(mk(9, 3, &[3, 2, 1]).validate().is_ok());
        assert!(mk(5, 1, &[4]).validate().is_ok());
    }

    #[test]
    fn duplicate_pool_ids_are_refused() {
        let mut p = pool();
        p.push(p[0].clone());
        let err = draw(&p, &[], &request(), &seed(NONCE)).unwrap_err();
        assert!(
            err.to_string().contains("A000 appears more than once"),
            "{err}"
        );
    }
}
