//! The budgets: `governor`'s GCRA ([`RateLimiter`]) over a bounded table of this crate's own,
//! plugged in through governor's [`StateStore`] trait. The table adds two things governor's
//! stores lack: a look that never consumes (a throttled key is refused before any check, and a
//! key that is fine must not spend a failure on a request that may succeed), and a hard bound
//! on the number of keys.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use governor::clock::{Clock, MonotonicClock, Reference};
use governor::middleware::{NoOpMiddleware, StateInformationMiddleware};
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::{NotUntil, Quota, RateLimiter};

use super::AuthFailureLimits;
use super::keys::{AddressKey, CredentialKey};

/// A key, and whether this decision charges a failure or only looks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Probe<K> {
    key: K,
    charge: bool,
}

/// A theoretical arrival time that never conforms: a table without room answers with it.
const NEVER: u64 = u64::MAX / 4;

/// Each key's GCRA state (its theoretical arrival time, in nanoseconds since the limiter
/// started; 0 for "fresh"), at most `capacity` keys.
struct Table<K> {
    cells: RwLock<HashMap<K, AtomicU64>>,
    /// `cells.len()`, readable without the lock (the empty table costs no lock).
    len: AtomicUsize,
    capacity: usize,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(capacity: usize) -> Self {
        Table {
            cells: RwLock::new(HashMap::new()),
            len: AtomicUsize::new(0),
            capacity: capacity.max(1),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<K, AtomicU64>> {
        self.cells.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<K, AtomicU64>> {
        self.cells.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether `key` is new and there is no room for it.
    fn no_room_for(&self, key: &K) -> bool {
        self.len() >= self.capacity && !self.read().contains_key(key)
    }
}

/// Runs the GCRA decision `f` on one cell: a look returns its outcome and changes nothing; a
/// charge stores the new state (compare-and-swap until no other decision raced it).
fn measure<T, E, F>(cell: &AtomicU64, charge: bool, f: &F) -> Result<T, E>
where
    F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
{
    let mut prev = cell.load(Ordering::Acquire);
    loop {
        let (out, next) = f(NonZeroU64::new(prev).map(|n| Nanos::from(n.get())))?;
        if !charge {
            return Ok(out);
        }
        match cell.compare_exchange_weak(prev, next.as_u64(), Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Ok(out),
            Err(current) => prev = current,
        }
    }
}

/// The table as governor sees it (shared with the [`Budget`] that sweeps and sizes it).
struct Shared<K>(Arc<Table<K>>);

impl<K: Hash + Eq + Clone> StateStore for Shared<K> {
    type Key = Probe<K>;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe<K>, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let table = &self.0;
        if table.len() > 0 {
            let cells = table.read();
            if let Some(cell) = cells.get(&probe.key) {
                return measure(cell, probe.charge, &f);
            }
        }
        if !probe.charge {
            // An untracked key has its whole budget: look without making an entry.
            return f(None).map(|(out, _)| out);
        }
        let mut cells = table.write();
        if let Some(cell) = cells.get(&probe.key) {
            return measure(cell, true, &f);
        }
        if cells.len() >= table.capacity {
            // No room (the budget checked for room before charging; another key took the last
            // place meanwhile): a state that never conforms, so this failure is over budget.
            return f(Some(Nanos::from(NEVER))).map(|(out, _)| out);
        }
        let cell = AtomicU64::new(0);
        let out = measure(&cell, true, &f)?;
        cells.insert(probe.key.clone(), cell);
        table.len.store(cells.len(), Ordering::Release);
        Ok(out)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<Probe<K>> for Shared<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        let mut cells = self.0.write();
        cells.retain(|_, tat| tat.load(Ordering::Acquire) > drop_below.as_u64());
        self.0.len.store(cells.len(), Ordering::Release);
    }

    fn shrink_to_fit(&self) {
        self.0.write().shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

/// What charging one failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Charge {
    /// Counted; `exhausted` when it spent the budget's last failure (the next attempt is
    /// refused).
    Counted { exhausted: bool },
    /// The budget was already spent: refuse, for this long.
    Over(Duration),
    /// The key is new and the table is full of live keys: refuse (fail closed), for one
    /// period, by when every entry has refilled and can be dropped.
    Full(Duration),
}

/// One budget of failures per key: `failures` in a burst, one back every `period / failures`.
pub(super) struct Budget<K: Hash + Eq + Clone, C: Clock = MonotonicClock> {
    limiter: RateLimiter<Probe<K>, Shared<K>, C, StateInformationMiddleware>,
    table: Arc<Table<K>>,
    period: Duration,
    /// `period / failures`: how often a failure comes back.
    interval: Duration,
    origin: C::Instant,
    /// When the table was last swept, in nanoseconds since `origin`.
    last_sweep: AtomicU64,
    /// `address` or `credential`, for the logs.
    name: &'static str,
    /// Whether the table was found full (logged once until a sweep makes room).
    full: AtomicBool,
}

impl<K: Hash + Eq + Clone, C: Clock> Budget<K, C> {
    /// A budget on `clock`, its settings clamped to what [`AuthFailureLimits`] accepts (a
    /// configuration that skipped `build()` still gets a working budget, never none).
    pub(super) fn new(
        name: &'static str,
        failures: u32,
        period: Duration,
        capacity: usize,
        clock: C,
    ) -> Self {
        let period = period.clamp(Duration::from_millis(1), AuthFailureLimits::MAX_PERIOD);
        let burst = NonZeroU32::new(failures).unwrap_or(NonZeroU32::MIN);
        let interval = (period / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let origin = clock.now();
        let table = Arc::new(Table::new(capacity));
        let limiter: RateLimiter<_, _, C, NoOpMiddleware<C::Instant>> =
            RateLimiter::new(quota, Shared(Arc::clone(&table)), clock);
        let limiter = limiter.with_middleware::<StateInformationMiddleware>();
        Budget {
            limiter,
            table,
            period,
            interval,
            origin,
            last_sweep: AtomicU64::new(0),
            name,
            full: AtomicBool::new(false),
        }
    }

    /// Whether no key is tracked (every key has its whole budget).
    pub(super) fn is_idle(&self) -> bool {
        self.limiter.is_empty()
    }

    /// How many keys are tracked.
    #[cfg(test)]
    pub(super) fn tracked(&self) -> usize {
        self.limiter.len()
    }

    fn elapsed_nanos(&self) -> u64 {
        self.limiter
            .clock()
            .now()
            .duration_since(self.origin)
            .as_u64()
    }

    /// How long until `not_until` allows a failure again, at most one period.
    fn wait(&self, not_until: &NotUntil<C::Instant>) -> Duration {
        not_until
            .wait_time_from(self.limiter.clock().now())
            .min(self.period)
    }

    /// `Some(wait)` when `key` has spent its budget. Consumes nothing; costs nothing (not even
    /// a clock reading) while no key is tracked.
    pub(super) fn throttled(&self, key: &K) -> Option<Duration> {
        if self.is_idle() {
            return None;
        }
        let probe = Probe {
            key: key.clone(),
            charge: false,
        };
        match self.limiter.check_key(&probe) {
            Ok(_) => None,
            Err(not_until) => Some(self.wait(&not_until).max(Duration::from_nanos(1))),
        }
    }

    /// Charges one failure to `key`.
    pub(super) fn charge(&self, key: &K) -> Charge {
        self.sweep_if_due(false);
        if self.table.no_room_for(key) {
            self.sweep_if_due(true);
            if self.table.no_room_for(key) {
                if !self.full.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        target: "mcp::auth",
                        budget = self.name,
                        tracked = self.table.len(),
                        "the failed-authentication table is full of live entries: failed \
                         authentications of new keys are refused with 429 (fail closed) until \
                         entries refill"
                    );
                }
                return Charge::Full(self.period);
            }
        }
        let probe = Probe {
            key: key.clone(),
            charge: true,
        };
        match self.limiter.check_key(&probe) {
            Ok(snapshot) => Charge::Counted {
                exhausted: snapshot.remaining_burst_capacity() == 0,
            },
            Err(not_until) => Charge::Over(self.wait(&not_until).max(Duration::from_nanos(1))),
        }
    }

    /// Drops the keys whose budget is whole again (governor's `retain_recent`) and gives memory
    /// back: once per period, or, when the table is full, once per refill interval (so that a
    /// flood against a full table cannot make every request sweep it).
    fn sweep_if_due(&self, full: bool) {
        let now = self.elapsed_nanos();
        let last = self.last_sweep.load(Ordering::Acquire);
        let gap = if full { self.interval } else { self.period };
        let gap = u64::try_from(gap.as_nanos()).unwrap_or(u64::MAX);
        if now.saturating_sub(last) < gap {
            return;
        }
        // One sweeper at a time; the others go on.
        if self
            .last_sweep
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
            if self.table.len() < self.table.capacity {
                self.full.store(false, Ordering::Relaxed);
            }
        }
    }
}

/// Which budget refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucket {
    /// The client address's.
    Address,
    /// The credential's.
    Credential,
}

impl Bucket {
    /// `address` or `credential`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Bucket::Address => "address",
            Bucket::Credential => "credential",
        }
    }
}

