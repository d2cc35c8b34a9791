//! The running simulator: starting it from its builder, what a test asks of it, and stopping
//! it when dropped.

use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::builder::{Bounds, SimulatorBuilder};
use super::delivery::WebhookDelivery;
use super::faults::FaultRule;
use super::file_limit;
use super::lock::lock;
use super::record::{LoggedRequest, RecordedRequest};
use super::server;
use super::shared::{Config, Shared};
use super::state::{fingerprint, now_secs, ApiKey, Pacing, State};
use super::webhooks;

/// How long stopping waits for requests in flight to be answered.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A running simulated RemoveBGVideo API. Dropping it stops the server (idle connections are
/// closed at once, answers in flight get at most a second) and joins its threads.
///
/// See the [module documentation](crate::simulator) for what it simulates.
pub struct Simulator {
    shared: Arc<Shared>,
    /// Ends the server thread's wait: its runtime then stops, closing every connection.
    stop_server: Option<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
    /// Held so that the clock (which keeps it weakly) calls it while the simulator lives.
    _on_advance: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("base_url", &self.shared.base_url).finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts a simulator with the default settings (see [`SimulatorBuilder`]).
    ///
    /// # Errors
    /// When the socket cannot be bound or a thread cannot be spawned.
    pub fn start() -> std::io::Result<Simulator> {
        SimulatorBuilder::default().start()
    }

