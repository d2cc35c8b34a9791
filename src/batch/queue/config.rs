//! The queue's connection string, read with libpq's meanings: a `postgres://` URL or the
//! `key=value` form, `sslmode` (`disable`, `allow`, `prefer`, `require`, `verify-ca`,
//! `verify-full`), `sslrootcert` (a file, or `system`), the client certificate's files
//! (`sslcert`, `sslkey`, read later by `client_cert`), the crate's own `schema`, and the
//! password from the URL, `PGPASSWORD` or a password file (`passfile`, `PGPASSFILE`,
//! `~/.pgpass`, skipped as libpq does when others may read it). Everything else goes to the
//! PostgreSQL client as given.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::batch::error::BatchError;

/// How long a connection may take, from the first packet to the first statement, unless the
/// URL says otherwise (`connect_timeout`, in seconds, as libpq).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// Where trusted certificate authorities come from (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roots {
    /// A PEM file of one or more certificates.
    File(PathBuf),
    /// The platform's trust store (`sslrootcert=system`).
    System,
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Encrypted, but any certificate is taken (`prefer`, `allow`, `require` without a root).
    Nothing,
    /// Signed by a trusted authority; any name (`verify-ca`, `require` with `sslrootcert`).
    Chain,
    /// Signed by a trusted authority and naming the host connected to (`verify-full`).
    Full,
}

/// The files of the client certificate a connection presents (`sslcert`, `sslkey`), not yet
/// read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientCert {
    /// The certificate chain (PEM), the client's own first.
    pub(crate) cert: PathBuf,
    /// Its private key (PEM).
    pub(crate) key: PathBuf,
}

/// A parsed connection string.
#[derive(Clone)]
pub(crate) struct Target {
    /// What the PostgreSQL client gets (without the keys read here).
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) ssl: SslMode,
    /// The trusted authorities, when anything is verified.
    pub(crate) roots: Option<Roots>,
    pub(crate) verify: Verify,
    /// The schema of the queue's tables (`schema=`), when not the connection's default.
    pub(crate) schema: Option<String>,
    /// The bound on one whole connect.
    pub(crate) connect_timeout: Duration,
    /// `host:port` for messages (never the user or the password).
    pub(crate) server: String,
    /// The client certificate to present, when one is given or at libpq's default place (never
    /// with `sslmode=disable`).
    pub(crate) client_cert: Option<ClientCert>,
    /// Why a password file that exists was not read (libpq skips one others may read), to say
    /// when the server then refuses the connection for want of a password.
    pub(crate) passfile_skipped: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the user, not the password.
        f.debug_struct("Target")
            .field("server", &self.server)
            .field("ssl", &self.ssl)
            .field("verify", &self.verify)
            .field("schema", &self.schema)
            .field("client_cert", &self.client_cert)
            .finish_non_exhaustive()
    }
}

