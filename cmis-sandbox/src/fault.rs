//! Fault injection: make the next calls to an endpoint fail the way real platforms fail.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

/// A failure to inject into one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer HTTP 500 without doing anything.
    ServerError,
    /// Do what was asked (create the post, accept the chunk), then answer HTTP 500: the caller
    /// cannot know that it worked.
    ServerErrorAfterAccept,
    /// Answer HTTP 429 with the platform's rate-limit error (and usage headers where the platform
    /// sends them).
    RateLimited,
    /// Treat the access token as expired from now on: this call and later ones with the same
    /// token get the platform's invalid-token error.
    ExpiredToken,
    /// Wait this long before handling the call (for client timeouts).
    Delay(Duration),
    /// Do what was asked, then wait this long before answering (a timeout after acceptance).
    DelayAfterAccept(Duration),
    /// Close the connection without an answer, before doing anything.
    DropConnection,
    /// Do what was asked, then close the connection without an answer.
    DropAfterAccept,
    /// The next publish stays in processing this much longer than usual.
    SlowProcessing(Duration),
}

impl Fault {
    /// Whether the call's action is carried out before the fault shows.
    pub fn acts_first(self) -> bool {
        matches!(
            self,
            Fault::ServerErrorAfterAccept | Fault::DelayAfterAccept(_) | Fault::DropAfterAccept
        )
    }
}

/// Faults queued per endpoint, plus an optional random fault rate.
#[derive(Debug)]
pub(crate) struct Faults<E> {
    inner: Mutex<FaultState<E>>,
}

#[derive(Debug)]
struct FaultState<E> {
    queued: HashMap<E, Vec<Fault>>,
    random: Option<RandomFaults<E>>,
}

#[derive(Debug)]
struct RandomFaults<E> {
    rate: f64,
    rng: fastrand::Rng,
    faults: Vec<Fault>,
    endpoints: Vec<E>,
}

impl<E: Hash + Eq + Copy> Faults<E> {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(FaultState {
                queued: HashMap::new(),
                random: None,
            }),
        }
    }

    pub(crate) fn push(&self, endpoint: E, fault: Fault, times: u32) {
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let q = state.queued.entry(endpoint).or_default();
        for _ in 0..times {
            q.push(fault);
        }
    }

    pub(crate) fn set_random(&self, rate: f64, seed: u64, faults: Vec<Fault>, endpoints: Vec<E>) {
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        state.random = (rate > 0.0 && !faults.is_empty()).then(|| RandomFaults {
            rate: rate.clamp(0.0, 1.0),
            rng: fastrand::Rng::with_seed(seed),
            faults,
            endpoints,
        });
    }

    pub(crate) fn clear(&self) {
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        state.queued.clear();
        state.random = None;
    }

    /// The fault for this call to `endpoint`, if any: queued faults first, then a random one.
    pub(crate) fn take(&self, endpoint: E) -> Option<Fault> {
        let mut state = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = state.queued.get_mut(&endpoint)
            && !q.is_empty()
        {
            return Some(q.remove(0));
        }
        let random = state.random.as_mut()?;
        if !random.endpoints.contains(&endpoint) || random.rng.f64() >= random.rate {
            return None;
        }
        let i = random.rng.usize(..random.faults.len());
        random.faults.get(i).copied()
    }
}
