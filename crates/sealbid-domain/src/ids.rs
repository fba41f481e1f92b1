//! Typed identifiers: a `TenderId` can never be passed where an `OrgId` is expected.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered (v7) identifier. The caller passes the randomness source's output
            /// indirectly through `Uuid::now_v7`; ids carry no security meaning.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
            pub fn parse(s: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

id_type!(
    /// An organisation: bidder, tenderee, agency or the trading centre itself.
    OrgId
);
id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// A tender (one procurement project or lot).
    TenderId
);
id_type!(
    /// An amendment to a tender's documents.
    AmendmentId
);
id_type!(
    /// A clarification question and its answer.
    QuestionId
);
id_type!(
    /// A sealed bid (one submission; a replacement is a new bid).
    BidId
);
id_type!(
    /// An anomaly-engine alert under supervision.
    AlertId
);