/// Reads `url`; `home` is where `~/.postgresql/root.crt`, `~/.postgresql/postgresql.crt`,
/// `~/.postgresql/postgresql.key` and `~/.pgpass` are looked for.
pub(crate) fn parse(url: &str, home: Option<&Path>) -> Result<Target, BatchError> {
    let (pairs, rest) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        split_url(url)
    } else {
        split_conninfo(url)?
    };
    let mut pg = tokio_postgres::Config::from_str(&rest).map_err(|e| invalid(format!("{e}")))?;
    let mut ssl = None;
    let mut roots = None;
    let mut schema = None;
    let mut passfile = None;
    let mut sslcert = None;
    let mut sslkey = None;
    let mut set = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "sslmode" => {
                ssl = Some(SslMode::parse(&value).ok_or_else(|| {
                    invalid(format!(
                        "sslmode {value:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                    ))
                })?);
            }
            "sslrootcert" if value == "system" => roots = Some(Roots::System),
            "sslrootcert" => roots = Some(Roots::File(expand_home(&value, home))),
            "schema" => schema = Some(check_schema(&value)?),
            "passfile" => passfile = Some(expand_home(&value, home)),
            "sslcert" => sslcert = Some(expand_home(&value, home)),
            "sslkey" => sslkey = Some(expand_home(&value, home)),
            // The value is a secret: never repeated.
            "sslpassword" => {
                return Err(invalid(
                    "sslpassword is not supported, nor are encrypted keys: decrypt the key to a file of its own \
                     (openssl pkey -in KEY -out KEY.plain; chmod 0600 KEY.plain) and give that as sslkey",
                ))
            }
            other => set.push(other.to_owned()),
        }
    }
    // libpq: `sslrootcert=system` asks for the full check, and refuses anything weaker.
    let ssl = match (ssl, &roots) {
        (None, Some(Roots::System)) => SslMode::VerifyFull,
        (Some(mode), Some(Roots::System)) if mode != SslMode::VerifyFull => {
            return Err(invalid("sslrootcert=system needs sslmode=verify-full (or no sslmode)"));
        }
        (mode, _) => mode.unwrap_or(SslMode::Prefer),
    };
    let verify = match ssl {
        SslMode::VerifyFull => Verify::Full,
        SslMode::VerifyCa => Verify::Chain,
        // libpq: `require` with a root certificate checks the chain, as verify-ca.
        SslMode::Require if roots.is_some() => Verify::Chain,
        _ => Verify::Nothing,
    };
    let roots = match (verify, roots) {
        (Verify::Nothing, _) => None,
        (_, Some(roots)) => Some(roots),
        (_, None) => {
            let default = home.map(|home| home.join(".postgresql/root.crt"));
            match default {
                Some(path) if path.is_file() => Some(Roots::File(path)),
                _ => {
                    return Err(invalid(
                        "sslmode verify-ca and verify-full need trusted authorities: give sslrootcert=<PEM file> \
                         or sslrootcert=system (none at ~/.postgresql/root.crt)",
                    ))
                }
            }
        }
    };
    pg.ssl_mode(match ssl {
        SslMode::Disable | SslMode::Allow => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    if !set.iter().any(|key| key == "connect_timeout") {
        pg.connect_timeout(CONNECT_TIMEOUT);
    }
    // A peer that vanished (a failover, a dropped route) is noticed in about a minute, not
    // the kernel's two hours.
    if !set.iter().any(|key| key == "keepalives_idle") {
        pg.keepalives_idle(Duration::from_secs(30));
    }
    if !set.iter().any(|key| key == "keepalives_interval") {
        pg.keepalives_interval(Duration::from_secs(10));
    }
    if !set.iter().any(|key| key == "keepalives_retries") {
        pg.keepalives_retries(3);
    }
    let connect_timeout = pg.get_connect_timeout().copied().unwrap_or(CONNECT_TIMEOUT).max(Duration::from_secs(1));
    let server = server(&pg);
    // libpq: without TLS the client certificate's settings mean nothing.
    let client_cert = if ssl == SslMode::Disable { None } else { client_cert(sslcert, sslkey, home)? };
    let mut passfile_skipped = None;
    if pg.get_password().is_none() {
        if let Some(password) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
            pg.password(password.into_encoded_bytes());
        } else {
            let file = passfile
                .or_else(|| std::env::var_os("PGPASSFILE").map(PathBuf::from))
                .or_else(|| home.map(|home| home.join(".pgpass")));
            match file.map(|file| from_passfile(&file, &pg)) {
                Some(Ok(Some(password))) => {
                    pg.password(password);
                }
                Some(Err(skipped)) => passfile_skipped = Some(skipped),
                Some(Ok(None)) | None => {}
            }
        }
    }
    Ok(Target { pg, ssl, roots, verify, schema, connect_timeout, server, client_cert, passfile_skipped })
}

/// The client certificate's files, as libpq finds them: each given one, else its default
/// (`~/.postgresql/postgresql.crt`, `postgresql.key`) when that file exists. A certificate
/// without a key, or a given key without a certificate, is refused here.
fn client_cert(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    home: Option<&Path>,
) -> Result<Option<ClientCert>, BatchError> {
    let default = |name: &str| home.map(|home| home.join(".postgresql").join(name)).filter(|path| path.exists());
    let key_given = key.is_some();
    match (cert.or_else(|| default("postgresql.crt")), key.or_else(|| default("postgresql.key"))) {
        (Some(cert), Some(key)) => Ok(Some(ClientCert { cert, key })),
        (Some(cert), None) => Err(invalid(format!(
            "the client certificate {} has no key: give sslkey=<PEM file> (there is none at \
             ~/.postgresql/postgresql.key)",
            cert.display()
        ))),
        (None, Some(key)) if key_given => Err(invalid(format!(
            "the client key {} has no certificate: give sslcert=<PEM file> (there is none at \
             ~/.postgresql/postgresql.crt)",
            key.display()
        ))),
        // libpq: a key at the default place alone presents nothing.
        (None, _) => Ok(None),
    }
}

