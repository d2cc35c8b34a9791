//! The queue's connections: one small pool per process (r2d2) shared by every worker thread,
//! each statement one round trip on a connection borrowed for that statement alone, and a
//! statement whose connection was lost (a failover, a restart, `pg_terminate_backend`, an
//! idle-connection reaper) sent again on a new one after a pause. Every statement the queue
//! sends can be sent twice with the same effect, so a blip costs a pause, never a lease.
//!
//! Statements go as unnamed prepared statements with their parameter types given
//! (`query_typed`): one round trip each, no server-side state between them, which is what
//! PgBouncer's transaction mode allows.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Socket};

use super::config::{SslMode, Target};
use super::tls::{self, Connector};
use crate::batch::error::{causes, BatchError};
use crate::clock::Clock;

/// The queue's tables, as the statements name them (the schema is put in front of them).
const TABLES: [&str; 3] = ["removebgvideo_queue_items", "removebgvideo_queue_schema", "removebgvideo_queue_control"];

/// A statement's parameters with their PostgreSQL types.
pub(crate) type Typed<'a> = &'a [(&'a (dyn ToSql + Sync), Type)];

/// What every connection of a process shares.
pub(crate) struct Shared {
    runtime: tokio::runtime::Runtime,
    pool: r2d2::Pool<Manager>,
    last: Arc<LastFailure>,
    /// The schema prefix of the tables (`"name".`), or empty.
    prefix: String,
    clock: Arc<dyn Clock>,
    /// How long a lost connection is tried again before the statement fails.
    patience: Duration,
}

/// A worker thread's handle on the pool: each statement borrows a connection for itself.
pub(crate) struct Connection {
    shared: Arc<Shared>,
}

/// One pooled connection.
pub(crate) struct Pooled {
    client: Client,
    broken: bool,
}

struct Manager {
    target: Target,
    tls: Connector,
    handle: tokio::runtime::Handle,
    /// The last failed connect, with whether trying again may help: r2d2 keeps only a message.
    last: Arc<LastFailure>,
}

type LastFailure = Mutex<Option<(BatchError, bool)>>;

/// A connect's failure as r2d2 sees it.
#[derive(Debug)]
struct ConnectFailed(String);

impl std::fmt::Display for ConnectFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectFailed {}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectFailed;

    fn connect(&self) -> Result<Pooled, ConnectFailed> {
        match self.handle.block_on(open(&self.target, &self.tls)) {
            Ok(client) => Ok(Pooled { client, broken: false }),
            Err((error, transient)) => {
                let message = error.to_string();
                *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((error, transient));
                Err(ConnectFailed(message))
            }
        }
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), ConnectFailed> {
        self.handle.block_on(conn.client.simple_query("")).map(drop).map_err(|e| ConnectFailed(e.to_string()))
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// Opens one connection, bounded by `connect_timeout` from the first packet to the last. The
/// error says whether trying again may help.
async fn open(target: &Target, tls: &Connector) -> Result<Client, (BatchError, bool)> {
    let attempt = async {
        match tls {
            Connector::Rustls(tls) => connect_with(target, tls).await,
            #[cfg(feature = "postgres-native-tls")]
            Connector::Platform(tls) => connect_with(target, tls).await,
        }
    };
    let server = &target.server;
    match tokio::time::timeout(target.connect_timeout, attempt).await {
        Err(_) => Err((
            BatchError::Queue {
                reason: format!(
                    "could not connect to {server}: no answer within {} s (connect_timeout)",
                    target.connect_timeout.as_secs()
                ),
                source: None,
            },
            true,
        )),
        Ok(Ok(client)) => Ok(client),
        Ok(Err(error)) => {
            if let Some(check) = tls::refused_check(&error) {
                return Err((BatchError::QueueCertificate { server: server.clone(), check }, false));
            }
            // Refused credentials, a missing database or role: waiting does not help.
            let transient = error.as_db_error().is_none_or(|db| !matches!(&db.code().code()[..2], "28" | "3D" | "42"));
            let reason = match refused_because(target, &error) {
                Some(because) => format!("could not connect to {server}: {because}"),
                None => format!("could not connect to {server}"),
            };
            Err((queue_error(reason, error), transient))
        }
    }
}

/// What the user can do about a refused login the server's message alone does not say: no
/// client certificate was given to a server that asks for one, or no password to one that
/// asks for it (and the password file, when it was skipped, and why).
fn refused_because(target: &Target, error: &tokio_postgres::Error) -> Option<String> {
    if let Some(cert) = &target.client_cert {
        if let Some(why) = tls::refused_client_certificate(error) {
            return Some(format!("the server refused the client certificate {}: {why}", cert.cert.display()));
        }
        if reset_by_server(error) {
            // With TLS 1.3 the server checks the certificate after the client has finished its
            // handshake; its alert can be lost to the reset that follows (OpenSSL sees only the
            // reset, now and then), so the likeliest cause is said as such.
            return Some(format!(
                "the server reset the connection without saying why, as it does when it refuses the client \
                 certificate {}; check that an authority in its ssl_ca_file signed it and that it is valid, \
                 and read the server's log",
                cert.cert.display()
            ));
        }
    }
    let login = error.as_db_error().filter(|db| db.code().code().starts_with("28"));
    if login.is_some_and(|db| db.message().contains("certificate")) && target.client_cert.is_none() {
        return Some(
            "the server asks for a client certificate and none was given (sslcert and sslkey, or \
             ~/.postgresql/postgresql.crt and postgresql.key)"
                .to_owned(),
        );
    }
    if target.pg.get_password().is_some() {
        return None;
    }
    // tokio-postgres's own error when the server asks for a password it was not given.
    let missing = std::error::Error::source(error).is_some_and(|cause| cause.to_string() == "password missing");
    match &target.passfile_skipped {
        Some(skipped) if missing || login.is_some() => Some(format!("the server wants a password and {skipped}")),
        _ if missing => Some(
            "the server wants a password and none was given (PGPASSWORD, or a line for this connection in \
             the password file: passfile, PGPASSFILE or ~/.pgpass)"
                .to_owned(),
        ),
        _ => None,
    }
}

/// Whether the connection ended in a reset (or a write to a closed one) rather than an answer.
fn reset_by_server(error: &tokio_postgres::Error) -> bool {
    use std::io::ErrorKind;
    causes(error).any(|error| {
        let kind = error.downcast_ref::<std::io::Error>().map(std::io::Error::kind);
        matches!(kind, Some(ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe))
    })
}

/// Connects through `tls` (`allow`: without TLS first, then with it when the server refused)
/// and drives the connection on the runtime.
async fn connect_with<T>(target: &Target, tls: &T) -> Result<Client, tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket> + Clone,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let first = target.pg.connect(tls.clone()).await;
    let (client, connection) = match (target.ssl, first) {
        (SslMode::Allow, Err(error)) if error.as_db_error().is_some() => {
            let mut pg = target.pg.clone();
            pg.ssl_mode(tokio_postgres::config::SslMode::Require);
            pg.connect(tls.clone()).await?
        }
        (_, other) => other?,
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A queue error from a database error.
pub(crate) fn queue_error(reason: impl Into<String>, source: tokio_postgres::Error) -> BatchError {
    BatchError::Queue { reason: reason.into(), source: Some(Box::new(source)) }
}

/// Whether a statement failed because its connection is gone (the statement may be sent again
/// on another), rather than for what it says.
fn lost(error: &tokio_postgres::Error, client: &Client) -> bool {
    if client.is_closed() || error.is_closed() {
        return true;
    }
    match error.as_db_error() {
        // 57P01 admin_shutdown (pg_terminate_backend, a restart), 57P02 crash_shutdown,
        // 57P03 cannot_connect_now, 08xxx connection exceptions.
        Some(db) => matches!(db.code().code(), "57P01" | "57P02" | "57P03") || db.code().code().starts_with("08"),
        // No answer at all: the connection broke under the statement.
        None => std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>()),
    }
}

impl Shared {
    /// The pool for `target`; opens one connection at once and hands it to `first` (the
    /// schema's check), so that a wrong URL, password or certificate fails here, typed.
    pub(crate) fn open(
        target: Target,
        size: u32,
        clock: Arc<dyn Clock>,
        patience: Duration,
        platform_tls: bool,
    ) -> Result<(Arc<Shared>, Client), BatchError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("removebgvideo-queue")
            .enable_all()
            .build()
            .map_err(|source| BatchError::Queue {
                reason: "could not start the queue's runtime".to_owned(),
                source: Some(Box::new(source)),
            })?;
        let tls = tls::connector(&target, platform_tls)?;
        let first = runtime.block_on(open(&target, &tls)).map_err(|(error, _)| error)?;
        let prefix = target.schema.as_ref().map(|schema| format!("\"{schema}\".")).unwrap_or_default();
        let last = Arc::new(Mutex::new(None));
        let manager =
            Manager { handle: runtime.handle().clone(), target: target.clone(), tls, last: Arc::clone(&last) };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .connection_timeout(target.connect_timeout + Duration::from_secs(1))
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        Ok((Arc::new(Shared { runtime, pool, last, prefix, clock, patience }), first))
    }

    /// Runs `future` on the queue's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `sql` with its tables in the queue's schema.
    pub(crate) fn qualify(&self, sql: &str) -> String {
        if self.prefix.is_empty() {
            return sql.to_owned();
        }
        let mut sql = sql.to_owned();
        for table in TABLES {
            sql = sql.replace(&format!(" {table}"), &format!(" {}{table}", self.prefix));
        }
        sql
    }

    /// How many connections the pool holds now (open, idle or lent).
    pub(crate) fn connections(&self) -> u32 {
        self.pool.state().connections
    }
}

impl Connection {
    pub(crate) fn new(shared: Arc<Shared>) -> Connection {
        Connection { shared }
    }

    /// Sends one statement and returns its rows and the rows it changed; `what` is the error's
    /// reason. A lost connection is replaced and the statement sent again, with pauses
    /// growing from 0.1 s to 5 s, for up to the queue's patience.
    pub(crate) fn query(&mut self, what: &str, sql: &str, params: Typed<'_>) -> Result<(Vec<Row>, u64), BatchError> {
        let shared = &*self.shared;
        let sql = shared.qualify(sql);
        let started = shared.clock.now();
        let mut pause = Duration::from_millis(100);
        loop {
            let failure = match shared.pool.get() {
                Ok(mut conn) => match shared.runtime.block_on(send(&conn.client, &sql, params)) {
                    Ok(done) => return Ok(done),
                    Err(error) if lost(&error, &conn.client) => {
                        conn.broken = true;
                        queue_error(format!("{what}: the connection was lost"), error)
                    }
                    Err(error) => return Err(queue_error(what, error)),
                },
                Err(timeout) => {
                    let last = shared.last.lock().unwrap_or_else(PoisonError::into_inner).take();
                    match last {
                        Some((error, false)) => return Err(error),
                        Some((error, true)) => error,
                        None => BatchError::Queue {
                            reason: format!("{what}: no connection free in the pool"),
                            source: Some(Box::new(ConnectFailed(timeout.to_string()))),
                        },
                    }
                }
            };
            if shared.clock.now().saturating_duration_since(started) >= shared.patience {
                return Err(failure);
            }
            // The pause is made inside the runtime: the real clock is tokio's.
            shared.runtime.block_on(async { shared.clock.sleep(pause).await });
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// The rows of one statement.
    pub(crate) fn rows(&mut self, what: &str, sql: &str, params: Typed<'_>) -> Result<Vec<Row>, BatchError> {
        self.query(what, sql, params).map(|(rows, _)| rows)
    }

    /// How many rows one statement changed.
    pub(crate) fn execute(&mut self, what: &str, sql: &str, params: Typed<'_>) -> Result<u64, BatchError> {
        self.query(what, sql, params).map(|(_, changed)| changed)
    }

    /// The one row of one statement, if any.
    pub(crate) fn row(&mut self, what: &str, sql: &str, params: Typed<'_>) -> Result<Option<Row>, BatchError> {
        self.rows(what, sql, params).map(|rows| rows.into_iter().next())
    }
}

async fn send(client: &Client, sql: &str, params: Typed<'_>) -> Result<(Vec<Row>, u64), tokio_postgres::Error> {
    let stream = client.query_typed_raw(sql, params.iter().map(|(value, ty)| (*value, ty.clone()))).await?;
    let mut stream = std::pin::pin!(stream);
    let mut rows = Vec::new();
    while let Some(row) = std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await {
        rows.push(row?);
    }
    let changed = stream.rows_affected().unwrap_or(0);
    Ok((rows, changed))
}
