//! The builder shared by the four clients.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::client::admin::{AdminClient, AsyncAdminClient};
use crate::client::async_client::AsyncClient;
use crate::client::blocking::{Client, BASE_URL_ENV};
use crate::client::error::{ConfigError, Error};
use crate::client::transport::retry::RetryPolicy;
use crate::client::transport::{Transport, TransportConfig};
use crate::clock::Clock;
use crate::secret::Secret;

/// Configures a client: [`Client`], [`AdminClient`], [`AsyncClient`] or [`AsyncAdminClient`]
/// (from their `builder` or `builder_from_env`). Every setting is checked in
/// [`build`](Self::build), which refuses a value that cannot work with a typed error rather than
/// failing later, at every call.
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
///
/// The environment first, then overrides:
///
/// ```no_run
/// use std::time::Duration;
/// use removebgvideo::AsyncClient;
///
/// let client = AsyncClient::builder_from_env()?.timeout(Duration::from_secs(10)).build()?;
/// # let _ = client;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder<C = Client> {
    secret: Secret,
    config: TransportConfig,
    kind: PhantomData<fn() -> C>,
}

impl<C> Clone for ClientBuilder<C> {
    fn clone(&self) -> Self {
        Self { secret: self.secret.clone(), config: self.config.clone(), kind: PhantomData }
    }
}

/// The clients a [`ClientBuilder`] can build: [`Client`], [`AdminClient`], [`AsyncClient`] and
/// [`AsyncAdminClient`]. Sealed.
pub trait BuildClient: sealed::Assemble {}

impl BuildClient for Client {}
impl BuildClient for AdminClient {}
impl BuildClient for AsyncClient {}
impl BuildClient for AsyncAdminClient {}

pub(crate) mod sealed {
    use crate::client::admin::{AdminClient, AsyncAdminClient};
    use crate::client::async_client::AsyncClient;
    use crate::client::blocking::{Client, ADMIN_TOKEN_ENV, API_KEY_ENV};
    use crate::client::error::Error;
    use crate::client::runtime::CrateRuntime;
    use crate::client::transport::Transport;
    use crate::secret::Secret;

    pub trait Assemble: Sized {
        /// The variable `from_env` reads the credential from.
        const SECRET_ENV: &'static str;
        fn assemble(transport: Transport, secret: Secret) -> Result<Self, Error>;
    }

    impl Assemble for AsyncClient {
        const SECRET_ENV: &'static str = API_KEY_ENV;
        fn assemble(transport: Transport, api_key: Secret) -> Result<Self, Error> {
            AsyncClient::from_transport(transport, &api_key)
        }
    }

    impl Assemble for AsyncAdminClient {
        const SECRET_ENV: &'static str = ADMIN_TOKEN_ENV;
        fn assemble(transport: Transport, token: Secret) -> Result<Self, Error> {
            AsyncAdminClient::from_transport(transport, &token)
        }
    }

    impl Assemble for Client {
        const SECRET_ENV: &'static str = API_KEY_ENV;
        fn assemble(transport: Transport, api_key: Secret) -> Result<Self, Error> {
            Ok(Client::from_parts(AsyncClient::assemble(transport, api_key)?, CrateRuntime::default()))
        }
    }

    impl Assemble for AdminClient {
        const SECRET_ENV: &'static str = ADMIN_TOKEN_ENV;
        fn assemble(transport: Transport, token: Secret) -> Result<Self, Error> {
            Ok(AdminClient::from_parts(AsyncAdminClient::assemble(transport, token)?, CrateRuntime::default()))
        }
    }
}

impl<C: BuildClient> ClientBuilder<C> {
    pub(crate) fn new(secret: Secret) -> Self {
        Self { secret, config: TransportConfig::default(), kind: PhantomData }
    }

    /// A builder from the environment: the credential from `REMOVEBGVIDEO_API_KEY` (or
    /// `REMOVEBGVIDEO_ADMIN_TOKEN` for the admin clients) and the base URL from
    /// `REMOVEBGVIDEO_BASE_URL` when set. Setters called afterwards override what was read.
    ///
    /// # Errors
    /// [`ConfigError::MissingEnv`] or [`ConfigError::EmptyEnv`] naming the credential's
    /// variable.
    pub fn from_env() -> Result<Self, Error> {
        let builder = Self::new(required_env(C::SECRET_ENV)?.into());
        Ok(match optional_env(BASE_URL_ENV) {
            Some(base_url) => builder.base_url(base_url),
            None => builder,
        })
    }

