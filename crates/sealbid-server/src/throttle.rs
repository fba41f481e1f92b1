//! Login throttling: online password guessing is stopped by refusing sign-ins for a username, or
//! from a client address, that has too many recent failures.
//!
//! Failures are counted separately per normalised username and per client IP address (IPv6
//! addresses by their /64 prefix, which one client can fill at will). A key is locked while it
//! has `limit` failures in the last `window` (a sliding window); a locked key is refused *without*
//! checking the password, and the refusal says how long until the oldest of those failures leaves
//! the window. Refused attempts are not counted (they cannot guess anything), and a successful
//! sign-in clears its username's failures — but not its address's, or one valid account would
//! reset an address's count between guesses at another. Attempts still being checked count
//! against the limit too, so that a burst of concurrent guesses cannot slip past it.
//!
//! Unknown usernames are counted exactly like known ones, so a refusal reveals nothing about
//! which accounts exist. Time comes from the caller (the state's clock), never from the system.
//!
//! **Per process.** The counts live in this server process's memory: several app servers behind
//! one load balancer each keep their own, so the effective limit is multiplied by their number,
//! and a restart forgets them. A throttle shared through the store is future work.
//!
//! **Bounded memory.** Usernames are held as a 16-byte hash, expired entries are swept about once
//! a minute, and at most `max_keys` keys are tracked: when full, the least recently seen keys are
//! evicted (a batch at a time, so that a flood of new keys costs amortised constant time).
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// How often expired entries are swept out, at most.
const SWEEP_EVERY: Duration = Duration::minutes(1);

/// The throttle's policy. A limit of 0 turns that kind of limit off (e.g. the per-address limit
/// behind a reverse proxy, where every client would share the proxy's address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failed sign-ins allowed per username within `window`.
    pub max_failures_per_username: u32,
    /// Failed sign-ins allowed per client address within `window`, whatever the usernames.
    pub max_failures_per_ip: u32,
    /// How long a failure counts.
    pub window: Duration,
    /// The most keys (usernames and addresses) tracked at once.
    pub max_keys: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            max_failures_per_username: 5,
            max_failures_per_ip: 20,
            window: Duration::minutes(15),
            max_keys: 100_000,
        }
    }
}

/// A sign-in refused without checking the password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Whole seconds until an attempt may be made again (at least 1).
    pub retry_after_secs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// The first 16 bytes of the SHA-256 of the normalised username.
    Username([u8; 16]),
    /// IPv4 address, or IPv6 address with its interface half zeroed.
    Ip(IpAddr),
}

impl Key {
    fn username(username: &str) -> Key {
        let digest = Sha256::digest(normalize_username(username).as_bytes());
        let mut k = [0u8; 16];
        k.copy_from_slice(&digest[..16]);
        Key::Username(k)
    }

    fn ip(ip: IpAddr) -> Key {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                Key::Ip(IpAddr::from(octets))
            }
            v4 => Key::Ip(v4),
        }
    }
}

/// A username as sign-in looks it up: trimmed, ASCII lower case.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}

#[derive(Debug)]
struct Entry {
    /// When the recent failures happened, oldest first; at most `limit` are kept (older ones
    /// cannot matter).
    failures: VecDeque<DateTime<Utc>>,
    /// Attempts begun and not yet settled.
    in_flight: u32,
    /// The last time this key was attempted: eviction removes the least recently seen.
    last_seen: DateTime<Utc>,
}

impl Entry {
    fn new(now: DateTime<Utc>) -> Entry {
        Entry {
            failures: VecDeque::new(),
            in_flight: 0,
            last_seen: now,
        }
    }

    /// Drops failures that have left the window; whether anything is left to remember.
    fn prune(&mut self, now: DateTime<Utc>, window: Duration) -> bool {
        while self.failures.front().is_some_and(|t| *t + window <= now) {
            self.failures.pop_front();
        }
        !self.failures.is_empty() || self.in_flight > 0
    }
}

