//! What a webhook delivery is: the attempt as the delivery log keeps it, and a delivery waiting
//! in the outbox. The state queues them; `webhooks` makes them.

use std::sync::Arc;
use std::time::Instant;

/// One webhook delivery attempt the simulator made (or refused), kept in
/// [`Simulator::webhook_deliveries`](super::Simulator::webhook_deliveries).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The job's `webhook_url`.
    pub url: String,
    /// The event: `job.started`, `job.completed` or `job.failed`.
    pub event: String,
    /// The `X-Webhook-Delivery-Id` sent: one per event, the same on every retry of it.
    pub delivery_id: String,
    /// Which attempt this was: 1 for the first, 2 for the first retry, ...
    pub attempt: u32,
    /// The `X-Webhook-Timestamp` sent: an ISO 8601 UTC time such as
    /// `2026-04-20T10:00:00.123Z`, as the API writes it. The signature covers this text.
    pub timestamp: String,
    /// The raw JSON body sent: `{"event": ..., "data": {the job}}`.
    pub body: Vec<u8>,
    /// The `X-Webhook-Signature` sent, `None` when the simulator has no webhook secret.
    pub signature: Option<String>,
    /// The receiver's HTTP status, or why the delivery failed or was refused
    /// (`"refused: not a loopback address"` for any host outside 127.0.0.0/8, `localhost`, `[::1]`).
    pub outcome: Result<u16, String>,
}

/// A delivery decided under the state lock, made after it is released.
#[derive(Debug, Clone)]
pub(crate) struct PendingDelivery {
    pub(crate) url: String,
    pub(crate) event: &'static str,
    pub(crate) job_id: String,
    pub(crate) delivery_id: String,
    pub(crate) body: Arc<Vec<u8>>,
}

/// A delivery in the outbox: due at once (`None`) or at an instant of the simulator's clock.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) delivery: PendingDelivery,
    pub(crate) due: Option<Instant>,
    pub(crate) attempt: u32,
    /// The order its event happened in: a retry keeps it.
    pub(crate) seq: u64,
    /// When its first attempt was made, on the simulator's clock.
    pub(crate) first_at: Option<Instant>,
}

impl Outgoing {
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        self.due.is_none_or(|due| due <= now)
    }
}
