//! The transport's settings and how they become a reqwest client.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::redirect;
use reqwest::Url;

use super::transfer::MAX_REDIRECTS;
use super::{RetryPolicy, Shared, Transport};
use crate::clock::{self, Clock};
use crate::Error;

/// The API's production address.
pub(crate) const DEFAULT_BASE_URL: &str = "https://api.removebgvideo.com";

#[derive(Clone)]
pub(crate) struct TransportConfig {
    pub(crate) base_url: String,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) stall_timeout: Duration,
    pub(crate) transfer_timeout: Option<Duration>,
    pub(crate) user_agent_suffix: Option<String>,
    pub(crate) http_client: Option<reqwest::blocking::Client>,
    pub(crate) retry: RetryPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) allow_insecure_http: bool,
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
            http_client: None,
            retry: RetryPolicy::default(),
            clock: clock::system(),
            allow_insecure_http: false,
        }
    }
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("transfer_timeout", &self.transfer_timeout)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("custom_http_client", &self.http_client.is_some())
            .field("retry", &self.retry)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl TransportConfig {
    pub(crate) fn build(self) -> Result<Transport, Error> {
        let base = parse_base_url(&self.base_url, self.allow_insecure_http)?;
        let own_http = self.http_client.is_none();
        let http = match self.http_client {
            Some(client) => client,
            None => build_http_client(&base, self.timeout, self.connect_timeout)?,
        };
        let mut user_agent = format!("removebgvideo-rust/{}", env!("CARGO_PKG_VERSION"));
        if let Some(suffix) = self.user_agent_suffix.filter(|suffix| !suffix.trim().is_empty()) {
            user_agent.push(' ');
            user_agent.push_str(suffix.trim());
        }
        Ok(Transport {
            shared: Arc::new(Shared {
                http,
                own_http,
                transfers: OnceLock::new(),
                base,
                user_agent,
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                stall_timeout: self.stall_timeout,
                transfer_timeout: self.transfer_timeout,
                retry: self.retry,
                clock: self.clock,
            }),
        })
    }
}

/// The client of API calls (transfers have their own, see `transfer.rs`).
fn build_http_client(
    base: &Url,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::blocking::Client, Error> {
    let api_origin = base.origin();
    // reqwest strips only the standard auth headers on a cross-origin redirect, not
    // X-Api-Key or X-Admin-Token: so a request to the API never follows a redirect elsewhere.
    let policy = redirect::Policy::custom(move |attempt| {
        let left_api = attempt.previous().first().is_some_and(|first| first.origin() == api_origin)
            && attempt.url().origin() != api_origin;
        if left_api {
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    });
    let builder = reqwest::blocking::Client::builder()
        // Client-wide rather than per request: this client carries only API calls, none of
        // which may outlast it.
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(policy);
    builder.build().map_err(|error| Error::Config(format!("could not build the HTTP client: {error}")))
}

/// Checks and normalizes the base URL: http(s) only, no credentials, query or fragment, a
/// trailing `/` dropped, and plain http only to a loopback host unless allowed.
pub(crate) fn parse_base_url(text: &str, allow_insecure_http: bool) -> Result<Url, Error> {
    let text = text.trim().trim_end_matches('/');
    let url = Url::parse(text).map_err(|error| {
        // Text with an `@` may hold a password, so it is never quoted.
        let shown = if text.contains('@') { String::new() } else { format!(" {text:?}") };
        Error::Config(format!("base URL{shown} is not a URL: {error}"))
    })?;
    // Checked first so that no later message quotes a URL carrying a password.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config("base URL must not carry a user name or password".to_owned()));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(Error::Config(format!(
                "base URL {text:?} uses plain http to a remote host, which would send the API key unencrypted; \
                 use https, or allow it explicitly with `allow_insecure_http(true)`"
            )))
        }
        other => return Err(Error::Config(format!("base URL {text:?} has scheme {other:?}; use https"))),
    }
    if url.host().is_none() {
        return Err(Error::Config(format!("base URL {text:?} has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!("base URL {text:?} must not have a query or fragment")));
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