#[derive(Debug)]
struct Table {
    limits: ThrottleLimits,
    entries: HashMap<Key, Entry>,
    last_sweep: Option<DateTime<Utc>>,
}

impl Table {
    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::Username(_) => self.limits.max_failures_per_username,
            Key::Ip(_) => self.limits.max_failures_per_ip,
        }
    }

    /// How long `key` must wait, if it is locked now. Marks the key as seen.
    fn wait(&mut self, key: &Key, now: DateTime<Utc>) -> Option<Duration> {
        let limit = self.limit(key) as usize;
        let window = self.limits.window;
        let entry = self.entries.get_mut(key)?;
        entry.last_seen = now;
        entry.prune(now, window);
        if limit == 0 {
            return None;
        }
        let used = entry.failures.len() + entry.in_flight as usize;
        if used < limit {
            return None;
        }
        // `used + 1 - limit` must go before an attempt fits: failures leave the window oldest
        // first; if that is not enough, attempts in flight must settle first (a moment).
        let must_go = used + 1 - limit;
        Some(match entry.failures.get(must_go - 1) {
            Some(t) => *t + window - now,
            None => Duration::seconds(1),
        })
    }

    /// The entry of `key`, created (making room if the table is full) when missing.
    fn entry(&mut self, key: Key, now: DateTime<Utc>) -> &mut Entry {
        if !self.entries.contains_key(&key) && self.entries.len() >= self.limits.max_keys.max(1) {
            self.make_room(now);
        }
        let entry = self.entries.entry(key).or_insert_with(|| Entry::new(now));
        entry.last_seen = now;
        entry
    }

    fn sweep(&mut self, now: DateTime<Utc>) {
        let window = self.limits.window;
        self.entries.retain(|_, e| e.prune(now, window));
        self.last_sweep = Some(now);
    }

    fn maybe_sweep(&mut self, now: DateTime<Utc>) {
        match self.last_sweep {
            // A clock moved back sweeps too, rather than never again.
            Some(last) if last <= now && now - last < SWEEP_EVERY => {}
            _ => self.sweep(now),
        }
    }

    /// Sweeps expired entries; if the table is still (nearly) full, evicts the least recently
    /// seen keys so that a batch of new keys fits before the next eviction.
    fn make_room(&mut self, now: DateTime<Utc>) {
        self.sweep(now);
        let cap = self.limits.max_keys.max(1);
        let target = cap - (cap / 16).max(1);
        let excess = self.entries.len().saturating_sub(target);
        if excess == 0 {
            return;
        }
        let mut by_age: Vec<(DateTime<Utc>, Key)> = self
            .entries
            .iter()
            .map(|(k, e)| (e.last_seen, *k))
            .collect();
        by_age.select_nth_unstable_by_key(excess - 1, |(seen, _)| *seen);
        for (_, key) in &by_age[..excess] {
            self.entries.remove(key);
        }
    }

    fn record_failure(&mut self, key: Key, now: DateTime<Utc>) {
        let limit = self.limit(&key) as usize;
        if limit == 0 {
            // Not tracked; still settle an attempt begun under other limits.
            self.release(&key);
            return;
        }
        let entry = self.entry(key, now);
        entry.in_flight = entry.in_flight.saturating_sub(1);
        // Kept in order even if the clock moved back.
        let at = entry.failures.partition_point(|t| *t <= now);
        entry.failures.insert(at, now);
        while entry.failures.len() > limit {
            entry.failures.pop_front();
        }
    }

    fn release(&mut self, key: &Key) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if entry.in_flight == 0 && entry.failures.is_empty() {
                self.entries.remove(key);
            }
        }
    }

    fn clear(&mut self, key: &Key) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.failures.clear();
        }
        self.release(key);
    }
}

