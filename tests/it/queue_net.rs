//! The PostgreSQL queue on the databases teams run: TLS with libpq's `sslmode`, PgBouncer in
//! transaction mode, a server that never answers, backends ended under a running batch, a role
//! that may only read.
//!
//! The servers come from `.ci/postgres.sh` (started by `.ci/run`): the plain cluster
//! (`REMOVEBGVIDEO_TEST_POSTGRES_URL`), a cluster with `ssl=on` whose role `tls_only` may
//! connect only over TLS (`REMOVEBGVIDEO_TEST_POSTGRES_TLS_URL`, its CA in
//! `REMOVEBGVIDEO_TEST_POSTGRES_CA`, an unrelated CA in `REMOVEBGVIDEO_TEST_POSTGRES_WRONG_CA`),
//! on the same cluster a role `cert_only` that logs in only with a client certificate the CA
//! signed (`REMOVEBGVIDEO_TEST_POSTGRES_CERT_URL`, `..._CLIENT_CERT`, `..._CLIENT_KEY` in PKCS#1
//! and `..._CLIENT_KEY_PKCS8`, another key in `..._WRONG_KEY`) and a role `password_only` that logs in only with its password
//! (`REMOVEBGVIDEO_TEST_POSTGRES_PASSWORD_URL`, `..._PASSWORD`), and pgbouncer in front of the
//! plain one (`REMOVEBGVIDEO_TEST_PGBOUNCER_URL`). Without them the tests are skipped, except
//! under CI, where they fail.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::batch::*;
use crate::support::command::{command, run, text};
use crate::support::queue::*;
use crate::support::wire::WireServer;
use removebgvideo::batch::{BatchError, CertificateCheck, ItemStatus, Outcome, Queue};
use removebgvideo::simulator::Simulator;

/// The environment variable `name`, or `None` (a visible skip) outside CI.
fn server(name: &str) -> Option<String> {
    let set = std::env::var(name).ok().filter(|value| !value.is_empty());
    crate::support::require(
        "a PostgreSQL test server",
        set.ok_or_else(|| format!("{name} is not set (source .ci/postgres.sh && start_all_postgres)")),
    )
}

/// The TLS server's URL with a schema of the test's own and `params`, and its CA files.
fn tls(params: &str) -> Option<(String, String, String)> {
    let url = server("REMOVEBGVIDEO_TEST_POSTGRES_TLS_URL")?;
    let ca = server("REMOVEBGVIDEO_TEST_POSTGRES_CA")?;
    let wrong = server("REMOVEBGVIDEO_TEST_POSTGRES_WRONG_CA")?;
    let schema = format!("t_{:016x}", fastrand::u64(..));
    Some((format!("{url}?schema={schema}&{params}"), ca, wrong))
}

/// The `cert_only` role's files and URL (a schema of the test's own, `params`).
struct CertAuth {
    url: String,
    ca: String,
    cert: String,
    key: String,
    wrong_key: String,
}

fn cert_auth(params: &str) -> Option<CertAuth> {
    let url = server("REMOVEBGVIDEO_TEST_POSTGRES_CERT_URL")?;
    let schema = format!("t_{:016x}", fastrand::u64(..));
    Some(CertAuth {
        url: format!("{url}?schema={schema}&{params}"),
        ca: server("REMOVEBGVIDEO_TEST_POSTGRES_CA")?,
        cert: server("REMOVEBGVIDEO_TEST_POSTGRES_CLIENT_CERT")?,
        key: server("REMOVEBGVIDEO_TEST_POSTGRES_CLIENT_KEY")?,
        wrong_key: server("REMOVEBGVIDEO_TEST_POSTGRES_WRONG_KEY")?,
    })
}

/// Enqueues `items` items on `url` and works them with `threads` threads through the command,
/// then checks that each completed and has its output; the simulator, for more checks.
fn work_a_batch(url: &str, items: usize, threads: &str) -> Simulator {
    let q = enqueue_on(url.to_owned(), items, sim_builder(), &[]);
    let worked = run(&q.sim, &worker_args(url, &q.out, threads, "5", "0.05"));
    assert_eq!(worked.status.code(), Some(0), "{}{}", text(&worked.stdout), text(&worked.stderr));
    let report = Queue::connect(url).unwrap().report().unwrap();
    assert_eq!(report.count(ItemStatus::Completed), items);
    assert_eq!(final_outputs(Path::new(&q.out)).len(), items);
    q.sim
}