/// Why a request is refused with 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The budget that refused (the address's when both did).
    pub(crate) bucket: Bucket,
    /// How long until one more failure is allowed.
    pub(crate) retry_after: Duration,
    /// Whether the table was full of live keys (fail closed for a new key).
    pub(crate) table_full: bool,
}

impl Refusal {
    /// `Retry-After` in whole seconds, rounded up, at least 1.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        let d = self.retry_after;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }

    /// The refusal that waits longest.
    fn max(a: Option<Refusal>, b: Option<Refusal>) -> Option<Refusal> {
        match (a, b) {
            (Some(a), Some(b)) if b.retry_after > a.retry_after => Some(b),
            (Some(a), _) => Some(a),
            (None, b) => b,
        }
    }
}

/// What charging a failure did, for the caller to log and answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Charged {
    /// `Some` when the failure is over budget: answer 429.
    pub(crate) refusal: Option<Refusal>,
    /// The budgets this failure emptied (the next attempt is refused).
    pub(crate) exhausted: [Option<Bucket>; 2],
}

/// The budgets of one authorization configuration, shared by every endpoint and route built
/// from it.
pub(crate) struct FailureGuard<C: Clock = MonotonicClock> {
    addresses: Option<Budget<AddressKey, C>>,
    credentials: Option<Budget<CredentialKey, C>>,
    /// Whether the "no peer address" warning was logged.
    warned_no_peer: AtomicBool,
}

