//! Single flight: identical concurrent calls to an authorization server share one call. The
//! first caller of a key makes the call, every other caller of the same key awaits its outcome
//! (introspections of one token, exchanges of one token for one target). No lock is held across
//! the network; a caller that leaves (done or cancelled) removes the flight once nobody else
//! waits for it or it has its outcome, so the table holds only calls in progress.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// A SHA-256 digest naming one call.
pub(crate) type FlightKey = [u8; 32];

/// The calls in flight, by key: a second caller awaits the first one's outcome.
pub(crate) type Flights<T> = Mutex<HashMap<FlightKey, Arc<OnceCell<T>>>>;

/// One caller's share of a flight; dropping it leaves the flight.
pub(crate) struct FlightTicket<'a, T> {
    flights: &'a Flights<T>,
    key: FlightKey,
    cell: Option<Arc<OnceCell<T>>>,
}

impl<'a, T> FlightTicket<'a, T> {
    /// Joins the flight of `key`, starting it when there is none.
    pub(crate) fn join(flights: &'a Flights<T>, key: FlightKey) -> Self {
        let mut map = flights.lock().unwrap_or_else(|e| e.into_inner());
        let cell = Arc::clone(map.entry(key).or_default());
        FlightTicket {
            flights,
            key,
            cell: Some(cell),
        }
    }

    /// The shared outcome: initialise it with `get_or_init` (the first caller runs the call;
    /// if it is cancelled, the next waiter runs it).
    pub(crate) fn cell(&self) -> Option<&OnceCell<T>> {
        self.cell.as_deref()
    }
}

impl<T> Drop for FlightTicket<'_, T> {
    fn drop(&mut self) {
        let mut map = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        let Some(mine) = self.cell.take() else {
            return;
        };
        let ptr = Arc::as_ptr(&mine);
        // Our share goes first, under the lock, so the count below is exact.
        drop(mine);
        let finished = map.get(&self.key).is_some_and(|cell| {
            Arc::as_ptr(cell) == ptr && (cell.initialized() || Arc::strong_count(cell) == 1)
        });
        if finished {
            map.remove(&self.key);
        }
    }
}