#[test]
fn a_batch_works_on_a_role_that_logs_in_with_a_client_certificate() {
    let Some(auth) = cert_auth("sslmode=verify-full") else { return };
    let url = format!("{}&sslrootcert={}&sslcert={}&sslkey={}", auth.url, auth.ca, auth.cert, auth.key);
    work_a_batch(&url, 3, "2");
}

#[test]
fn without_a_client_certificate_the_cert_role_is_refused_naming_it() {
    let Some(auth) = cert_auth("sslmode=require") else { return };
    let error = Queue::connect(&auth.url).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, BatchError::Queue { .. }), "{error:?}");
    assert!(message.contains("the server asks for a client certificate and none was given"), "{message}");
    assert!(message.contains("sslcert"), "{message}");
}

#[test]
fn a_client_certificate_the_server_does_not_trust_is_refused_saying_why() {
    let Some(auth) = cert_auth("sslmode=require") else { return };
    // The other CA's own certificate and key: a pair that matches, signed by no authority the
    // server trusts, so only the server can refuse it.
    let Some(untrusted) = server("REMOVEBGVIDEO_TEST_POSTGRES_WRONG_CA") else { return };
    let error = Queue::connect(&format!("{}&sslcert={untrusted}&sslkey={}", auth.url, auth.wrong_key)).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, BatchError::Queue { .. }), "{error:?}");
    assert!(message.contains(&format!("the server refused the client certificate {untrusted}")), "{message}");
    assert!(message.contains("no authority the server trusts (its ssl_ca_file) signed it"), "{message}");
}

#[test]
fn a_wrong_or_exposed_client_key_is_refused_before_connecting() {
    let Some(auth) = cert_auth("sslmode=require") else { return };
    // InvalidInput is never an answer of the server: these are refused before any connection.
    let error = Queue::connect(&format!("{}&sslcert={}&sslkey={}", auth.url, auth.cert, auth.wrong_key)).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, BatchError::InvalidInput { field: "sslkey", .. }), "{error:?}");
    assert!(message.contains("is not the key of the certificate in"), "{message}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let exposed = dir.path().join("client.key");
        std::fs::copy(&auth.key, &exposed).unwrap();
        std::fs::set_permissions(&exposed, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Queue::connect(&format!("{}&sslcert={}&sslkey={}", auth.url, auth.cert, exposed.display()));
        let error = error.unwrap_err();
        assert!(matches!(&error, BatchError::InvalidInput { field: "sslkey", .. }), "{error:?}");
        assert!(error.to_string().contains("has group or world access (mode 0644)"), "{error}");
        std::fs::set_permissions(&exposed, std::fs::Permissions::from_mode(0o600)).unwrap();
        Queue::connect(&format!("{}&sslcert={}&sslkey={}", auth.url, auth.cert, exposed.display()))
            .expect("the same key at 0600 is taken");
    }
}