impl std::fmt::Debug for FailureGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureGuard")
            .field("addresses", &self.addresses.as_ref().map(|b| b.table.len()))
            .field(
                "credentials",
                &self.credentials.as_ref().map(|b| b.table.len()),
            )
            .finish()
    }
}

impl FailureGuard {
    /// The budgets of `limits`; `None` when they are disabled.
    pub(crate) fn new(limits: &AuthFailureLimits) -> Option<Self> {
        Self::with_clock(limits, MonotonicClock)
    }
}

impl<C: Clock + Clone> FailureGuard<C> {
    /// The budgets of `limits` on `clock`.
    pub(crate) fn with_clock(limits: &AuthFailureLimits, clock: C) -> Option<Self> {
        if !limits.is_enabled() {
            return None;
        }
        let cap = limits.max_tracked_keys();
        Some(FailureGuard {
            addresses: limits
                .address_budget()
                .map(|(n, period)| Budget::new("address", n, period, cap, clock.clone())),
            credentials: limits
                .credential_budget()
                .map(|(n, period)| Budget::new("credential", n, period, cap, clock.clone())),
            warned_no_peer: AtomicBool::new(false),
        })
    }

    /// Whether a credential's key is worth computing to look it up: some credential has spent
    /// failures (an idle table answers "within budget" for every key).
    pub(crate) fn tracks_credentials(&self) -> bool {
        self.credentials.as_ref().is_some_and(|b| !b.is_idle())
    }

