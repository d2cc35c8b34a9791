//! The transport's settings, checked, and how they become the one reqwest client.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use reqwest::redirect;
use url::Url;

use super::{RetryPolicy, Shared, Transport};
use crate::client::error::{invalid, ConfigError, Error};
use crate::clock::{self, Clock};

/// The API's production address.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.removebgvideo.com";

/// The API's documented upload limit: 500 MB, read as the larger of its two meanings
/// (500 MiB), so that nothing the server accepts is refused here.
pub(crate) const MAX_UPLOAD_BYTES: u64 = 500 * 1024 * 1024;

/// Redirects an API call follows at most (within the API origin only).
const MAX_API_REDIRECTS: usize = 10;

/// The longest duration handed to the HTTP library and the OS (a year): longer limits mean
/// "no limit" in practice, and some socket options hold only 32 bits of milliseconds.
pub(crate) const LONGEST: Duration = Duration::from_secs(365 * 86_400);

#[derive(Clone)]
pub(crate) struct TransportConfig {
    pub(crate) base_url: String,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) stall_timeout: Duration,
    pub(crate) transfer_timeout: Option<Duration>,
    pub(crate) user_agent_suffix: Option<String>,
    pub(crate) proxy: Option<String>,
    pub(crate) root_certificates: Vec<Certificate>,
    pub(crate) retry: RetryPolicy,
    /// Applied over `retry` at build, so the order of the two setters does not matter.
    pub(crate) max_retries: Option<u32>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) max_upload_size: Option<u64>,
    pub(crate) max_in_flight: Option<usize>,
    pub(crate) on_attempt: Option<super::AttemptObserver>,
}

/// An extra root certificate, as given.
#[derive(Clone)]
pub(crate) enum Certificate {
    #[cfg_attr(not(any(feature = "rustls", feature = "native-tls")), allow(dead_code))]
    Pem(Vec<u8>),
    #[cfg_attr(not(any(feature = "rustls", feature = "native-tls")), allow(dead_code))]
    Der(Vec<u8>),
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
            transfer_timeout: None,
            user_agent_suffix: None,
            proxy: None,
            root_certificates: Vec::new(),
            retry: RetryPolicy::default(),
            max_retries: None,
            clock: clock::system(),
            allow_insecure_http: false,
            max_upload_size: Some(MAX_UPLOAD_BYTES),
            max_in_flight: None,
            on_attempt: None,
        }
    }
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("base_url", &redacted_url(&self.base_url))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("transfer_timeout", &self.transfer_timeout)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("proxy", &self.proxy.as_deref().map(redacted_url))
            .field("root_certificates", &self.root_certificates.len())
            .field("retry", &self.retry)
            .field("max_retries", &self.max_retries)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("max_upload_size", &self.max_upload_size)
            .field("max_in_flight", &self.max_in_flight)
            .field("on_attempt", &self.on_attempt.is_some())
            .finish()
    }
}

/// A URL as it may be shown: scheme, host, port and path, never a user name, password,
/// query or fragment; text that is not a URL is not shown at all.
pub(crate) fn redacted_url(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => "[not a URL]".to_owned(),
    }
}

