//! [`NotReady`]: why a store, a token validator or an application check cannot serve now, as
//! the readiness endpoint of the HTTP transport reports it.

use std::borrow::Cow;
#[cfg(feature = "http")]
use std::sync::Arc;

#[cfg(feature = "http")]
use crate::BoxFuture;

/// A readiness check the endpoint can call on each round.
#[cfg(feature = "http")]
pub(crate) type ReadinessFn =
    Arc<dyn Fn() -> BoxFuture<'static, Result<(), NotReady>> + Send + Sync>;

/// The readiness check `check` of a shared `target` (a store's or a validator's `readiness`).
#[cfg(feature = "http")]
pub(crate) fn readiness_of<T: ?Sized + Send + Sync + 'static>(
    target: &Arc<T>,
    check: for<'a> fn(&'a T) -> BoxFuture<'a, Result<(), NotReady>>,
) -> ReadinessFn {
    let target = Arc::clone(target);
    Arc::new(move || {
        let target = Arc::clone(&target);
        Box::pin(async move { check(&target).await })
    })
}

/// Why something the server depends on cannot serve now (a store that does not answer, a token
/// validator without signing keys, an application check that failed): the answer of the
/// `readiness` methods of the store and validator traits, and of the application's own
/// readiness checks.
///
/// The reason is published, unauthenticated, in the body of the readiness endpoint
/// (`{"checks":{"<name>":"unavailable: <reason>"}}`): keep it short and free of secrets (no
/// URLs with credentials, no tokens, no passwords). It is cut to
/// [`MAX_REASON_CHARS`](Self::MAX_REASON_CHARS) characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NotReady {
    reason: Cow<'static, str>,
}

impl NotReady {
    /// The longest reason kept, in characters; the rest is cut.
    pub const MAX_REASON_CHARS: usize = 160;

    /// Not ready, for `reason` (short, no secrets; cut to
    /// [`MAX_REASON_CHARS`](Self::MAX_REASON_CHARS) characters).
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        let reason = reason.into();
        let reason = match reason.char_indices().nth(Self::MAX_REASON_CHARS) {
            Some((cut, _)) => Cow::Owned(reason[..cut].to_owned()),
            None => reason,
        };
        NotReady { reason }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let r = NotReady::new("é".repeat(500));
        assert_eq!(r.reason().chars().count(), NotReady::MAX_REASON_CHARS);
        assert_eq!(NotReady::new("down").to_string(), "down");
    }
}
