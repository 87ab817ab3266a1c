//! What arrives from the server besides responses: notifications go to the progress callback of
//! their request and to every [`NotificationStream`](crate::NotificationStream); requests go to
//! the client's handlers and come back as the message to send in reply. Every transport feeds
//! the same [`Incoming`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use mcp_core::jsonrpc::{ErrorResponse, Message, Notification, Request, Response};
use mcp_core::types::ProgressToken;
use tokio::sync::broadcast;

use crate::handlers::Handlers;
use crate::notifications::ServerNotification;
use crate::options::ProgressCallback;

/// How many notifications a slow [`NotificationStream`](crate::NotificationStream) may lag.
const NOTIFICATION_BUFFER: usize = 256;

pub(crate) struct Incoming {
    pub handlers: Handlers,
    progress: Mutex<HashMap<ProgressToken, ProgressCallback>>,
    events: broadcast::Sender<ServerNotification>,
}

impl Incoming {
    pub fn new(handlers: Handlers) -> Arc<Self> {
        let (events, _) = broadcast::channel(NOTIFICATION_BUFFER);
        Arc::new(Incoming {
            handlers,
            progress: Mutex::new(HashMap::new()),
            events,
        })
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, HashMap<ProgressToken, ProgressCallback>> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Routes `notifications/progress` for `token` to `callback` until the guard drops.
    pub fn track_progress(
        self: &Arc<Self>,
        token: ProgressToken,
        callback: ProgressCallback,
    ) -> ProgressGuard {
        self.progress().insert(token.clone(), callback);
        ProgressGuard {
            incoming: Arc::clone(self),
            token,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ServerNotification> {
        self.events.subscribe()
    }

    /// Handles a notification from the server.
    pub fn notification(&self, n: Notification) {
        let typed = ServerNotification::from_notification(n);
        if let ServerNotification::Progress(p) = &typed {
            let callback = self.progress().get(&p.progress_token).cloned();
            if let Some(cb) = callback {
                cb(p.clone());
            }
        }
        // No receiver is not an error: nobody asked for notifications.
        let _ = self.events.send(typed);
    }

    /// Answers a request from the server with the client's handlers.
    pub async fn request(&self, r: Request) -> Message {
        match self.handlers.answer(&r.method, r.params).await {
            Ok(result) => Message::Response(Response { id: r.id, result }),
            Err(error) => Message::Error(ErrorResponse::new(Some(r.id), error)),
        }
    }
}

/// Stops routing a request's progress when the request ends (or is dropped).
pub(crate) struct ProgressGuard {
    incoming: Arc<Incoming>,
    token: ProgressToken,
}

impl Drop for ProgressGuard {
    fn drop(&mut self) {
        self.incoming.progress().remove(&self.token);
    }
}
