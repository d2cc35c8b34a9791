//! [`AdminClient`]: configuration and API keys (`/v1/admin`, authenticated with `X-Admin-Token`).

use std::fmt;

use serde::Serialize;

use crate::builder::ClientBuilder;
use crate::client::ADMIN_TOKEN_ENV;
use crate::error::invalid;
use crate::transport::{Call, Transport, ADMIN_TOKEN_HEADER};
use crate::{AdminConfig, Client, CreateKey, CreatedKey, Error, KeyList, KeyStatusChange, Secret};

/// A client of the admin API. Cheap to clone and `Send + Sync`.
///
/// Make one with [`AdminClient::new`], [`AdminClient::from_env`], [`AdminClient::builder`],
/// or from an existing [`Client`] with [`Client::admin`] to share its connection pool.
///
/// ```no_run
/// use removebgvideo::{AdminClient, CreateKey};
///
/// let admin = AdminClient::from_env()?;
/// let key = admin.create_key(&CreateKey::new("acme-backend").note("production"))?;
/// println!("store this key now: {}", key.api_key.expose());
/// admin.disable_key(&key.key_fingerprint)?;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Clone)]
pub struct AdminClient {
    transport: Transport,
    token: Secret,
}

#[derive(Serialize)]
struct Fingerprint<'a> {
    key_fingerprint: &'a str,
}

impl AdminClient {
    /// An admin client for the production API with this token and the default settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the token is empty.
    pub fn new(admin_token: impl Into<Secret>) -> Result<Self, Error> {
        Self::builder(admin_token).build()
    }

    /// An admin client configured from the environment: the token from
    /// `REMOVEBGVIDEO_ADMIN_TOKEN`, the base URL from `REMOVEBGVIDEO_BASE_URL` when set.
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable when the token is not set.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_env(ADMIN_TOKEN_ENV)?.build()
    }

    /// A builder to set the base URL, timeouts, retries and more.
    pub fn builder(admin_token: impl Into<Secret>) -> ClientBuilder<AdminClient> {
        ClientBuilder::new(admin_token.into())
    }

    /// An admin client that shares `client`'s connection pool and settings.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the token is empty.
    pub fn from_client(client: &Client, admin_token: impl Into<Secret>) -> Result<Self, Error> {
        client.admin(admin_token)
    }

    pub(crate) fn from_transport(transport: Transport, token: Secret) -> Result<Self, Error> {
        if token.expose().trim().is_empty() {
            return Err(invalid("admin_token", "must not be empty"));
        }
        Ok(Self { transport, token })
    }

    /// The base URL calls go to, without a trailing `/`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.transport.base_url()
    }

    fn authed<'a>(&'a self, call: Call<'a>) -> Call<'a> {
        call.credential(ADMIN_TOKEN_HEADER, &self.token)
    }

    /// The service configuration (`GET /v1/admin/config`).
    ///
    /// # Errors
    /// [`Error::Api`] with 401 for a wrong token.
    pub fn get_config(&self) -> Result<AdminConfig, Error> {
        self.transport.json(&self.authed(Call::get("/v1/admin/config", "/v1/admin/config".to_owned())))
    }

    /// All API keys, by fingerprint (`GET /v1/admin/keys`).
    ///
    /// # Errors
    /// [`Error::Api`] with 401 for a wrong token.
    pub fn list_keys(&self) -> Result<KeyList, Error> {
        self.transport.json(&self.authed(Call::get("/v1/admin/keys", "/v1/admin/keys".to_owned())))
    }

    /// Creates an API key (`POST /v1/admin/keys`). The answer holds the key itself, shown only
    /// this once.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty client id; [`Error::Api`] for the API's refusal.
    pub fn create_key(&self, request: &CreateKey) -> Result<CreatedKey, Error> {
        request.validate()?;
        self.transport.json(&self.authed(Call::post_json("/v1/admin/keys", "/v1/admin/keys".to_owned(), request)?))
    }

    /// Disables a key (`POST /v1/admin/keys/disable`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty fingerprint; [`Error::Api`] for an unknown one.
    pub fn disable_key(&self, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        self.set_key_state("/v1/admin/keys/disable", key_fingerprint)
    }

    /// Enables a disabled key (`POST /v1/admin/keys/enable`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty fingerprint; [`Error::Api`] for an unknown one.
    pub fn enable_key(&self, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        self.set_key_state("/v1/admin/keys/enable", key_fingerprint)
    }

    fn set_key_state(&self, route: &'static str, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        if key_fingerprint.trim().is_empty() {
            return Err(invalid("key_fingerprint", "must not be empty"));
        }
        let body = Fingerprint { key_fingerprint };
        self.transport.json(&self.authed(Call::post_json(route, route.to_owned(), &body)?))
    }
}

impl fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminClient")
            .field("base_url", &self.base_url())
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}