#[cfg(unix)]
#[test]
fn a_password_file_others_may_read_is_not_used_and_the_refusal_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let (Some(url), Some(password)) =
        (server("REMOVEBGVIDEO_TEST_POSTGRES_PASSWORD_URL"), server("REMOVEBGVIDEO_TEST_POSTGRES_PASSWORD"))
    else {
        return;
    };
    // PGPASSWORD comes before any password file, as with libpq.
    let unset = crate::support::require(
        "PGPASSWORD unset",
        std::env::var("PGPASSWORD").map_or(Ok(()), |_| Err("PGPASSWORD is set")),
    );
    if unset.is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgpass");
    std::fs::write(&file, format!("127.0.0.1:*:*:password_only:{password}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let url = format!("{url}?passfile={}", file.display());
    let error = Queue::connect(&url).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("the server wants a password and the password file"), "{message} {error:?}");
    assert!(
        message.contains("was not read: it has group or world access") && message.contains("chmod 0600"),
        "{message}"
    );
    assert!(!format!("{message} {error:?}").contains(&password), "{error:?}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    Queue::connect(&url).expect("the same file at 0600 is read");
    // No password file at all: the refusal says where a password comes from.
    let none = url.replace(file.to_str().unwrap(), &dir.path().join("absent").display().to_string());
    let message = Queue::connect(&none).unwrap_err().to_string();
    assert!(message.contains("the server wants a password and none was given (PGPASSWORD"), "{message}");
}

#[test]
fn require_encrypts_and_the_tls_only_role_is_refused_without_it() {
    let Some((url, _, _)) = tls("sslmode=require") else { return };
    let queue = Queue::connect(&url).expect("sslmode=require connects over TLS");
    assert_eq!(queue.report().unwrap().items.len(), 0);
    // The same role without TLS: the server's pg_hba refuses it, so the connect above was TLS.
    let plain = Queue::connect(&url.replace("sslmode=require", "sslmode=disable")).unwrap_err().to_string();
    assert!(plain.contains("could not connect to 127.0.0.1:"), "{plain}");
    // prefer (the default) takes TLS when the server offers it.
    Queue::connect(&url.replace("sslmode=require", "")).expect("prefer uses the server's TLS");
}

#[test]
fn verify_full_with_the_servers_ca_connects() {
    let Some((url, ca, _)) = tls("sslmode=verify-full") else { return };
    let queue = Queue::connect(&format!("{url}&sslrootcert={ca}")).expect("the certificate names 127.0.0.1");
    assert_eq!(queue.report().unwrap().outcome, Outcome::Finished);
}

#[test]
fn verify_full_with_a_wrong_ca_is_refused_as_an_unknown_issuer() {
    let Some((url, _, wrong)) = tls("sslmode=verify-full") else { return };
    let error = Queue::connect(&format!("{url}&sslrootcert={wrong}")).unwrap_err();
    assert!(
        matches!(&error, BatchError::QueueCertificate { check: CertificateCheck::UnknownIssuer, server } if server.starts_with("127.0.0.1:")),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("no trusted authority (sslrootcert) signed it"), "{message}");
    // require with a root certificate checks the chain too, as libpq.
    let error = Queue::connect(&format!("{url}&sslrootcert={wrong}").replace("verify-full", "require")).unwrap_err();
    assert!(matches!(error, BatchError::QueueCertificate { check: CertificateCheck::UnknownIssuer, .. }), "{error:?}");
}

#[test]
fn verify_ca_takes_a_certificate_for_another_name_and_verify_full_refuses_it() {
    // Connecting to 127.0.0.1 under a name the certificate does not carry.
    let Some((url, ca, _)) = tls("sslmode=verify-ca") else { return };
    let url = format!("{url}&sslrootcert={ca}&hostaddr=127.0.0.1").replace("@127.0.0.1:", "@db.invalid:");
    Queue::connect(&url).expect("verify-ca checks the chain, not the name");
    let error = Queue::connect(&url.replace("verify-ca", "verify-full")).unwrap_err();
    assert!(matches!(error, BatchError::QueueCertificate { check: CertificateCheck::NameMismatch, .. }), "{error:?}");
    assert!(error.to_string().contains("it does not name the host connected to"), "{error}");
}

#[test]
fn a_server_that_accepts_and_never_answers_fails_the_report_at_connect_timeout() {
    // Accepts every connection and answers nothing: a PostgreSQL client's bytes never make the
    // HTTP head the wire server waits for.
    let silent = WireServer::serve(|_, _| {});
    let port = silent.url().rsplit_once(':').unwrap().1.parse::<u16>().unwrap();
    let sim = simulator();
    let url = format!("postgres://someone:s3cr3t-pw@127.0.0.1:{port}/db?connect_timeout=1");
    let shown = run(&sim, &["batch", "--queue", &url, "--report"]);
    assert_ne!(shown.status.code(), Some(0));
    let stderr = text(&shown.stderr);
    assert!(stderr.contains(&format!("could not connect to 127.0.0.1:{port}: no answer within 1 s")), "{stderr}");
    assert!(!stderr.contains("s3cr3t-pw") && !text(&shown.stdout).contains("s3cr3t-pw"), "{stderr}");

    let error = Queue::connect(&url).unwrap_err();
    assert!(!format!("{error} {error:?}").contains("s3cr3t-pw"), "{error:?}");
}

#[test]
fn a_batch_works_through_pgbouncer_in_transaction_mode() {
    let (Some(db), Some(bouncer)) = (database(), server("REMOVEBGVIDEO_TEST_PGBOUNCER_URL")) else { return };
    // The same database, through pgbouncer.
    let name = db.rsplit_once('/').unwrap().1;
    let url = format!("{}/{name}", bouncer.rsplit_once('/').unwrap().0);
    let sim = work_a_batch(&url, 12, "4");
    assert_eq!(sim.job_count(), 12);
}

#[test]
fn backends_ended_under_a_running_batch_cost_a_pause_and_each_item_is_made_once() {
    const ITEMS: usize = 24;
    let Some(q) = enqueued_with(ITEMS, sim_builder().job_seconds(0.3).worker_threads(12), &[]) else { return };
    let mut worker: Child = command(&q.sim, &worker_args(&q.db, &q.out, "8", "5", "0.1")).spawn().unwrap();

    let name = q.db.rsplit_once('/').unwrap().1.to_owned();
    let admin_url = std::env::var("REMOVEBGVIDEO_TEST_POSTGRES_URL").unwrap();
    let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ended = 0;
    while worker.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the batch did not finish in 60 s");
        // The chaos schedule, not a synchronisation: every backend of the batch's database
        // ended every 0.5 s, as a failover or an idle-connection reaper would.
        std::thread::sleep(Duration::from_millis(500));
        let rows = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )
            .unwrap();
        ended += rows.len();
    }
    let done = worker.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(0), "{}{}", text(&done.stdout), text(&done.stderr));
    eprintln!("{ended} backends ended mid-batch");
    assert!(ended >= 3, "backends were ended mid-batch ({ended})");
    assert_eq!(q.sim.job_count(), ITEMS, "one job per item");
    assert!(jobs_by_item(&q.sim).values().all(|jobs| jobs.len() == 1));
    let report = Queue::connect(&q.db).unwrap().report().unwrap();
    assert_eq!(report.count(ItemStatus::Completed), ITEMS);
    assert_eq!(final_outputs(Path::new(&q.out)).len(), ITEMS);
}