    /// The API's address (default `https://api.removebgvideo.com`): the origin alone, since
    /// the routes add `/v1` themselves; a trailing `/` is dropped. Plain `http` is refused
    /// unless the host is a loopback address or
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.config.base_url = base_url.into();
        self
    }

    /// The limit on one API call, from connecting to the last byte of the answer (default
    /// 30 s, as the official SDK). Uploads and downloads are bounded by the
    /// [stall](Self::stall_timeout) and [transfer](Self::transfer_timeout) timeouts instead, so
    /// a large file is not cut off after 30 s. Zero is refused at build; any other value,
    /// `Duration::MAX` included, is accepted.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// The limit on opening a connection (default 10 s; zero is refused at build).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// The longest an upload or download may stop moving before it fails (default 30 s; zero
    /// is refused at build).
    ///
    /// This bounds each pause, not the whole: a transfer that keeps moving runs as long as it
    /// needs. For a download it bounds the wait for the answer to start and each pause in the
    /// body ([`Error::Transport`], [`is_timeout`](Error::is_timeout)); for an upload, the time
    /// the connection takes no more of the file (about 512 KiB at a time) and, once all is
    /// sent, the wait for the answer ([`Error::Stalled`]). On Linux and Android the kernel also
    /// drops a connection whose sent data stays unacknowledged this long.
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

    /// The largest file an upload sends (default 500 MiB, the API's documented limit);
    /// a larger one is refused before a byte is sent. `None` lifts the limit, for when the
    /// API's limit is raised.
    pub fn max_upload_size(mut self, bytes: Option<u64>) -> Self {
        self.config.max_upload_size = bytes;
        self
    }

    /// Appended to the `User-Agent` (`removebgvideo-rust/<version> <suffix>`), to name your
    /// service in the API's logs. A control character (CR, LF) is refused at build.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.config.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Sends every request through this HTTP(S) proxy (`http://user:pass@proxy:3128`); its
    /// credentials are never printed. Without it, the `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`
    /// variables apply.
    pub fn proxy(mut self, proxy_url: impl Into<String>) -> Self {
        self.config.proxy = Some(proxy_url.into());
        self
    }

    /// Trusts this extra root certificate (PEM), for example a company's TLS-inspecting proxy,
    /// besides the usual ones. Checked at build. Needs a TLS feature (`rustls`, the default,
    /// or `native-tls`).
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "rustls", feature = "native-tls"))))]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.root_certificates.push(crate::client::transport::Certificate::Pem(pem.into()));
        self
    }

    /// Trusts this extra root certificate (DER), as
    /// [`add_root_certificate_pem`](Self::add_root_certificate_pem).
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "rustls", feature = "native-tls"))))]
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.config.root_certificates.push(crate::client::transport::Certificate::Der(der.into()));
        self
    }

    /// How transient failures are retried (default: [`RetryPolicy::default`]).
    /// [`max_retries`](Self::max_retries), when set, wins whatever the order of the two calls.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// How many times a call is repeated after its first attempt (default 2; 0 turns retries
    /// off). Overrides the retry policy's own count, whichever is set first.
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.config.max_retries = Some(max_retries);
        self
    }

    /// Where retries and waits read the time and sleep (default: tokio's clock). Tests of the
    /// blocking clients pass a `ManualClock` (feature `test-util`) so they never sleep; async
    /// tests can pause tokio's clock instead.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// Calls `on_attempt` after every HTTP attempt of an API call (retries included), with the
    /// method, the route template, the status or the kind of error, the attempt number, the
    /// duration and the request id: for metrics. It never sees a credential, an id in a path
    /// or a query. It runs on the task that made the call, so keep it short.
    pub fn on_attempt(
        mut self,
        on_attempt: impl Fn(&crate::client::transport::attempt::AttemptInfo) + Send + Sync + 'static,
    ) -> Self {
        self.config.on_attempt = Some(crate::client::transport::AttemptObserver(Arc::new(on_attempt)));
        self
    }

    /// At most `n` requests of this client and its clones in flight at once (default: no
    /// cap); the others wait their turn. Zero is refused at build.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.config.max_in_flight = Some(n);
        self
    }

    /// Allows a plain-`http` base URL to a non-loopback host (default `false`): the credential
    /// then travels unencrypted.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.config.allow_insecure_http = allow;
        self
    }

    /// Builds the client. Builds no thread: a blocking client starts its runtime on its first
    /// call.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty credential or a zero timeout; [`Error::Config`]
    /// for a base URL that cannot be used, a credential or user-agent suffix that cannot go in
    /// a header, a bad proxy or certificate.
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