impl TransportConfig {
    pub(crate) fn build(self) -> Result<Transport, Error> {
        let base = parse_base_url(&self.base_url, self.allow_insecure_http)?;
        for (field, limit) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
            ("stall_timeout", self.stall_timeout),
        ] {
            if limit.is_zero() {
                return Err(invalid(field, "must be more than zero, or every request would time out at once"));
            }
        }
        if self.transfer_timeout.is_some_and(|limit| limit.is_zero()) {
            return Err(invalid(
                "transfer_timeout",
                "must be more than zero, or every transfer would time out at once",
            ));
        }
        if self.max_in_flight == Some(0) {
            return Err(invalid("max_in_flight", "must be at least 1, or no request could ever go"));
        }
        let http = self.http_client(&base, user_agent(self.user_agent_suffix.as_deref())?)?;
        let retry = match self.max_retries {
            Some(max_retries) => self.retry.with_max_retries(max_retries),
            None => self.retry,
        };
        Ok(Transport {
            shared: Arc::new(Shared {
                http,
                base,
                timeout: self.timeout,
                stall_timeout: self.stall_timeout,
                transfer_timeout: self.transfer_timeout,
                max_upload_size: self.max_upload_size,
                retry,
                clock: self.clock,
                gate: super::Gate::default(),
                in_flight: self.max_in_flight.map(tokio::sync::Semaphore::new),
                on_attempt: self.on_attempt,
            }),
            hidden: None,
            overrides: None,
        })
    }

    /// The one client of every request, each of which carries `user_agent`.
    fn http_client(&self, base: &Url, user_agent: HeaderValue) -> Result<reqwest::Client, Error> {
        let api_origin = base.origin();
        // reqwest strips only the standard auth headers on a cross-origin redirect, not
        // X-Api-Key or X-Admin-Token: so a redirect is followed only within the API origin.
        // Downloads (from another origin) follow theirs by hand, one request at a time, and
        // an upload's streamed body cannot be sent twice, so its redirect comes back as is.
        let policy = redirect::Policy::custom(move |attempt| {
            let within_api =
                attempt.previous().iter().all(|url| url.origin() == api_origin) && attempt.url().origin() == api_origin;
            if !within_api {
                attempt.stop()
            } else if attempt.previous().len() > MAX_API_REDIRECTS {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            // The API calls' limit, set once here as bare reqwest's users set theirs: a call
            // that keeps it carries no per-request setting. Uploads and downloads, bounded by
            // the stall and transfer timeouts instead, lift it on their requests.
            .timeout(self.timeout.min(LONGEST))
            .connect_timeout(self.connect_timeout.min(LONGEST))
            .redirect(policy);
        // An upload that stops moving is cut off by the kernel once sent data stays
        // unacknowledged this long: reqwest has no per-write timeout for a request body.
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        {
            builder = builder.tcp_user_timeout(self.stall_timeout.min(LONGEST));
        }
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(parse_proxy(proxy)?);
        }
        for certificate in &self.root_certificates {
            builder = add_certificate(builder, certificate)?;
        }
        // Not a `TransportError`: no request was made.
        builder.build().map_err(|error| Error::Config(ConfigError::HttpClient { reason: library_reason(&error) }))
    }
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn add_certificate(
    builder: reqwest::ClientBuilder,
    certificate: &Certificate,
) -> Result<reqwest::ClientBuilder, Error> {
    let refuse = |reason: String| Error::Config(ConfigError::InvalidCertificate { reason });
    let backend_reason = |error: reqwest::Error| library_reason(&error);
    let parsed = match certificate {
        Certificate::Pem(pem) => {
            let parsed = reqwest::Certificate::from_pem_bundle(pem).map_err(|error| refuse(backend_reason(error)))?;
            if parsed.is_empty() {
                return Err(refuse(
                    "the PEM text holds no certificate (no -----BEGIN CERTIFICATE----- block)".to_owned(),
                ));
            }
            parsed
        }
        Certificate::Der(der) => {
            vec![reqwest::Certificate::from_der(der).map_err(|error| refuse(backend_reason(error)))?]
        }
    };
    // rustls reads a certificate only when a client is built, and the error of the full
    // build would not say which part failed: a client that trusts only this certificate is
    // built first, so its error is the certificate's.
    for certificate in &parsed {
        reqwest::Client::builder()
            .tls_certs_only([certificate.clone()])
            .build()
            .map_err(|error| refuse(backend_reason(error)))?;
    }
    Ok(parsed.into_iter().fold(builder, reqwest::ClientBuilder::add_root_certificate))
}

/// The innermost cause of a build error of the HTTP library: reqwest's own text is only
/// "builder error", the TLS library's reason is its source.
fn library_reason(error: &reqwest::Error) -> String {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason = cause.to_string();
        source = cause.source();
    }
    reason
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn add_certificate(builder: reqwest::ClientBuilder, _: &Certificate) -> Result<reqwest::ClientBuilder, Error> {
    Ok(builder)
}

/// Checks a proxy URL; its text is never quoted, since it may carry a password.
fn parse_proxy(text: &str) -> Result<reqwest::Proxy, Error> {
    let refuse = |reason: &str| Error::Config(ConfigError::InvalidProxy { reason: reason.to_owned() });
    let url = Url::parse(text.trim()).map_err(|error| refuse(&format!("is not a URL ({error})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(&format!("has scheme {:?}; use http or https", url.scheme())));
    }
    if url.host().is_none() {
        return Err(refuse("has no host"));
    }
    reqwest::Proxy::all(url).map_err(|_| refuse("cannot be used"))
}

/// `removebgvideo-rust/<version>`, then the caller's suffix.
fn user_agent(suffix: Option<&str>) -> Result<HeaderValue, Error> {
    let mut user_agent = format!("removebgvideo-rust/{}", env!("CARGO_PKG_VERSION"));
    if let Some(suffix) = suffix.map(str::trim).filter(|suffix| !suffix.is_empty()) {
        if suffix.chars().any(|c| c.is_control()) {
            return Err(Error::Config(ConfigError::InvalidUserAgent {
                reason: "holds a control character (such as CR or LF), which cannot go in a header",
            }));
        }
        user_agent.push(' ');
        user_agent.push_str(suffix);
    }
    HeaderValue::from_str(&user_agent).map_err(|_| {
        Error::Config(ConfigError::InvalidUserAgent { reason: "holds characters that cannot go in a header" })
    })
}

/// A credential as a header value: checked at build, so that a bad one fails there and not at
/// every call; marked sensitive so that no log of the HTTP library shows it. `field` names it
/// as an argument (`api_key`), `which` in words (`API key`).
pub(crate) fn credential_header(
    field: &'static str,
    which: &'static str,
    secret: &crate::secret::Secret,
) -> Result<HeaderValue, Error> {
    let text = secret.expose();
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::Config(ConfigError::InvalidCredential {
            which,
            reason: "holds a control character (such as CR, LF or NUL); check how it was read",
        }));
    }
    // Keys and tokens are visible ASCII: anything else (a space, an accented letter, a
    // zero-width space from a copy) is a copying mistake, and would go out as raw bytes.
    if !text.bytes().all(|byte| (0x21..=0x7E).contains(&byte)) {
        return Err(Error::Config(ConfigError::InvalidCredential {
            which,
            reason: "holds a character that is not visible ASCII (such as a space, an accented letter or a zero-width space); check how it was copied",
        }));
    }
    let mut value = HeaderValue::from_str(text).map_err(|_| {
        Error::Config(ConfigError::InvalidCredential { which, reason: "holds characters that cannot go in a header" })
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Checks and normalizes the base URL: http(s) only, no credentials, query or fragment, no
/// `/v1` (the routes add it), a trailing `/` dropped, and plain http only to a loopback host
/// unless allowed.
pub(crate) fn parse_base_url(text: &str, allow_insecure_http: bool) -> Result<Url, Error> {
    let refuse = |reason: String| Error::Config(ConfigError::InvalidBaseUrl { reason });
    let text = text.trim().trim_end_matches('/');
    let url = Url::parse(text).map_err(|error| {
        // Text with an `@` may hold a password, so it is never quoted.
        let shown = if text.contains('@') { String::new() } else { format!("{text:?} ") };
        refuse(format!("{shown}is not a URL: {error}"))
    })?;
    // Checked first so that no later message quotes a URL carrying a password.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not carry a user name or password".to_owned()));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => return Err(Error::Config(ConfigError::InsecureBaseUrl)),
        other => return Err(refuse(format!("{text:?} has scheme {other:?}; use https"))),
    }
    if url.host().is_none() {
        return Err(refuse(format!("{text:?} has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse(format!("{text:?} must not have a query or fragment")));
    }
    if url.path().trim_end_matches('/').ends_with("/v1") {
        return Err(Error::Config(ConfigError::BaseUrlHasVersionPath));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}
