//! Multi-round-trip requests (2026-07-28, L-75..L-77): a handler asks the client for input
//! (elicitation, sampling, roots) through the same [`Context`](crate::Context) calls as in the
//! legacy era; on the modern wire the framework answers `input_required` with the questions and
//! a tamper-proof `requestState`, and runs the handler again when the client retries with
//! `inputResponses`, this time with the answers.
//!
//! `requestState` is `base64url(payload) "." base64url(HMAC-SHA256(payload))`. The payload holds
//! the answers collected so far, an expiry, a digest of the originating request (method, name,
//! arguments) and the caller's principal, so a state cannot be replayed on another request, by
//! another caller, or after it expires (L-76).

use crate::clock::now_secs;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::crypto::{HmacKey, Sha256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_core::types::{ClientCapabilities, InputRequest, InputRequests, JsonObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The input side of one modern request that may ask the client for more.
#[derive(Debug, Default)]
pub(crate) struct InputRound {
    answers: JsonObject,
    asked: Mutex<InputRequests>,
    missing: Mutex<ClientCapabilities>,
    any_missing: AtomicBool,
    next_key: AtomicUsize,
}

/// What a finished round asks of the transport.
pub(crate) enum RoundOutcome {
    /// The handler got what it needed; use its result.
    Complete,
    /// Ask the client these questions and come back (`input_required`).
    InputRequired {
        requests: InputRequests,
        answers: JsonObject,
    },
    /// The handler needs capabilities the request did not declare (`-32021`).
    MissingCapabilities(ClientCapabilities),
}

impl InputRound {
    pub fn new(answers: JsonObject) -> Self {
        InputRound {
            answers,
            ..Default::default()
        }
    }

    /// A key for a question the handler did not name: `<kind>-<n>` in call order.
    pub fn auto_key(&self, kind: &str) -> String {
        format!("{kind}-{}", self.next_key.fetch_add(1, Ordering::Relaxed))
    }

    /// The client's answer to `key`, if it gave one.
    pub fn answer(&self, key: &str) -> Option<&Value> {
        self.answers.get(key)
    }

    /// Records a question for the client.
    pub fn ask(&self, key: String, request: InputRequest) {
        lock(&self.asked).insert(key, request);
    }

    /// Records a capability the handler needs but the request did not declare.
    pub fn require(&self, capability: &str) {
        let mut missing = lock(&self.missing);
        let empty = Some(JsonObject::new());
        match capability {
            "elicitation" => missing.elicitation = empty,
            "sampling" => missing.sampling = empty,
            "roots" => missing.roots = Some(Default::default()),
            _ => return,
        }
        self.any_missing.store(true, Ordering::Relaxed);
    }

    /// Whether the handler asked the client something or lacked a capability (without
    /// consuming the round, unlike [`outcome`](Self::outcome)).
    pub fn is_pending(&self) -> bool {
        self.any_missing.load(Ordering::Relaxed) || !lock(&self.asked).is_empty()
    }

    /// What the round ended with, once the handler returned.
    pub fn outcome(&self) -> RoundOutcome {
        if self.any_missing.load(Ordering::Relaxed) {
            return RoundOutcome::MissingCapabilities(std::mem::take(&mut *lock(&self.missing)));
        }
        let requests = std::mem::take(&mut *lock(&self.asked));
        if requests.is_empty() {
            RoundOutcome::Complete
        } else {
            RoundOutcome::InputRequired {
                requests,
                answers: self.answers.clone(),
            }
        }
    }
}

/// Why no random `requestState` key could be made: the operating system's random number
/// generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed: no request-state key")]
pub(crate) struct StateKeyError;

/// Why a `requestState` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    #[error("requestState is malformed")]
    Malformed,
    #[error("requestState failed its integrity check")]
    Forged,
    #[error("requestState has expired")]
    Expired,
    #[error("requestState belongs to another request")]
    OtherRequest,
    #[error("requestState belongs to another caller")]
    OtherCaller,
}

#[derive(Serialize, Deserialize)]
struct StatePayload {
    v: u8,
    exp: u64,
    req: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    who: Option<String>,
    ans: JsonObject,
}

/// Seals and opens `requestState` values with a server key.
pub(crate) struct StateCodec {
    key: HmacKey,
    ttl: Duration,
}

impl std::fmt::Debug for StateCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateCodec")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A digest naming one request: method, target and arguments.
pub(crate) fn request_digest<A: Serialize>(
    method: &str,
    target: &str,
    arguments: Option<&A>,
) -> String {
    let mut ctx = Sha256::new();
    ctx.update(method.as_bytes());
    ctx.update(b"\0");
    ctx.update(target.as_bytes());
    ctx.update(b"\0");
    if let Some(args) = arguments {
        if let Ok(bytes) = serde_json::to_vec(args) {
            ctx.update(&bytes);
        }
    }
    URL_SAFE_NO_PAD.encode(ctx.finish())
}

impl StateCodec {
    /// A codec with this 32-byte key; states live for `ttl`.
    pub fn new(key: &[u8], ttl: Duration) -> Self {
        StateCodec {
            key: HmacKey::new(key),
            ttl,
        }
    }

    /// A codec with a random key (states do not survive a restart or cross instances). Fails
    /// when the operating system has no randomness: a key guessable from the clock would let
    /// anyone forge states, so there is no fallback.
    pub fn random(ttl: Duration) -> Result<Self, StateKeyError> {
        Self::random_from(ttl, getrandom::fill)
    }

    /// [`random`](Self::random) with the randomness source given (tests simulate its failure).
    fn random_from<E>(
        ttl: Duration,
        fill: impl FnOnce(&mut [u8]) -> Result<(), E>,
    ) -> Result<Self, StateKeyError> {
        let mut key = [0u8; 32];
        fill(&mut key).map_err(|_| StateKeyError)?;
        Ok(Self::new(&key, ttl))
    }

    pub fn seal(&self, request: &str, who: Option<&str>, answers: JsonObject) -> String {
        let payload = StatePayload {
            v: 1,
            exp: now_secs() + self.ttl.as_secs(),
            req: request.to_owned(),
            who: who.map(str::to_owned),
            ans: answers,
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let tag = self.key.sign(body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    pub fn open(
        &self,
        state: &str,
        request: &str,
        who: Option<&str>,
    ) -> Result<JsonObject, StateError> {
        let (body, tag) = state.split_once('.').ok_or(StateError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| StateError::Forged)?;
        if !self.key.verify(body.as_bytes(), &tag) {
            return Err(StateError::Forged);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| StateError::Malformed)?;
        let payload: StatePayload =
            serde_json::from_slice(&bytes).map_err(|_| StateError::Malformed)?;
        if payload.v != 1 {
            return Err(StateError::Malformed);
        }
        if payload.exp < now_secs() {
            return Err(StateError::Expired);
        }
        if payload.req != request {
            return Err(StateError::OtherRequest);
        }
        if payload.who.as_deref() != who {
            return Err(StateError::OtherCaller);
        }
        Ok(payload.ans)
    }
}

/// Merges the answers carried by a verified state with those of the retry (the retry wins).
pub(crate) fn merge_answers(
    mut from_state: JsonObject,
    from_retry: Option<JsonObject>,
) -> JsonObject {
    if let Some(retry) = from_retry {
        from_state.extend(retry);
    }
    from_state
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answers() -> JsonObject {
        json!({"user_name": {"action": "accept", "content": {"name": "Ada"}}})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn a_sealed_state_opens_only_for_its_request_and_caller() {
        let codec = StateCodec::new(&[7; 32], Duration::from_secs(60));
        let req = request_digest::<()>("tools/call", "t", None);
        let state = codec.seal(&req, Some("alice"), answers());
        assert_eq!(codec.open(&state, &req, Some("alice")).unwrap(), answers());
        let other = request_digest::<()>("tools/call", "u", None);
        assert_eq!(
            codec.open(&state, &other, Some("alice")),
            Err(StateError::OtherRequest)
        );
        assert_eq!(
            codec.open(&state, &req, Some("bob")),
            Err(StateError::OtherCaller)
        );
    }

    #[test]
    fn any_change_to_a_state_is_detected() {
        let codec = StateCodec::new(&[7; 32], Duration::from_secs(60));
        let req = request_digest::<()>("tools/call", "t", None);
        let state = codec.seal(&req, None, answers());
        assert_eq!(
            codec.open(&format!("{state}-TAMPERED"), &req, None),
            Err(StateError::Forged)
        );
        let mut bytes = state.clone().into_bytes();
        bytes[3] ^= 1;
        let flipped = String::from_utf8(bytes).unwrap();
        assert!(codec.open(&flipped, &req, None).is_err());
        let other_key = StateCodec::new(&[8; 32], Duration::from_secs(60));
        assert_eq!(other_key.open(&state, &req, None), Err(StateError::Forged));
        assert_eq!(codec.open("nodot", &req, None), Err(StateError::Malformed));
    }

    #[test]
    fn expired_states_are_refused() {
        let codec = StateCodec::new(&[7; 32], Duration::from_secs(0));
        let req = request_digest::<()>("tools/call", "t", None);
        let state = codec.seal(&req, None, JsonObject::new());
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(codec.open(&state, &req, None), Err(StateError::Expired));
    }

    /// Finding 6: without OS randomness there is no codec (no key derived from the clock).
    #[test]
    fn no_randomness_means_no_codec_never_a_clock_derived_key() {
        let failing = |_: &mut [u8]| Err(());
        assert_eq!(
            StateCodec::random_from(Duration::from_secs(60), failing).map(|_| ()),
            Err(StateKeyError)
        );
        let a = StateCodec::random(Duration::from_secs(60)).unwrap();
        let b = StateCodec::random(Duration::from_secs(60)).unwrap();
        let req = request_digest::<()>("tools/call", "t", None);
        let state = a.seal(&req, None, JsonObject::new());
        assert!(a.open(&state, &req, None).is_ok());
        assert_eq!(b.open(&state, &req, None), Err(StateError::Forged));
    }

    #[test]
    fn digests_depend_on_the_arguments() {
        let a = json!({"x": 1}).as_object().cloned();
        let b = json!({"x": 2}).as_object().cloned();
        assert_ne!(
            request_digest("m", "t", a.as_ref()),
            request_digest("m", "t", b.as_ref())
        );
    }
}
