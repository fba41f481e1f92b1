//! The evaluation of bids (法 37–41; 条例 46–53): the expert pool and the verifiable draw of the
//! evaluation committee, and the scoring of bids.
//!
//! Each submodule is declared by its author: `experts` and `draw` (committee draw), `scoring`
//! and `deadlines` (after the report) by the scoring work.
pub mod award;
pub mod deadlines;
pub mod draw;
pub mod experts;
pub mod scoring;