    /// Settings for a simulator; finish with [`SimulatorBuilder::start`].
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    fn from_builder(b: SimulatorBuilder) -> std::io::Result<Simulator> {
        for (field, value) in [("api_key", &b.api_key), ("admin_token", &b.admin_token)] {
            if value.trim().is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("invalid {field}: it is empty, which would let anyone in (is a variable unset?)"),
                ));
            }
        }
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", b.port))?;
        std_listener.set_nonblocking(true)?;
        let address = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(b.worker_threads)
            .thread_name("rbv-sim")
            .enable_all()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let base_url = format!("http://127.0.0.1:{}", address.port());
        let state = State {
            keys: vec![ApiKey {
                fingerprint: fingerprint(&b.api_key),
                key: b.api_key.clone(),
                client_id: "simulator".to_owned(),
                note: Some("the key configured at start".to_owned()),
                enabled: true,
                created_at: now_secs(),
                credits: b.credits,
            }],
            faults: b.faults,
            ..State::default()
        };
        let clock = b.clock.unwrap_or_else(crate::clock::system);
        // The clock is asked first whether it says when it moves; what it calls then finds the
        // simulator through this slot, filled once the simulator exists.
        let slot: Arc<OnceLock<Weak<Shared>>> = Arc::new(OnceLock::new());
        let found = Arc::clone(&slot);
        let on_advance: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            if let Some(shared) = found.get().and_then(Weak::upgrade) {
                shared.tick();
            }
        });
        let manual_clock = clock.on_advance(&on_advance);
        let shared = Arc::new(Shared {
            config: Config {
                api_key: b.api_key,
                admin_token: b.admin_token,
                webhook_secret: b.webhook_secret,
                pacing: Pacing {
                    processing_time: b.processing_time,
                    polls_to_complete: b.polls_to_complete,
                    concurrency: b.concurrency,
                },
                webhook_retries: b.webhook_retries,
                output_size: b.output_size,
                job_duration: b.job_duration,
                max_upload_size: b.max_upload_size,
                credits: b.credits,
                bounds: Bounds { max_connections: file_limit::connection_cap(b.bounds.max_connections), ..b.bounds },
                webhook_max_age: b.webhook_max_age,
            },
            base_url,
            clock,
            manual_clock,
            state: Mutex::new(state),
            changed: Condvar::new(),
            done: Condvar::new(),
            runtime: runtime.handle().clone(),
            webhook_client: OnceLock::new(),
            stop: Mutex::new(false),
        });
        let _ = slot.set(Arc::downgrade(&shared));
        let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut sim =
            Simulator { shared, stop_server: Some(stop_server), threads: Vec::new(), _on_advance: on_advance };
        let server_shared = Arc::clone(&sim.shared);
        sim.threads.push(std::thread::Builder::new().name("rbv-sim-server".into()).spawn(move || {
            let connections = server::Connections::new();
            runtime.spawn(server::accept(server_shared, listener, Arc::clone(&connections)));
            let _ = runtime.block_on(stopped);
            // Idle connections close at once and answers being written finish; whatever is
            // still open after the grace period (a delayed answer, a delivery) ends with the
            // runtime.
            runtime.block_on(connections.shut_down(SHUTDOWN_GRACE));
            runtime.shutdown_timeout(Duration::ZERO);
        })?);
        let bg_shared = Arc::clone(&sim.shared);
        sim.threads.push(
            std::thread::Builder::new().name("rbv-sim-webhooks".into()).spawn(move || webhooks::run(&bg_shared))?,
        );
        Ok(sim)
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The connection cap in force: [`SimulatorBuilder::max_connections`], or half the
    /// process's limit on open files (`ulimit -n`) when that is lower, so that a connection past
    /// the cap is answered 503 instead of waiting for a file descriptor to accept it with.
    #[must_use]
    pub fn max_connections(&self) -> usize {
        self.shared.config.bounds.max_connections
    }

    /// The API key the simulator was configured with.
    #[must_use]
    pub fn api_key(&self) -> &str {
        &self.shared.config.api_key
    }

    /// The admin token the simulator was configured with.
    #[must_use]
    pub fn admin_token(&self) -> &str {
        &self.shared.config.admin_token
    }

    /// The webhook signing secret, `None` when deliveries are unsigned.
    #[must_use]
    pub fn webhook_secret(&self) -> Option<&str> {
        self.shared.config.webhook_secret.as_deref()
    }

    /// The shell line that points this crate's clients and the `removebgvideo` command at
    /// this simulator, for another process to `eval`:
    /// `export REMOVEBGVIDEO_API_KEY=… REMOVEBGVIDEO_BASE_URL=… REMOVEBGVIDEO_ADMIN_TOKEN=…`.
    #[must_use]
    pub fn export_line(&self) -> String {
        use crate::client::{ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
        format!(
            "export {API_KEY_ENV}={} {BASE_URL_ENV}={} {ADMIN_TOKEN_ENV}={}",
            self.api_key(),
            self.base_url(),
            self.admin_token()
        )
    }

    /// A [`Client`](crate::Client) for this simulator: its base URL and API key.
    ///
    /// # Errors
    /// Only if the HTTP client cannot be built (see [`ClientBuilder::build`](crate::client::ClientBuilder::build)).
    pub fn client(&self) -> Result<crate::Client, crate::Error> {
        self.client_builder().build()
    }

    /// A builder preset with this simulator's base URL and API key, for tests that also set
    /// timeouts, retries or a [`ManualClock`](crate::clock::ManualClock).
    pub fn client_builder(&self) -> crate::client::ClientBuilder<crate::Client> {
        crate::Client::builder(self.api_key()).base_url(self.base_url())
    }

    /// An [`AsyncClient`](crate::AsyncClient) for this simulator: its base URL and API key.
    /// Use it from `#[tokio::test]`; starting, using and dropping the simulator there neither
    /// panics nor blocks the runtime beyond the moment `Drop` joins its threads.
    ///
    /// # Errors
    /// Only if the HTTP client cannot be built.
    pub fn async_client(&self) -> Result<crate::AsyncClient, crate::Error> {
        self.async_client_builder().build()
    }

    /// A builder preset with this simulator's base URL and API key for an
    /// [`AsyncClient`](crate::AsyncClient).
    pub fn async_client_builder(&self) -> crate::client::ClientBuilder<crate::AsyncClient> {
        crate::AsyncClient::builder(self.api_key()).base_url(self.base_url())
    }

    /// An [`AdminClient`](crate::AdminClient) for this simulator: its base URL and admin token.
    ///
    /// # Errors
    /// Only if the HTTP client cannot be built.
    pub fn admin_client(&self) -> Result<crate::AdminClient, crate::Error> {
        crate::AdminClient::builder(self.admin_token()).base_url(self.base_url()).build()
    }

    /// Every request received so far, in the order their bodies were read. A request is logged
    /// before it is answered.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.iter().map(LoggedRequest::to_recorded).collect()
    }

    /// How many requests the simulator has received since it started, including those the
    /// request log no longer holds (it keeps the newest [`SimulatorBuilder::request_log`]) and
    /// those [`Simulator::clear_requests`] removed.
    #[must_use]
    pub fn requests_received(&self) -> u64 {
        lock(&self.shared.state).received
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.state).clear_requests();
    }

    /// Queues a fault for the next matching requests (see [`FaultRule`]).
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.state).faults.push(rule);
    }

    /// Removes every queued fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.state).faults.clear();
    }

    /// Every webhook delivery attempt made or refused so far, in order. Deliveries are made
    /// in the background: call [`settle`](Self::settle) first to see the ones already due.
    #[must_use]
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.shared.state).deliveries.iter().cloned().collect()
    }

    /// Waits until all work due by now is done: every job moved to the clock's present, and every
    /// webhook delivery (or retry) due by now made and recorded. A test calls it after
    /// `ManualClock::advance` (or after a request) to assert on deliveries without sleeping.
    /// Deliveries due later (retries waiting for their backoff) are not waited for.
    ///
    /// It blocks the calling thread while deliveries are made (each up to 5 s, to a receiver
    /// that does not answer). In async code whose webhook receiver runs on the same runtime,
    /// use [`settle_async`](Self::settle_async).
    pub fn settle(&self) {
        settle(&self.shared);
    }

    /// [`settle`](Self::settle) on tokio's blocking pool, so that a receiver served by the
    /// caller's runtime keeps running meanwhile.
    pub async fn settle_async(&self) {
        let shared = Arc::clone(&self.shared);
        let _ = tokio::task::spawn_blocking(move || settle(&shared)).await;
    }

    /// How many jobs have been created so far, by every key.
    #[must_use]
    pub fn job_count(&self) -> usize {
        lock(&self.shared.state).jobs.len()
    }

    /// The credits left to the configured key: [`SimulatorBuilder::credits`] minus what its
    /// started jobs took (failed jobs give theirs back). `f64::INFINITY` when the balance is
    /// unlimited (the default). Keys made through the admin routes have balances of their own.
    #[must_use]
    pub fn credits_remaining(&self) -> f64 {
        let st = lock(&self.shared.state);
        st.balance(&fingerprint(&self.shared.config.api_key))
    }

    /// How many uploads have been accepted so far, from every key.
    #[must_use]
    pub fn upload_count(&self) -> u64 {
        lock(&self.shared.state).uploads.accepted
    }

    /// The bytes of uploaded files kept now, within [`SimulatorBuilder::upload_budget`].
    #[must_use]
    pub fn upload_bytes_kept(&self) -> u64 {
        lock(&self.shared.state).uploads.kept_bytes()
    }

    /// Stops the server and joins its threads (what dropping it does).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl SimulatorBuilder {
    /// Binds `127.0.0.1` on [`port`](Self::port) and starts answering.
    ///
    /// # Errors
    /// When the API key or the admin token is empty (an unset variable would otherwise let
    /// anyone in; [`ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput)), or when the
    /// socket cannot be bound or a thread cannot be spawned.
    pub fn start(self) -> std::io::Result<Simulator> {
        Simulator::from_builder(self)
    }
}

fn settle(shared: &Shared) {
    let (mut st, now) = shared.now_state();
    shared.changed.notify_all();
    while (st.in_flight > 0 || st.has_ready(now)) && !shared.stopping() {
        st = shared.done.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shared.signal_stop();
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