#[test]
fn a_role_that_may_only_read_runs_the_report_and_connecting_runs_no_ddl() {
    let Some(q) = enqueued(3) else { return };
    let role = format!("reader_{:08x}", fastrand::u32(..));
    let mut admin = postgres::Client::connect(&q.db, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA public TO {role};
             GRANT SELECT ON removebgvideo_queue_items, removebgvideo_queue_schema, removebgvideo_queue_control TO {role};
             REVOKE CREATE ON SCHEMA public FROM PUBLIC"
        ))
        .unwrap();
    let reader = q.db.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let queue = Queue::connect(&reader).expect("tables at their version: connecting only reads");
    assert_eq!(queue.report().unwrap().items.len(), 3);
    let shown = run(&q.sim, &["batch", "--queue", &reader, "--no-migrate", "--report", "--json"]);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["counts"]["unfinished"], 3);
}

#[test]
fn without_migrations_missing_tables_are_an_error_that_says_so() {
    let Some(db) = database() else { return };
    let error = Queue::builder(&db).migrate(false).connect().unwrap_err().to_string();
    assert!(error.contains("version 0 (0: not created)") && error.contains("needs version"), "{error}");
}

#[test]
fn two_batches_share_a_database_in_schemas_of_their_own() {
    let Some(q) = enqueued_with(2, sim_builder(), &["--queue-schema", "batch_a"]) else { return };
    let second = Queue::connect(&format!("{}?schema=batch_b", q.db)).unwrap();
    assert_eq!(second.report().unwrap().items.len(), 0, "another schema, another queue");
    let first = Queue::builder(&q.db).schema("batch_a").connect().unwrap();
    assert_eq!(first.report().unwrap().items.len(), 2);
}

