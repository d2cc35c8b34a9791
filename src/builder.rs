//! The builder shared by [`Client`] and [`AdminClient`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::client::BASE_URL_ENV;
use crate::clock::Clock;
use crate::transport::{Transport, TransportConfig};
use crate::{AdminClient, Client, Error, RetryPolicy, Secret};

/// Configures a [`Client`] (from [`Client::builder`]) or an [`AdminClient`] (from
/// [`AdminClient::builder`]).
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::Client;
///
/// let client = Client::builder("my-api-key")
///     .base_url("https://api.removebgvideo.com")
///     .timeout(Duration::from_secs(20))
///     .max_retries(3)
///     .user_agent_suffix("my-service/1.4")
///     .build()?;
/// # let _ = client;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder<C = Client> {
    secret: Secret,
    config: TransportConfig,
    kind: PhantomData<fn() -> C>,
}

/// The clients a [`ClientBuilder`] can build: [`Client`] and [`AdminClient`]. Sealed.
pub trait BuildClient: sealed::Assemble {}

impl BuildClient for Client {}
impl BuildClient for AdminClient {}

mod sealed {
    use crate::transport::Transport;
    use crate::{AdminClient, Client, Error, Secret};

    pub trait Assemble: Sized {
        fn assemble(transport: Transport, secret: Secret) -> Result<Self, Error>;
    }

    impl Assemble for Client {
        fn assemble(transport: Transport, api_key: Secret) -> Result<Self, Error> {
            Client::from_transport(transport, api_key)
        }
    }

    impl Assemble for AdminClient {
        fn assemble(transport: Transport, token: Secret) -> Result<Self, Error> {
            AdminClient::from_transport(transport, token)
        }
    }
}

impl<C: BuildClient> ClientBuilder<C> {
    pub(crate) fn new(secret: Secret) -> Self {
        Self { secret, config: TransportConfig::default(), kind: PhantomData }
    }

    /// The credential from `secret_var` and the base URL from `REMOVEBGVIDEO_BASE_URL` when
    /// set: what `from_env` reads.
    pub(crate) fn from_env(secret_var: &'static str) -> Result<Self, Error> {
        let builder = Self::new(required_env(secret_var)?.into());
        Ok(match optional_env(BASE_URL_ENV) {
            Some(base_url) => builder.base_url(base_url),
            None => builder,
        })
    }

    /// The API's address (default `https://api.removebgvideo.com`); a trailing `/` is dropped.
    /// Plain `http` is refused unless the host is a loopback address or
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.config.base_url = base_url.into();
        self
    }

    /// The limit on one API call, from connecting to the end of the answer (default 30 s, as the
    /// official SDK). Uploads and downloads are bounded by the
    /// [stall](Self::stall_timeout) and [transfer](Self::transfer_timeout) timeouts instead, so a
    /// large file is not cut off after 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// The limit on opening a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// The longest an upload or download may stop moving before it fails (default 30 s).
    ///
    /// This bounds each pause, not the whole: a transfer that keeps moving runs as long as it
    /// needs. For a download it bounds the wait for the answer to start and each pause in the
    /// body ([`Error::Transport`], [`is_timeout`](Error::is_timeout)); for an upload, the time
    /// the connection takes no more of the file (about 512 KiB at a time) and, once all is
    /// sent, the wait for the answer ([`Error::Stalled`]); that wait includes the time the
    /// socket buffers take to drain, which only a very slow link makes matter. On Linux and
    /// Android the kernel also drops a connection whose sent data stays unacknowledged this
    /// long.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.config.stall_timeout = timeout;
        self
    }

    /// A limit on a whole upload or download, redirects included (default none: large files
    /// take the time they need; the stall timeout still ends a transfer that stops moving).
    pub fn transfer_timeout(mut self, timeout: Duration) -> Self {
        self.config.transfer_timeout = Some(timeout);
        self
    }

    /// Appended to the `User-Agent` (`removebgvideo-rust/<version> <suffix>`), to name your
    /// service in the API's logs.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.config.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Uses an existing reqwest blocking client (its pool, proxy and TLS settings) for every
    /// request, uploads and downloads included.
    ///
    /// The crate sets the per-call timeout on each API call and the
    /// [transfer timeout](Self::transfer_timeout), when set, on each transfer; everything else
    /// is the client's own:
    /// - build it with `.timeout(None)`, or uploads and downloads are cut off at its total
    ///   timeout (reqwest's blocking client has no limit on a pause alone, so the
    ///   [stall timeout](Self::stall_timeout) does not apply; `tcp_user_timeout` comes closest);
    /// - build it with `.redirect(reqwest::redirect::Policy::none())`: reqwest does not strip
    ///   `X-Api-Key` on a cross-origin redirect (the crate's own client never follows one), and
    ///   the crate then follows a download's redirects itself, with no credential;
    /// - transfers go through reqwest's blocking body pump, several times slower for uploads
    ///   than the crate's own transfer path (async reqwest with large chunks).
    pub fn http_client(mut self, client: reqwest::blocking::Client) -> Self {
        self.config.http_client = Some(client);
        self
    }

    /// How transient failures are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Shorthand for the retry policy's [`max_retries`](RetryPolicy::max_retries) (default 2;
    /// 0 turns retries off).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.config.retry = self.config.retry.max_retries(max_retries);
        self
    }

    /// Where retries and waits read the time and sleep; tests pass a
    /// [`ManualClock`](crate::clock::ManualClock) so they never sleep.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// Allows a plain-`http` base URL to a non-loopback host (default `false`): the credential
    /// then travels unencrypted.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.config.allow_insecure_http = allow;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty credential; [`Error::Config`] for a base URL that
    /// is not https (or loopback http) or that cannot be parsed.
    pub fn build(self) -> Result<C, Error> {
        let transport = Transport::new(self.config)?;
        C::assemble(transport, self.secret)
    }
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder").field("secret", &self.secret).field("config", &self.config).finish()
    }
}

/// Reads a variable that must be set, naming it when it is not.
fn required_env(name: &'static str) -> Result<String, Error> {
    optional_env(name).ok_or_else(|| Error::Config(format!("the environment variable {name} is not set")))
}

/// Reads a variable, treating an empty value as unset.
fn optional_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}
