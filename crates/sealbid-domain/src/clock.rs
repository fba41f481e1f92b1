//! Time as a parameter. Deadlines, openings and SLA timers read the time through a [`Clock`], so
//! tests can stop and move it; [`SystemClock`] is the one place in Sealbid that reads the system
//! time. Also China Standard Time helpers: legal day counts run on China dates, not UTC dates.
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use std::sync::{Arc, Mutex, PoisonError};

/// The source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // The only call to `Utc::now()` in the codebase; everything else receives a `Clock`.
        // Truncated to microseconds, the precision both databases keep, so a value read back
        // equals the value written.
        let now = Utc::now();
        chrono::DurationRound::duration_trunc(now, chrono::Duration::microseconds(1)).unwrap_or(now)
    }
}

/// A clock that stands still until told to move: for unit and end-to-end tests. Clones share the
/// same time, so a test can keep one handle and give another to the server.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock showing `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(t)),
        }
    }

    /// Set the time to `t` (which may be earlier: tests of clock skew need that).
    pub fn set(&self, t: DateTime<Utc>) {
        // A poisoned lock only means another test thread panicked while holding it; the stored
        // time is still a valid value, so carry on with it.
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = t;
    }

    /// Move the time by `d` (negative moves it back). Saturates at chrono's representable range.
    pub fn advance(&self, d: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now
            .checked_add_signed(d)
            .unwrap_or(if d < chrono::Duration::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// UTC offset of China Standard Time (UTC+8, all year: China has no daylight saving time).
pub const CHINA_OFFSET_SECS: i32 = 8 * 3600;

// Evaluated by the compiler: an out-of-range offset would fail the build, never a running server.
#[allow(clippy::panic)]
const CHINA_TZ: FixedOffset = match FixedOffset::east_opt(CHINA_OFFSET_SECS) {
    Some(tz) => tz,
    None => panic!("CHINA_OFFSET_SECS is not a valid UTC offset"),
};

/// China Standard Time as a fixed offset. A fixed offset is exact because CST has no DST.
pub fn china_tz() -> FixedOffset {
    CHINA_TZ
}

/// The calendar date in China at instant `t`.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&CHINA_TZ).date_naive()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    #[test]
    fn system_clock_moves_forward() {
        let clock = SystemClock;
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
        assert!(a.timestamp() > 1_700_000_000);
    }

    #[test]
    fn manual_clock_set_and_advance() {
        let t0 = utc(2025, 3, 14, 1, 0, 0);
        let clock = ManualClock::new(t0);
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::minutes(90));
        assert_eq!(clock.now(), utc(2025, 3, 14, 2, 30, 0));
        clock.advance(Duration::seconds(-30));
        assert_eq!(clock.now(), utc(2025, 3, 14, 2, 29, 30));
        let t1 = utc(2024, 1, 1, 0, 0, 0);
        clock.set(t1);
        assert_eq!(clock.now(), t1);
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let clock = ManualClock::new(utc(2025, 1, 1, 0, 0, 0));
        let server_side = clock.clone();
        clock.advance(Duration::days(1));
        assert_eq!(server_side.now(), utc(2025, 1, 2, 0, 0, 0));
    }

    #[test]
    fn manual_clock_advance_saturates() {
        let clock = ManualClock::new(utc(2025, 1, 1, 0, 0, 0));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
        clock.set(utc(2025, 1, 1, 0, 0, 0));
        clock.advance(Duration::MIN);
        assert_eq!(clock.now(), DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn clocks_work_as_trait_objects() {
        let manual = ManualClock::new(utc(2025, 6, 1, 0, 0, 0));
        let shared: Arc<dyn Clock> = Arc::new(manual.clone());
        manual.advance(Duration::hours(1));
        assert_eq!(shared.now(), utc(2025, 6, 1, 1, 0, 0));
        assert_eq!(Arc::clone(&shared).now(), utc(2025, 6, 1, 1, 0, 0));
        let boxed: Box<dyn Clock> = Box::new(SystemClock);
        assert!(boxed.now() > utc(2024, 1, 1, 0, 0, 0));
    }

    #[test]
    fn china_time() {
        assert_eq!(china_tz().local_minus_utc(), 8 * 3600);
        // 15:59:59 UTC is 23:59:59 in China, still the same date; one second later it is tomorrow.
        assert_eq!(
            china_date(utc(2024, 9, 30, 15, 59, 59)),
            NaiveDate::from_ymd_opt(2024, 9, 30).unwrap()
        );
        assert_eq!(
            china_date(utc(2024, 9, 30, 16, 0, 0)),
            NaiveDate::from_ymd_opt(2024, 10, 1).unwrap()
        );
        // No DST: the same offset in January and July.
        let winter = utc(2025, 1, 15, 12, 0, 0).with_timezone(&china_tz());
        let summer = utc(2025, 7, 15, 12, 0, 0).with_timezone(&china_tz());
        assert_eq!(winter.offset(), summer.offset());
    }
}
