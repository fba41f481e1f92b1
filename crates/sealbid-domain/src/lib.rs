//! Sealbid's domain: the entities of public tendering, the newtypes that make invalid values
//! unrepresentable past the boundary, the tender state machine with the legal rules it enforces,
//! money, the working-day calendar and the clock. No I/O lives here: no database, no HTTP.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod audit;
pub mod calendar;
pub mod clock;
pub mod credit_code;
pub mod division;
pub mod evaluation;
pub mod ids;
pub mod money;
pub mod ocds;
pub mod org;
pub mod screening;
pub mod tender;

pub use calendar::WorkingCalendar;
pub use clock::{Clock, ManualClock, SystemClock};
pub use credit_code::CreditCode;
pub use division::DivisionCode;
pub use ids::{AlertId, AmendmentId, BidId, OrgId, QuestionId, TenderId, UserId};
pub use money::Money;