    /// Whether failures are budgeted per credential.
    pub(crate) fn limits_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// `Some` when the address or the credential has spent its budget. Consumes nothing.
    pub(crate) fn check(
        &self,
        address: Option<AddressKey>,
        credential: Option<CredentialKey>,
    ) -> Option<Refusal> {
        let refusal = |bucket, wait| Refusal {
            bucket,
            retry_after: wait,
            table_full: false,
        };
        let a = self
            .addresses
            .as_ref()
            .zip(address)
            .and_then(|(b, k)| b.throttled(&k))
            .map(|w| refusal(Bucket::Address, w));
        let c = self
            .credentials
            .as_ref()
            .zip(credential)
            .and_then(|(b, k)| b.throttled(&k))
            .map(|w| refusal(Bucket::Credential, w));
        Refusal::max(a, c)
    }

    /// Charges one failure to the address and to the credential (each when known and
    /// budgeted).
    pub(crate) fn charge(
        &self,
        address: Option<AddressKey>,
        credential: Option<CredentialKey>,
    ) -> Charged {
        let mut out = Charged::default();
        let mut record = |bucket, charge| match charge {
            Charge::Counted { exhausted: true } => out.exhausted[bucket as usize] = Some(bucket),
            Charge::Counted { exhausted: false } => {}
            Charge::Over(wait) | Charge::Full(wait) => {
                let r = Refusal {
                    bucket,
                    retry_after: wait,
                    table_full: matches!(charge, Charge::Full(_)),
                };
                out.refusal = Refusal::max(out.refusal, Some(r));
            }
        };
        if let Some((b, k)) = self.addresses.as_ref().zip(address) {
            record(Bucket::Address, b.charge(&k));
        }
        if let Some((b, k)) = self.credentials.as_ref().zip(credential) {
            record(Bucket::Credential, b.charge(&k));
        }
        out
    }

