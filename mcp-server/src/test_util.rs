//! What several unit tests share.

use std::time::Duration;

/// Waits (at most ~10 s) until `cond` holds: the tests count, they do not time.
pub(crate) async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    #[allow(clippy::panic)]
    {
        panic!("condition never held");
    }
}