#[test]
fn allow_tries_without_tls_then_with_it_when_the_server_refuses() {
    let Some((url, _, _)) = tls("sslmode=allow") else { return };
    Queue::connect(&url).expect("the tls_only role is refused without TLS, then taken with it");
}

#[test]
fn settings_that_cannot_work_are_refused_before_any_connection() {
    // Port 9 (discard) on 127.0.0.1: nothing is ever sent there.
    let unreadable = Queue::connect("postgres://u@127.0.0.1:9/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
    let error = unreadable.unwrap_err();
    assert!(matches!(&error, BatchError::Io { path, .. } if path.ends_with("ca.pem")), "{error:?}");
    let error = Queue::builder("postgres://u@127.0.0.1:9/d").pool_size(0).connect().unwrap_err().to_string();
    assert!(error.contains("invalid pool size: must be from 1 to 64"), "{error}");
    let error = Queue::connect("postgres://u@127.0.0.1:9/d?sslmode=verify-all").unwrap_err().to_string();
    assert!(error.contains("sslmode \"verify-all\" is not one of"), "{error}");
}

/// The same checks through the platform's TLS (OpenSSL here).
#[cfg(feature = "postgres-native-tls")]
#[test]
fn the_platform_tls_checks_certificates_as_rustls_does() {
    let Some((url, ca, wrong)) = tls("sslmode=verify-full") else { return };
    let connect = |url: &str| Queue::builder(url).platform_tls(true).connect();
    connect(&format!("{url}&sslrootcert={ca}")).expect("verify-full with the server's CA");
    let error = connect(&format!("{url}&sslrootcert={wrong}")).unwrap_err();
    assert!(matches!(error, BatchError::QueueCertificate { check: CertificateCheck::UnknownIssuer, .. }), "{error:?}");
    let other = format!("{url}&sslrootcert={ca}&hostaddr=127.0.0.1").replace("@127.0.0.1:", "@db.invalid:");
    let error = connect(&other).unwrap_err();
    assert!(matches!(error, BatchError::QueueCertificate { check: CertificateCheck::NameMismatch, .. }), "{error:?}");
    connect(&other.replace("verify-full", "verify-ca")).expect("verify-ca checks the chain, not the name");
    connect(&url.replace("verify-full", "require")).expect("require encrypts without checking");
}

/// The client certificate through the platform's TLS, which takes PKCS#8 keys only.
#[cfg(feature = "postgres-native-tls")]
#[test]
fn the_platform_tls_presents_the_client_certificate() {
    let Some(auth) = cert_auth("sslmode=verify-full") else { return };
    let Some(pkcs8) = server("REMOVEBGVIDEO_TEST_POSTGRES_CLIENT_KEY_PKCS8") else { return };
    let connect = |url: &str| Queue::builder(url).platform_tls(true).connect();
    let url = format!("{}&sslrootcert={}&sslcert={}", auth.url, auth.ca, auth.cert);
    let queue = connect(&format!("{url}&sslkey={pkcs8}")).expect("cert auth through the platform's TLS");
    assert_eq!(queue.report().unwrap().items.len(), 0);
    let error = connect(&format!("{url}&sslkey={}", auth.key)).unwrap_err();
    assert!(matches!(&error, BatchError::InvalidInput { field: "sslkey", .. }), "{error:?}");
    assert!(error.to_string().contains("takes a PKCS#8 key"), "{error}");
    let without = format!("{}&sslrootcert={}", auth.url, auth.ca);
    let error = connect(&without).unwrap_err().to_string();
    assert!(error.contains("the server asks for a client certificate and none was given"), "{error}");
    let Some(untrusted) = server("REMOVEBGVIDEO_TEST_POSTGRES_WRONG_CA") else { return };
    let error = connect(&format!("{without}&sslcert={untrusted}&sslkey={}", auth.wrong_key)).unwrap_err().to_string();
    // OpenSSL reads the server's alert most times; now and then only the reset that follows it
    // (TLS 1.3 checks the certificate after the client's handshake), which is said as such.
    assert!(
        error.contains("no authority the server trusts (its ssl_ca_file) signed it")
            || error
                .contains("reset the connection without saying why, as it does when it refuses the client certificate"),
        "{error}"
    );
}