    /// Whether this is the first request seen without a peer address (to warn once).
    pub(crate) fn first_without_peer(&self) -> bool {
        self.addresses.is_some()
            && !self.warned_no_peer.load(Ordering::Relaxed)
            && !self.warned_no_peer.swap(true, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CredentialKind;
    use governor::clock::FakeRelativeClock;

    fn addr(i: u32) -> AddressKey {
        AddressKey::of(std::net::IpAddr::V4(std::net::Ipv4Addr::from(i)))
    }

    fn budget(
        n: u32,
        period_ms: u64,
        cap: usize,
    ) -> (Budget<AddressKey, FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let b = Budget::new(
            "test",
            n,
            Duration::from_millis(period_ms),
            cap,
            clock.clone(),
        );
        (b, clock)
    }

    #[test]
    fn looking_never_consumes_and_only_charges_spend() {
        let (b, _) = budget(3, 3000, 10);
        for _ in 0..100 {
            assert_eq!(b.throttled(&addr(1)), None);
        }
        assert!(b.is_idle(), "a look makes no entry");
        assert_eq!(b.charge(&addr(1)), Charge::Counted { exhausted: false });
        assert_eq!(b.charge(&addr(1)), Charge::Counted { exhausted: false });
        assert_eq!(b.charge(&addr(1)), Charge::Counted { exhausted: true });
        let wait = b.throttled(&addr(1)).unwrap();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(matches!(b.charge(&addr(1)), Charge::Over(_)));
        assert_eq!(b.throttled(&addr(2)), None, "other keys keep their budget");
    }

    #[test]
    fn the_budget_refills_one_failure_per_interval() {
        let (b, clock) = budget(2, 2000, 10);
        b.charge(&addr(1));
        b.charge(&addr(1));
        assert!(b.throttled(&addr(1)).is_some());
        clock.advance(Duration::from_millis(999));
        assert!(b.throttled(&addr(1)).is_some());
        clock.advance(Duration::from_millis(1));
        assert_eq!(
            b.throttled(&addr(1)),
            None,
            "one failure back after period / n"
        );
        assert_eq!(b.charge(&addr(1)), Charge::Counted { exhausted: true });
        clock.advance(Duration::from_millis(2000));
        assert_eq!(b.charge(&addr(1)), Charge::Counted { exhausted: false });
    }

    #[test]
    fn the_table_is_bounded_fails_closed_and_is_swept() {
        let (b, clock) = budget(5, 1000, 3);
        for i in 0..3 {
            assert!(matches!(b.charge(&addr(i)), Charge::Counted { .. }));
        }
        // Full of live keys: a new key's failure is refused for one period; tracked keys are
        // charged as usual; nothing grows.
        for i in 3..1000 {
            assert_eq!(b.charge(&addr(i)), Charge::Full(Duration::from_secs(1)));
        }
        assert_eq!(b.tracked(), 3);
        assert!(matches!(b.charge(&addr(0)), Charge::Counted { .. }));
        // Looks stay free, for tracked and untracked keys.
        assert_eq!(b.throttled(&addr(999)), None);
        // Once the entries refilled, a sweep makes room.
        clock.advance(Duration::from_secs(2));
        assert!(matches!(b.charge(&addr(7)), Charge::Counted { .. }));
        assert_eq!(b.tracked(), 1, "refilled keys were dropped");
    }

    #[test]
    fn entries_are_dropped_once_per_period() {
        let (b, clock) = budget(2, 1000, 100);
        for i in 0..50 {
            b.charge(&addr(i));
        }
        assert_eq!(b.tracked(), 50);
        clock.advance(Duration::from_secs(3));
        b.charge(&addr(1000));
        assert_eq!(b.tracked(), 1);
    }

    #[test]
    fn the_guard_charges_both_budgets_and_reports_the_longest_wait() {
        let limits = AuthFailureLimits::new()
            .per_address(2, Duration::from_secs(2))
            .per_credential(3, Duration::from_secs(30));
        let clock = FakeRelativeClock::default();
        let g = FailureGuard::with_clock(&limits, clock.clone()).unwrap();
        let cred = CredentialKey::of(CredentialKind::Basic, "ada");
        assert!(!g.tracks_credentials());
        assert_eq!(g.check(Some(addr(1)), Some(cred)), None);
        let c = g.charge(Some(addr(1)), Some(cred));
        assert_eq!(c.refusal, None);
        assert!(g.tracks_credentials());
        let c = g.charge(Some(addr(1)), Some(cred));
        assert_eq!(c.exhausted, [Some(Bucket::Address), None]);
        let r = g.check(Some(addr(1)), None).unwrap();
        assert_eq!(r.bucket, Bucket::Address);
        assert_eq!(r.retry_after_secs(), 1);
        // From other addresses, the credential's budget still runs out.
        let c = g.charge(Some(addr(2)), Some(cred));
        assert_eq!(c.exhausted, [None, Some(Bucket::Credential)]);
        let r = g.check(Some(addr(3)), Some(cred)).unwrap();
        assert_eq!(r.bucket, Bucket::Credential);
        assert_eq!(r.retry_after_secs(), 10);
        // Both: the longest wait wins.
        let r = g.check(Some(addr(1)), Some(cred)).unwrap();
        assert_eq!(r.bucket, Bucket::Credential);
        // Without an address, only the credential counts.
        assert_eq!(
            g.check(None, Some(CredentialKey::of(CredentialKind::Basic, "bob"))),
            None
        );
        let c = g.charge(None, Some(cred));
        assert!(c.refusal.is_some_and(|r| r.bucket == Bucket::Credential));
        assert!(g.first_without_peer());
        assert!(!g.first_without_peer());
        assert!(FailureGuard::with_clock(&AuthFailureLimits::disabled(), clock).is_none());
    }

    #[test]
    fn retry_after_rounds_up() {
        let r = |ms| Refusal {
            bucket: Bucket::Address,
            retry_after: Duration::from_millis(ms),
            table_full: false,
        };
        assert_eq!(r(1).retry_after_secs(), 1);
        assert_eq!(r(1000).retry_after_secs(), 1);
        assert_eq!(r(1001).retry_after_secs(), 2);
        assert_eq!(r(0).retry_after_secs(), 1);
    }
}