/// The constructors (`new`, `from_env`, `builder`, `builder_from_env`), the `base_url` getter
/// and the `Debug` that hides the credential, for one of the four clients: invoked once per
/// client below, here beside the builder they return, so that they and their documentation
/// exist once and the clients' files need not import the builder that builds them.
///
/// `$client`: the type; `$a_client`: how its docs name it ("A client"); `$credential`: the
/// argument (`api_key`, `admin_token`) and `$what`: its name in words ("key", "token");
/// `$env`: the variable `from_env` reads it from; `$debug_field`: its field in `Debug`;
/// `$inner`: the field whose `base_url` this one's is.
macro_rules! client_constructors {
    (
        $client:ident,
        a_client: $a_client:literal,
        credential: $credential:ident,
        what: $what:literal,
        env: $env:literal,
        debug_field: $debug_field:literal,
        inner: $inner:ident $(,)?
    ) => {
        impl $client {
            #[doc = concat!($a_client, " for the production API with this ", $what, " and the default settings.")]
            ///
            /// # Errors
            #[doc = concat!("[`Error::InvalidInput`](crate::client::error::Error::InvalidInput) when the ", $what, " is empty;")]
            /// [`Error::Config`](crate::Error::Config) when it cannot go in a header.
            pub fn new($credential: impl Into<$crate::secret::Secret>) -> Result<Self, $crate::client::error::Error> {
                Self::builder($credential).build()
            }

            #[doc = concat!($a_client, " configured from the environment: the ", $what, " from `", $env, "`,")]
            /// the base URL from `REMOVEBGVIDEO_BASE_URL` when set.
            ///
            /// # Errors
            #[doc = concat!("[`Error::Config`](crate::client::error::Error::Config) naming the variable when the ", $what, " is not set.")]
            pub fn from_env() -> Result<Self, $crate::client::error::Error> {
                Self::builder_from_env()?.build()
            }

            /// A builder to set the base URL, timeouts, retries and more.
            pub fn builder($credential: impl Into<$crate::secret::Secret>) -> $crate::client::builder::ClientBuilder<Self> {
                $crate::client::builder::ClientBuilder::new($credential.into())
            }

            /// A builder that starts from the environment, as [`from_env`](Self::from_env) reads it;
            /// its setters override what was read.
            ///
            /// # Errors
            #[doc = concat!("[`Error::Config`](crate::client::error::Error::Config) naming the variable when the ", $what, " is not set.")]
            pub fn builder_from_env() -> Result<$crate::client::builder::ClientBuilder<Self>, $crate::client::error::Error> {
                $crate::client::builder::ClientBuilder::from_env()
            }

            /// The base URL calls go to, without a trailing `/`.
            #[must_use]
            pub fn base_url(&self) -> &str {
                self.$inner.base_url()
            }
        }

        impl ::std::fmt::Debug for $client {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($client))
                    .field("base_url", &self.base_url())
                    .field($debug_field, &"[redacted]")
                    .finish()
            }
        }
    };
}

client_constructors!(
    Client,
    a_client: "A client",
    credential: api_key,
    what: "key",
    env: "REMOVEBGVIDEO_API_KEY",
    debug_field: "api_key",
    inner: inner,
);

client_constructors!(
    AdminClient,
    a_client: "An admin client",
    credential: admin_token,
    what: "token",
    env: "REMOVEBGVIDEO_ADMIN_TOKEN",
    debug_field: "token",
    inner: inner,
);

client_constructors!(
    AsyncClient,
    a_client: "A client",
    credential: api_key,
    what: "key",
    env: "REMOVEBGVIDEO_API_KEY",
    debug_field: "api_key",
    inner: transport,
);

client_constructors!(
    AsyncAdminClient,
    a_client: "An admin client",
    credential: admin_token,
    what: "token",
    env: "REMOVEBGVIDEO_ADMIN_TOKEN",
    debug_field: "token",
    inner: transport,
);

/// Reads a variable that must be set, naming it when it is not.
fn required_env(name: &'static str) -> Result<String, Error> {
    match std::env::var_os(name) {
        None => Err(ConfigError::MissingEnv { name }.into()),
        Some(value) => match value.into_string() {
            Ok(value) if !value.trim().is_empty() => Ok(value),
            Ok(_) => Err(ConfigError::EmptyEnv { name }.into()),
            Err(_) => Err(ConfigError::NotUnicodeEnv { name }.into()),
        },
    }
}

/// Reads a variable, treating an empty value as unset.
fn optional_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}
