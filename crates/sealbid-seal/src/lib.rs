//! Sealing and opening: threshold age envelopes, signed manifests and policies, an RFC 6962 Merkle log
//! with C2SP signed checkpoints, receipts, and opening records with their verifier.
//!
//! Pure and synchronous: nothing here touches the network, a database or the clock; randomness is passed
//! in. The crate is meant to compile to WebAssembly later for in-browser sealing.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Envelopes, keys and signed documents.
pub mod envelope;
pub mod error;
pub mod keys;
pub mod manifest;
pub mod payload;
pub mod policy;
pub mod signed;
pub mod threshold;

// The transparency log.
pub mod checkpoint;
pub mod merkle;
pub mod note;

// Log entries, receipts and the opening record.
pub mod entry;
pub mod opening;
pub mod receipt;
pub mod report;