fn invalid(reason: impl Into<String>) -> BatchError {
    crate::batch::error::invalid("queue URL", reason)
}

/// A schema name as the crate writes it in its statements: letters, digits and `_`, not
/// starting with a digit, at most 63 bytes.
fn check_schema(name: &str) -> Result<String, BatchError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(name.to_owned())
    } else {
        Err(invalid(format!(
            "schema {name:?} must be letters, digits and _ (not starting with a digit), at most 63 of them"
        )))
    }
}

/// The schema as given to [`Queue`](super::Queue) directly.
pub(crate) fn schema(name: &str) -> Result<String, BatchError> {
    check_schema(name)
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// `host:port` of the first host, for messages.
pub(crate) fn server(pg: &tokio_postgres::Config) -> String {
    let host = match pg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// Takes this crate's keys out of a URL's query; the rest of the URL is left as written.
fn split_url(url: &str) -> (Vec<(String, String)>, String) {
    let Some((base, query)) = url.split_once('?') else { return (Vec::new(), url.to_owned()) };
    let mut pairs = Vec::new();
    let mut theirs = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
        let key = decode(key);
        if is_ours(&key) {
            pairs.push((key, decode(value)));
        } else {
            pairs.push((key, String::new()));
            theirs.push(pair);
        }
    }
    let rest = if theirs.is_empty() { base.to_owned() } else { format!("{base}?{}", theirs.join("&")) };
    (pairs, rest)
}

/// The keys this module reads instead of the PostgreSQL client.
fn is_ours(key: &str) -> bool {
    matches!(key, "sslmode" | "sslrootcert" | "sslcert" | "sslkey" | "sslpassword" | "schema" | "passfile")
}

/// Takes this crate's keys out of a `key=value` string (libpq's quoting: `'...'` with `\'` and
/// `\\`); the other pairs are kept as written. Every key comes back, ours with their values.
fn split_conninfo(text: &str) -> Result<(Vec<(String, String)>, String), BatchError> {
    let mut pairs = Vec::new();
    let mut rest = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else { break };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(invalid(format!("expected key=value after {key:?}")));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut closed = !quoted;
        while let Some((_, c)) = chars.next_if(|(_, c)| quoted || !c.is_whitespace()) {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    closed = true;
                    break;
                }
                c => value.push(c),
            }
        }
        if !closed {
            return Err(invalid(format!("the value of {key:?} has no closing quote")));
        }
        let end = chars.peek().map_or(text.len(), |(at, _)| *at);
        if is_ours(&key) {
            pairs.push((key, value));
        } else {
            rest.push(&text[start..end]);
            pairs.push((key, String::new()));
        }
    }
    Ok((pairs, rest.join(" ")))
}

