//! The admin clients (`/v1/admin`, authenticated with `X-Admin-Token`): [`AsyncAdminClient`]
//! holds the calls; [`AdminClient`] runs them on the crate's runtime.
//!
//! The vendor's docs call these routes internal ("not exposed as public customer API";
//! customers use the dashboard); the official SDKs still ship an admin client, so this crate
//! keeps one.

use http::HeaderValue;
use serde::Serialize;

use crate::client::error::{invalid, Error};
use crate::client::runtime::CrateRuntime;
use crate::client::transport::{credential_header, Call, Transport, ADMIN_TOKEN_HEADER};
use crate::models::{AdminConfig, CreateKey, CreatedKey, KeyList, KeyStatusChange};
use crate::secret::Secret;

/// An async client of the admin API. Cheap to clone, `Send + Sync`, its futures `Send`.
///
/// Make one with [`AsyncAdminClient::new`], [`from_env`](Self::from_env),
/// [`builder`](Self::builder), or from an [`AsyncClient`](crate::AsyncClient) with
/// [`AsyncClient::admin`](crate::AsyncClient::admin) to share its connection pool.
///
/// ```no_run
/// # async fn run() -> Result<(), removebgvideo::Error> {
/// use removebgvideo::models::CreateKey;
/// use removebgvideo::AsyncAdminClient;
///
/// let admin = AsyncAdminClient::from_env()?;
/// let key = admin.create_key(&CreateKey::new("acme-backend").note("production")).await?;
/// println!("store this key now: {}", key.api_key.expose());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AsyncAdminClient {
    pub(crate) transport: Transport,
    token: HeaderValue,
}

/// A blocking client of the admin API. Cheap to clone and `Send + Sync`.
///
/// Make one with [`AdminClient::new`], [`AdminClient::from_env`], [`AdminClient::builder`],
/// or from an existing [`Client`](crate::Client) with [`Client::admin`](crate::Client::admin)
/// to share its connection pool and runtime.
///
/// ```no_run
/// use removebgvideo::models::CreateKey;
/// use removebgvideo::AdminClient;
///
/// let admin = AdminClient::from_env()?;
/// let key = admin.create_key(&CreateKey::new("acme-backend").note("production"))?;
/// println!("store this key now: {}", key.api_key.expose());
/// admin.disable_key(&key.key_fingerprint)?;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Clone)]
pub struct AdminClient {
    pub(crate) inner: AsyncAdminClient,
    runtime: CrateRuntime,
}

#[derive(Serialize)]
struct Fingerprint<'a> {
    key_fingerprint: &'a str,
}

impl AsyncAdminClient {
    pub(crate) fn from_transport(transport: Transport, token: &Secret) -> Result<Self, Error> {
        let token = credential_header("admin_token", "admin token", token)?;
        Ok(Self { transport: transport.hiding(&token), token })
    }

    fn authed<'a>(&'a self, call: Call<'a>) -> Call<'a> {
        call.credential(ADMIN_TOKEN_HEADER, &self.token)
    }

    /// The service configuration (`GET /v1/admin/config`).
    ///
    /// # Errors
    /// [`Error::Api`] with 401 for a wrong token.
    pub async fn get_config(&self) -> Result<AdminConfig, Error> {
        self.transport.json(&self.authed(Call::get("/v1/admin/config", "/v1/admin/config".to_owned()))).await
    }

    /// All API keys, by fingerprint (`GET /v1/admin/keys`).
    ///
    /// # Errors
    /// [`Error::Api`] with 401 for a wrong token.
    pub async fn list_keys(&self) -> Result<KeyList, Error> {
        self.transport.json(&self.authed(Call::get("/v1/admin/keys", "/v1/admin/keys".to_owned()))).await
    }

    /// Creates an API key (`POST /v1/admin/keys`). The answer holds the key itself, shown only
    /// this once.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty client id; [`Error::Api`] for the API's refusal.
    pub async fn create_key(&self, request: &CreateKey) -> Result<CreatedKey, Error> {
        request.check()?;
        let call = Call::post_json("/v1/admin/keys", "/v1/admin/keys".to_owned(), request)?.reveals_secret();
        self.transport.json(&self.authed(call)).await
    }

    /// Disables a key (`POST /v1/admin/keys/disable`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty fingerprint; [`Error::Api`] for an unknown one.
    pub async fn disable_key(&self, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        self.set_key_state("/v1/admin/keys/disable", key_fingerprint).await
    }

    /// Enables a disabled key (`POST /v1/admin/keys/enable`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty fingerprint; [`Error::Api`] for an unknown one.
    pub async fn enable_key(&self, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        self.set_key_state("/v1/admin/keys/enable", key_fingerprint).await
    }

    async fn set_key_state(&self, route: &'static str, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        if key_fingerprint.trim().is_empty() {
            return Err(invalid("key_fingerprint", "must not be empty"));
        }
        let body = Fingerprint { key_fingerprint };
        let call = self.authed(Call::post_json(route, route.to_owned(), &body)?);
        self.transport.json(&call).await
    }
}

impl AdminClient {
    pub(crate) fn from_parts(inner: AsyncAdminClient, runtime: CrateRuntime) -> Self {
        Self { inner, runtime }
    }

    /// The service configuration (`GET /v1/admin/config`).
    ///
    /// # Errors
    /// As [`AsyncAdminClient::get_config`].
    pub fn get_config(&self) -> Result<AdminConfig, Error> {
        let inner = self.inner.clone();
        self.runtime.run(async move { inner.get_config().await })
    }

    /// All API keys, by fingerprint (`GET /v1/admin/keys`).
    ///
    /// # Errors
    /// As [`AsyncAdminClient::list_keys`].
    pub fn list_keys(&self) -> Result<KeyList, Error> {
        let inner = self.inner.clone();
        self.runtime.run(async move { inner.list_keys().await })
    }

    /// Creates an API key (`POST /v1/admin/keys`). The answer holds the key itself, shown only
    /// this once.
    ///
    /// # Errors
    /// As [`AsyncAdminClient::create_key`].
    pub fn create_key(&self, request: &CreateKey) -> Result<CreatedKey, Error> {
        let (inner, request) = (self.inner.clone(), request.clone());
        self.runtime.run(async move { inner.create_key(&request).await })
    }

    /// Disables a key (`POST /v1/admin/keys/disable`).
    ///
    /// # Errors
    /// As [`AsyncAdminClient::disable_key`].
    pub fn disable_key(&self, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        let (inner, key_fingerprint) = (self.inner.clone(), key_fingerprint.to_owned());
        self.runtime.run(async move { inner.disable_key(&key_fingerprint).await })
    }

    /// Enables a disabled key (`POST /v1/admin/keys/enable`).
    ///
    /// # Errors
    /// As [`AsyncAdminClient::enable_key`].
    pub fn enable_key(&self, key_fingerprint: &str) -> Result<KeyStatusChange, Error> {
        let (inner, key_fingerprint) = (self.inner.clone(), key_fingerprint.to_owned());
        self.runtime.run(async move { inner.enable_key(&key_fingerprint).await })
    }
}