/// Counts failed sign-ins per username and per client address and refuses sign-ins for locked
/// ones. Held in `AppState`; see the module documentation for the policy and its limits (one
/// throttle per server process).
pub struct LoginThrottle {
    table: Mutex<Table>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = self.lock();
        f.debug_struct("LoginThrottle")
            .field("limits", &t.limits)
            .field("keys", &t.entries.len())
            .finish()
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(ThrottleLimits::default())
    }
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> LoginThrottle {
        LoginThrottle {
            table: Mutex::new(Table {
                limits,
                entries: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic while holding the lock leaves counts that are still valid numbers.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The policy in force.
    pub fn limits(&self) -> ThrottleLimits {
        self.lock().limits.clone()
    }

    /// Changes the policy (tests; the server sets it once from `ServerSettings`). Counts are kept.
    pub fn set_limits(&self, limits: ThrottleLimits) {
        self.lock().limits = limits;
    }

    /// How many keys (usernames and addresses) are tracked.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Call before checking a password. `Err` means: refuse without checking it. `Ok` holds a
    /// place among the attempts until it is settled with [`LoginAttempt::failed`] or
    /// [`LoginAttempt::succeeded`]; dropped unsettled (e.g. the store failed), it counts as
    /// nothing.
    pub fn begin(
        &self,
        username: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<LoginAttempt<'_>, Refused> {
        let user = Key::username(username);
        let ip = ip.map(Key::ip);
        let mut t = self.lock();
        t.maybe_sweep(now);
        let wait = [Some(user), ip]
            .into_iter()
            .flatten()
            .filter_map(|k| t.wait(&k, now))
            .max();
        if let Some(wait) = wait {
            let window_secs = t.limits.window.num_seconds().max(1);
            let secs = (wait.num_milliseconds().max(0) + 999) / 1000;
            return Err(Refused {
                retry_after_secs: secs.clamp(1, window_secs).unsigned_abs(),
            });
        }
        for key in [Some(user), ip].into_iter().flatten() {
            if t.limit(&key) > 0 {
                t.entry(key, now).in_flight += 1;
            }
        }
        Ok(LoginAttempt {
            throttle: self,
            user,
            ip,
            settled: false,
        })
    }
}

/// A sign-in attempt the throttle let through, to be settled once the password is checked.
#[must_use = "settle the attempt with `failed` or `succeeded`"]
pub struct LoginAttempt<'a> {
    throttle: &'a LoginThrottle,
    user: Key,
    ip: Option<Key>,
    settled: bool,
}

impl LoginAttempt<'_> {
    /// The username or password was wrong: counts against the username and the address.
    pub fn failed(mut self, now: DateTime<Utc>) {
        self.settled = true;
        let mut t = self.throttle.lock();
        t.record_failure(self.user, now);
        if let Some(ip) = self.ip {
            t.record_failure(ip, now);
        }
    }

    /// Signed in: the username's failures are forgotten (the address's stay).
    pub fn succeeded(mut self) {
        self.settled = true;
        let mut t = self.throttle.lock();
        t.clear(&self.user);
        if let Some(ip) = self.ip {
            t.release(&ip);
        }
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut t = self.throttle.lock();
            t.release(&self.user);
            if let Some(ip) = self.ip {
                t.release(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sealbid_domain::{Clock, ManualClock};

    fn clock() -> ManualClock {
        ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0).unwrap())
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    /// One attempt that fails; panics if it is refused.
    fn fail(th: &LoginThrottle, clock: &ManualClock, user: &str, addr: Option<IpAddr>) {
        th.begin(user, addr, clock.now())
            .unwrap_or_else(|r| panic!("{user} refused: {r:?}"))
            .failed(clock.now());
    }

    fn allowed(th: &LoginThrottle, clock: &ManualClock, user: &str, addr: Option<IpAddr>) -> bool {
        th.begin(user, addr, clock.now()).is_ok()
    }

    #[test]
    fn a_username_locks_after_its_limit_until_the_window_passes() {
        let (th, clock) = (LoginThrottle::default(), clock());
        for _ in 0..5 {
            fail(&th, &clock, "admin", None);
        }
        // Whatever the password: refused before it is checked, for the whole window.
        let r = th.begin("admin", None, clock.now()).err().unwrap();
        assert_eq!(r.retry_after_secs, 15 * 60);
        // The same username however it is written.
        assert!(!allowed(&th, &clock, "  ADMIN ", None));
        // Refusals do not extend the lock.
        clock.advance(Duration::minutes(14));
        let r = th.begin("admin", None, clock.now()).err().unwrap();
        assert_eq!(r.retry_after_secs, 60);
        clock.advance(Duration::seconds(59));
        assert_eq!(
            th.begin("admin", None, clock.now())
                .err()
                .unwrap()
                .retry_after_secs,
            1
        );
        clock.advance(Duration::seconds(1));
        assert!(allowed(&th, &clock, "admin", None));
        // Another username was never affected.
        assert!(allowed(&th, &clock, "someone.else", None));
    }

    #[test]
    fn the_window_slides() {
        let (th, clock) = (LoginThrottle::default(), clock());
        // Failures at 0, 1, 2, 3 and 4 minutes.
        for _ in 0..5 {
            fail(&th, &clock, "admin", None);
            clock.advance(Duration::minutes(1));
        }
        // At 5 minutes: locked until the first failure is 15 minutes old.
        let r = th.begin("admin", None, clock.now()).err().unwrap();
        assert_eq!(r.retry_after_secs, 10 * 60);
        clock.advance(Duration::minutes(10));
        // One slot free: one more failure locks it again until the next one expires.
        fail(&th, &clock, "admin", None);
        let r = th.begin("admin", None, clock.now()).err().unwrap();
        assert_eq!(r.retry_after_secs, 60);
    }

    #[test]
    fn success_clears_the_usernames_failures_but_not_the_addresss() {
        let th = LoginThrottle::new(ThrottleLimits {
            max_failures_per_ip: 6,
            ..ThrottleLimits::default()
        });
        let clock = clock();
        let a = ip("192.0.2.7");
        for _ in 0..4 {
            fail(&th, &clock, "admin", a);
        }
        th.begin("admin", a, clock.now()).unwrap().succeeded();
        // The username starts again from zero...
        for _ in 0..2 {
            fail(&th, &clock, "admin", None);
        }
        assert!(allowed(&th, &clock, "admin", None));
        // ...but the address still has its 4 failures: 2 more lock it.
        fail(&th, &clock, "x1", a);
        fail(&th, &clock, "x2", a);
        assert!(!allowed(&th, &clock, "bystander", a));
    }

    #[test]
    fn usernames_and_addresses_are_limited_separately() {
        let (th, clock) = (LoginThrottle::default(), clock());
        let a = ip("192.0.2.7");
        let b = ip("198.51.100.1");
        // 5 failures on one username from address A lock the username everywhere...
        for _ in 0..5 {
            fail(&th, &clock, "victim", a);
        }
        assert!(!allowed(&th, &clock, "victim", b));
        assert!(!allowed(&th, &clock, "victim", None));
        // ...but not other users from the same address, until the address has 20 failures.
        assert!(allowed(&th, &clock, "colleague", a));
        for i in 0..15 {
            assert!(
                allowed(&th, &clock, "colleague", a),
                "after {} failures",
                5 + i
            );
            fail(&th, &clock, &format!("guess{i}"), a);
        }
        let r = th.begin("colleague", a, clock.now()).err().unwrap();
        assert_eq!(r.retry_after_secs, 15 * 60);
        // Other addresses are unaffected.
        assert!(allowed(&th, &clock, "colleague", b));
        // A whole IPv6 /64 is one client; another /64 is another.
        for i in 0..20 {
            fail(
                &th,
                &clock,
                &format!("v6-{i}"),
                ip(&format!("2001:db8:0:1::{i:x}")),
            );
        }
        assert!(!allowed(
            &th,
            &clock,
            "colleague",
            ip("2001:db8:0:1:ffff::1")
        ));
        assert!(allowed(&th, &clock, "colleague", ip("2001:db8:0:2::1")));
        // An IPv4-mapped IPv6 address is the IPv4 address.
        assert!(!allowed(&th, &clock, "colleague", ip("::ffff:192.0.2.7")));
    }

    #[test]
    fn a_zero_limit_turns_that_limit_off() {
        let th = LoginThrottle::new(ThrottleLimits {
            max_failures_per_ip: 0,
            ..ThrottleLimits::default()
        });
        let clock = clock();
        for i in 0..50 {
            fail(&th, &clock, &format!("u{i}"), ip("192.0.2.7"));
        }
        assert!(allowed(&th, &clock, "someone", ip("192.0.2.7")));
        assert_eq!(th.len(), 50, "only usernames are tracked");
    }

    #[test]
    fn concurrent_attempts_count_against_the_limit() {
        let (th, clock) = (LoginThrottle::default(), clock());
        let now = clock.now();
        let pending: Vec<_> = (0..5)
            .map(|_| th.begin("admin", None, now).unwrap())
            .collect();
        // Five guesses in flight: a sixth must wait for them.
        assert_eq!(
            th.begin("admin", None, now).err().unwrap().retry_after_secs,
            1
        );
        // Unsettled attempts (a store error) count as nothing.
        drop(pending);
        assert!(th.is_empty());
        assert!(allowed(&th, &clock, "admin", None));
    }

    #[test]
    fn expired_entries_are_swept() {
        let (th, clock) = (LoginThrottle::default(), clock());
        for i in 0..10 {
            fail(&th, &clock, &format!("u{i}"), ip("192.0.2.7"));
        }
        assert_eq!(th.len(), 11);
        clock.advance(Duration::minutes(16));
        // The next attempt sweeps; a successful one leaves nothing behind.
        th.begin("admin", ip("192.0.2.8"), clock.now())
            .unwrap()
            .succeeded();
        assert!(th.is_empty(), "{th:?}");
    }

    #[test]
    fn a_full_table_evicts_the_least_recently_seen_keys() {
        let th = LoginThrottle::new(ThrottleLimits {
            max_failures_per_username: 1,
            max_keys: 3,
            ..ThrottleLimits::default()
        });
        let clock = clock();
        for user in ["a", "b", "c"] {
            fail(&th, &clock, user, None);
            clock.advance(Duration::seconds(1));
        }
        assert_eq!(th.len(), 3);
        // A refused attempt on "a" makes it the most recently seen.
        assert!(!allowed(&th, &clock, "a", None));
        clock.advance(Duration::seconds(1));
        fail(&th, &clock, "d", None);
        assert_eq!(th.len(), 3);
        // "b" was the oldest: evicted, so it may try again; the others are still locked.
        for user in ["a", "c", "d"] {
            assert!(!allowed(&th, &clock, user, None), "{user}");
        }
        assert!(allowed(&th, &clock, "b", None));
    }

    #[test]
    fn eviction_stays_within_the_cap_under_a_flood() {
        let th = LoginThrottle::new(ThrottleLimits {
            max_failures_per_username: 1,
            max_keys: 1000,
            ..ThrottleLimits::default()
        });
        let clock = clock();
        for i in 0..10_000u32 {
            let addr = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            fail(&th, &clock, &format!("u{i}"), Some(addr));
            assert!(th.len() <= 1000);
            clock.advance(Duration::milliseconds(1));
        }
        assert!(th.len() > 900);
        // The most recent keys are the ones kept; the oldest were evicted.
        assert!(!allowed(&th, &clock, "u9999", None));
        assert!(allowed(&th, &clock, "u0", None));
    }
}