/// The password for this connection from a libpq password file (`host:port:db:user:password`
/// lines, `*` matching anything, `\` escaping `:` and `\`), as libpq reads it; a file that does
/// not exist gives nothing. `Err` says why a file that exists was not read: as libpq, one that
/// is not a plain file or (on unix) that its group or others may read or write is skipped.
fn from_passfile(file: &Path, pg: &tokio_postgres::Config) -> Result<Option<Vec<u8>>, String> {
    let skipped = |why: String| format!("the password file {} was not read: {why}", file.display());
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(skipped(error.to_string())),
    };
    if !meta.is_file() {
        return Err(skipped("it is not a plain file".to_owned()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(skipped(format!(
                "it has group or world access (mode {mode:04o}); permissions should be u=rw (0600) or less: \
                 chmod 0600 {}",
                file.display()
            )));
        }
    }
    let text = std::fs::read_to_string(file).map_err(|error| skipped(error.to_string()))?;
    let host = match pg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "localhost".to_owned(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432).to_string();
    let Some(user) = pg.get_user().map(str::to_owned) else { return Ok(None) };
    let db = pg.get_dbname().unwrap_or(&user).to_owned();
    let wanted = [host.as_str(), port.as_str(), db.as_str(), user.as_str()];
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => field.extend(chars.next()),
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() == 5 && fields.iter().zip(wanted).all(|(field, want)| field == "*" || field == want) {
            return Ok(Some(fields.pop().unwrap_or_default().into_bytes()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Result<Target, BatchError> {
        parse(url, None)
    }

    #[test]
    fn prefer_is_the_default_and_nothing_is_verified() {
        let t = target("postgres://u@db.example/app").unwrap();
        assert_eq!((t.ssl, t.verify, t.roots), (SslMode::Prefer, Verify::Nothing, None));
        assert_eq!(t.pg.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(t.pg.get_keepalives_idle(), Duration::from_secs(30));
        assert_eq!(t.server, "db.example:5432");
    }

    #[test]
    fn every_libpq_sslmode_is_read_in_both_forms() {
        for (text, mode) in [
            ("disable", SslMode::Disable),
            ("allow", SslMode::Allow),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            let url = format!("postgres://u@h/d?sslmode={text}&sslrootcert=/ca.pem&application_name=x");
            assert_eq!(target(&url).unwrap().ssl, mode);
            let kv = format!("host=h user=u sslmode = {text} sslrootcert='/ca.pem' application_name=x");
            assert_eq!(target(&kv).unwrap().ssl, mode);
        }
        let refused = target("postgres://u@h/d?sslmode=verify").unwrap_err().to_string();
        assert!(refused.contains("sslmode \"verify\" is not one of"), "{refused}");
    }

    #[test]
    fn require_with_a_root_certificate_checks_the_chain_as_libpq() {
        let t = target("postgres://u@h/d?sslmode=require&sslrootcert=/ca.pem").unwrap();
        assert_eq!((t.verify, t.roots), (Verify::Chain, Some(Roots::File("/ca.pem".into()))));
        let t = target("postgres://u@h/d?sslmode=require").unwrap();
        assert_eq!(t.verify, Verify::Nothing);
    }

    #[test]
    fn sslrootcert_system_means_verify_full_and_refuses_weaker_modes() {
        let t = target("postgres://u@h/d?sslrootcert=system").unwrap();
        assert_eq!((t.ssl, t.verify, t.roots), (SslMode::VerifyFull, Verify::Full, Some(Roots::System)));
        let refused = target("postgres://u@h/d?sslrootcert=system&sslmode=require").unwrap_err().to_string();
        assert!(refused.contains("sslrootcert=system needs sslmode=verify-full"), "{refused}");
    }

    #[test]
    fn verify_full_without_roots_is_refused_naming_sslrootcert() {
        let refused = target("postgres://u@h/d?sslmode=verify-full").unwrap_err().to_string();
        assert!(refused.contains("sslrootcert"), "{refused}");
    }

    #[test]
    fn a_schema_is_read_from_the_url_and_checked() {
        assert_eq!(target("postgres://u@h/d?schema=batch_7").unwrap().schema.as_deref(), Some("batch_7"));
        assert_eq!(target("host=h user=u schema=b").unwrap().schema.as_deref(), Some("b"));
        let refused = target("postgres://u@h/d?schema=a;drop").unwrap_err().to_string();
        assert!(refused.contains("schema"), "{refused}");
    }

    #[test]
    fn the_url_keeps_its_other_options_and_given_timeouts() {
        let t = target("postgres://u:pw@h:6543/d?connect_timeout=3&sslmode=disable&keepalives_idle=99").unwrap();
        assert_eq!(t.pg.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(t.pg.get_keepalives_idle(), Duration::from_secs(99));
        assert_eq!(t.pg.get_password(), Some(&b"pw"[..]));
        assert_eq!(t.server, "h:6543");
    }

    #[test]
    fn a_password_file_line_matching_the_connection_gives_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "# comment\nother:*:*:u:no\nh:5432:d:u:se\\:cret\n").unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let url = format!("postgres://u@h/d?passfile={}", file.display());
        if std::env::var_os("PGPASSWORD").is_none() {
            assert_eq!(target(&url).unwrap().pg.get_password(), Some(&b"se:cret"[..]));
        }
    }

    #[test]
    fn sslcert_and_sslkey_are_read_in_both_forms_with_home_expanded() {
        let home = Path::new("/home/u");
        let t = parse("postgres://u@h/d?sslcert=~/certs/c.pem&sslkey=%2Fkeys%2Fk.pem", Some(home)).unwrap();
        let want = ClientCert { cert: "/home/u/certs/c.pem".into(), key: "/keys/k.pem".into() };
        assert_eq!(t.client_cert.as_ref(), Some(&want));
        let t = parse("host=h user=u sslcert='~/certs/c.pem' sslkey=/keys/k.pem", Some(home)).unwrap();
        assert_eq!(t.client_cert, Some(want));
        assert!(format!("{t:?}").contains("k.pem"), "the paths are shown, they are not secrets");
        assert_eq!(target("postgres://u@h/d").unwrap().client_cert, None);
    }

    #[test]
    fn the_client_certificate_defaults_to_libpqs_files_when_they_exist() {
        let home = tempfile::tempdir().unwrap();
        let folder = home.path().join(".postgresql");
        std::fs::create_dir(&folder).unwrap();
        // A default key alone presents nothing, as libpq.
        std::fs::write(folder.join("postgresql.key"), "").unwrap();
        assert_eq!(parse("postgres://u@h/d", Some(home.path())).unwrap().client_cert, None);
        std::fs::write(folder.join("postgresql.crt"), "").unwrap();
        let t = parse("postgres://u@h/d", Some(home.path())).unwrap();
        let want = ClientCert { cert: folder.join("postgresql.crt"), key: folder.join("postgresql.key") };
        assert_eq!(t.client_cert, Some(want));
        // Each given file replaces its default only.
        let t = parse("postgres://u@h/d?sslkey=/k.pem", Some(home.path())).unwrap();
        assert_eq!(t.client_cert.map(|c| (c.cert, c.key)), Some((folder.join("postgresql.crt"), "/k.pem".into())));
    }

    #[test]
    fn a_certificate_without_a_key_or_a_key_without_a_certificate_is_refused() {
        let refused = target("postgres://u@h/d?sslcert=/c.pem").unwrap_err().to_string();
        assert!(refused.contains("the client certificate /c.pem has no key: give sslkey="), "{refused}");
        let refused = target("host=h user=u sslkey=/k.pem").unwrap_err().to_string();
        assert!(refused.contains("the client key /k.pem has no certificate: give sslcert="), "{refused}");
        // A default certificate without any key, as libpq ("certificate present, but not private key").
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".postgresql")).unwrap();
        std::fs::write(home.path().join(".postgresql/postgresql.crt"), "").unwrap();
        let refused = parse("postgres://u@h/d", Some(home.path())).unwrap_err().to_string();
        assert!(refused.contains("postgresql.crt has no key"), "{refused}");
    }

    #[test]
    fn sslmode_disable_ignores_the_client_certificate_as_libpq() {
        let t = target("postgres://u@h/d?sslmode=disable&sslcert=/c.pem").unwrap();
        assert_eq!(t.client_cert, None);
    }

    #[test]
    fn sslpassword_is_refused_without_repeating_it() {
        let refused = target("postgres://u@h/d?sslcert=/c&sslkey=/k&sslpassword=hunter22").unwrap_err();
        let shown = format!("{refused} {refused:?}");
        assert!(shown.contains("encrypted keys") && shown.contains("openssl pkey"), "{shown}");
        assert!(!shown.contains("hunter22"), "{shown}");
    }

    #[cfg(unix)]
    #[test]
    fn a_password_file_others_may_read_is_skipped_and_the_reason_kept() {
        use std::os::unix::fs::PermissionsExt;
        if std::env::var_os("PGPASSWORD").is_some() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "*:*:*:*:se-cret\n").unwrap();
        let url = format!("postgres://u@h/d?passfile={}", file.display());
        for mode in [0o644, 0o640, 0o604, 0o620] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let t = target(&url).unwrap();
            assert_eq!(t.pg.get_password(), None, "{mode:o}");
            let why = t.passfile_skipped.unwrap();
            assert!(why.contains("was not read: it has group or world access"), "{why}");
            assert!(why.contains("chmod 0600") && !why.contains("se-cret"), "{why}");
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let t = target(&url).unwrap();
        assert_eq!((t.pg.get_password(), t.passfile_skipped), (Some(&b"se-cret"[..]), None));
    }

    #[test]
    fn a_missing_password_file_is_no_reason_to_say_anything() {
        let t = target("postgres://u@h/d?passfile=/nonexistent/pgpass").unwrap();
        assert_eq!(t.passfile_skipped, None);
    }

    #[test]
    fn a_conninfo_with_an_open_quote_is_refused() {
        let refused = target("host=h password='s3kr1t").unwrap_err().to_string();
        assert!(refused.contains("no closing quote") && !refused.contains("s3kr1t"), "{refused}");
    }
}
