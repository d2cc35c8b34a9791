//! The client certificate a queue connection presents (libpq's `sslcert` and `sslkey`): both
//! files are read and checked before any connection, so that a missing file, a key others may
//! read, an encrypted key or the key of another certificate is a typed error naming the file,
//! not a refused handshake. The key's bytes never reach a message or a `Debug`.

use std::path::Path;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::config::ClientCert;
use crate::batch::error::{invalid, BatchError};

/// A client certificate chain and its private key, read, checked and known to match.
pub(crate) struct Identity {
    /// The chain, the client's own certificate first.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    /// The files' PEM, for the platform's TLS (which takes PEM).
    #[cfg(feature = "postgres-native-tls")]
    pub(crate) chain_pem: Vec<u8>,
    #[cfg(feature = "postgres-native-tls")]
    pub(crate) key_pem: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Identity").field("certificates", &self.chain.len()).finish_non_exhaustive()
    }
}

/// Reads `files`: the certificates (PEM, at least one), then the key, after checking its
/// permissions as libpq does (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted), and that it is the
/// key of the first certificate.
pub(crate) fn load(files: &ClientCert) -> Result<Identity, BatchError> {
    let (cert, key) = (&files.cert, &files.key);
    let chain_pem = std::fs::read(cert).map_err(|source| BatchError::Io {
        action: "read the sslcert",
        path: cert.clone(),
        source,
    })?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("sslcert", format!("{} is not a PEM file: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(invalid(
            "sslcert",
            format!("{} holds no certificate (no -----BEGIN CERTIFICATE----- block)", cert.display()),
        ));
    }
    check_permissions(key)?;
    let key_pem =
        std::fs::read(key).map_err(|source| BatchError::Io { action: "read the sslkey", path: key.clone(), source })?;
    if encrypted(&key_pem) {
        return Err(invalid(
            "sslkey",
            format!(
                "{0} is encrypted, and encrypted keys are not supported: decrypt it to a file of its own \
                 (openssl pkey -in {0} -out {0}.plain; chmod 0600 {0}.plain) and give that as sslkey",
                key.display()
            ),
        ));
    }
    // The PEM error is not shown: it could quote the file.
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let what = match e {
            pem::Error::NoItemsFound => "holds no private key",
            _ => "is not a PEM file",
        };
        invalid(
            "sslkey",
            format!(
                "{} {what} (a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block)",
                key.display()
            ),
        )
    })?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    CertifiedKey::from_der(chain.clone(), private.clone_key(), &provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            invalid("sslkey", format!("{} is not the key of the certificate in {}", key.display(), cert.display()))
        }
        rustls::Error::InvalidCertificate(_) => {
            invalid("sslcert", format!("{}: the first certificate cannot be read: {e}", cert.display()))
        }
        other => invalid("sslkey", format!("{} cannot be used: {other}", key.display())),
    })?;
    #[cfg(not(feature = "postgres-native-tls"))]
    drop((chain_pem, key_pem));
    Ok(Identity {
        chain,
        key: private,
        #[cfg(feature = "postgres-native-tls")]
        chain_pem,
        #[cfg(feature = "postgres-native-tls")]
        key_pem,
    })
}

/// An encrypted PKCS#8 block, or a legacy one with OpenSSL's `Proc-Type` header.
fn encrypted(pem: &[u8]) -> bool {
    let has = |needle: &[u8]| pem.windows(needle.len()).any(|window| window == needle);
    has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || has(b"Proc-Type: 4,ENCRYPTED")
}

/// libpq's rule for a private key file: a plain file, and on unix no access for group or
/// others, except that a file owned by root may be read by its group (`0640`), for keys
/// provisioned by a system service.
fn check_permissions(path: &Path) -> Result<(), BatchError> {
    let meta = std::fs::metadata(path).map_err(|source| BatchError::Io {
        action: "read the sslkey",
        path: path.to_owned(),
        source,
    })?;
    if !meta.is_file() {
        return Err(invalid("sslkey", format!("{} is not a plain file", path.display())));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o7777;
        let loose = if meta.uid() == 0 { mode & 0o037 } else { mode & 0o077 };
        if loose != 0 {
            return Err(invalid(
                "sslkey",
                format!(
                    "{0} has group or world access (mode {mode:04o}); it must be u=rw (0600) or less, or \
                     u=rw,g=r (0640) or less when owned by root: chmod 0600 {0}",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    // Throwaway material made for these tests (a self-signed P-256 certificate, its key in
    // PKCS#8 and SEC1, and another key); it protects nothing.
    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUUMe05l5XZ1vqnBLbxwuBG+h9zBowCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXcmVtb3ZlYmd2aWRlbyB1bml0IHRlc3QwIBcNMjYxMjA3MDY1
MTUxWhgPMjEyNjExMTMwNjUxNTFaMCIxIDAeBgNVBAMMF3JlbW92ZWJndmlkZW8g
dW5pdCB0ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEk07t1SfuIlX5ChQZ
T2NfcoCRNM+OC+RrC1n+10lICHVC31TMyeD/x2r7lJLK3/HnMT/6c3FQ6Zjbxtq9
jJTSXaNTMFEwHQYDVR0OBBYEFPjSwFED1ezQvMO88I5Cr8FuBi5ZMB8GA1UdIwQY
MBaAFPjSwFED1ezQvMO88I5Cr8FuBi5ZMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI
zj0EAwIDSQAwRgIhAJK7oLQXn3u5RDOgy16ztyEHjrZ4+8HxRG9ZMa0VKMGwAiEA
pdnQUIhtE3WgMGM9TjCS+dhOhjdMgwkCbafk1rYgN2o=
-----END CERTIFICATE-----
";
    const PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFOuU3fn1GaVPlDap
KdbBeRZEU1Pb74Ti1XfliP4BcUGhRANCAASTTu3VJ+4iVfkKFBlPY19ygJE0z44L
5GsLWf7XSUgIdULfVMzJ4P/HavuUksrf8ecxP/pzcVDpmNvG2r2MlNJd
-----END PRIVATE KEY-----
";
    const SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBTrlN359RmlT5Q2qSnWwXkWRFNT2++E4tV35Yj+AXFBoAoGCCqGSM49
AwEHoUQDQgAEk07t1SfuIlX5ChQZT2NfcoCRNM+OC+RrC1n+10lICHVC31TMyeD/
x2r7lJLK3/HnMT/6c3FQ6Zjbxtq9jJTSXQ==
-----END EC PRIVATE KEY-----
";
    const OTHER: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDl65ld6xP4wxa9GR
ESJ5sSE22M6mx+5tJ6BTB4+WGvqhRANCAAScI6lbX7IY3EYlwjUFtF+D7flUVtYZ
YTigRG90rHHicqZIBUFq/QyqocbxFUW6Zc6LewF3jqy3ngu5/pnbfkv9
-----END PRIVATE KEY-----
";

    /// `cert` and `key` written to files (the key `0600`) in a folder of the test's own.
    fn files(cert: &str, key: &str) -> (tempfile::TempDir, ClientCert) {
        let dir = tempfile::tempdir().unwrap();
        let files = ClientCert { cert: dir.path().join("client.crt"), key: dir.path().join("client.key") };
        std::fs::write(&files.cert, cert).unwrap();
        write_key(&files.key, key);
        (dir, files)
    }

    fn write_key(path: &Path, key: &str) {
        std::fs::write(path, key).unwrap();
        #[cfg(unix)]
        set_mode(path, 0o600);
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn refusal(files: &ClientCert) -> String {
        load(files).unwrap_err().to_string()
    }

    #[test]
    fn a_certificate_and_its_pkcs8_or_sec1_key_are_read() {
        for key in [PKCS8, SEC1] {
            let (_dir, files) = files(CERT, key);
            let identity = load(&files).unwrap();
            assert_eq!(identity.chain.len(), 1);
            let shown = format!("{identity:?}");
            assert!(!shown.contains(&key[30..60]), "{shown}");
        }
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_both_files() {
        let (_dir, files) = files(CERT, OTHER);
        let refused = refusal(&files);
        assert!(refused.contains("is not the key of the certificate in"), "{refused}");
        assert!(refused.contains("client.key") && refused.contains("client.crt"), "{refused}");
    }

    #[test]
    fn missing_files_are_io_errors_with_the_path() {
        let (dir, mut files) = files(CERT, PKCS8);
        files.cert = dir.path().join("absent.crt");
        let error = load(&files).unwrap_err();
        assert!(
            matches!(&error, BatchError::Io { action: "read the sslcert", path, .. } if path.ends_with("absent.crt")),
            "{error:?}"
        );
        let (dir, mut files) = self::files(CERT, PKCS8);
        files.key = dir.path().join("absent.key");
        let error = load(&files).unwrap_err();
        assert!(
            matches!(&error, BatchError::Io { action: "read the sslkey", path, .. } if path.ends_with("absent.key")),
            "{error:?}"
        );
    }

    #[test]
    fn a_certificate_file_without_a_certificate_is_refused() {
        let (_dir, files) = files(PKCS8, PKCS8);
        let refused = refusal(&files);
        assert!(refused.contains("invalid sslcert") && refused.contains("holds no certificate"), "{refused}");
    }

    #[test]
    fn a_key_file_without_a_key_is_refused_without_quoting_it() {
        let (_dir, files) = files(CERT, CERT);
        let refused = refusal(&files);
        assert!(refused.contains("invalid sslkey") && refused.contains("holds no private key"), "{refused}");
        let (_dir, files) = self::files(CERT, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0!!\n");
        let refused = refusal(&files);
        assert!(refused.contains("is not a PEM file") && !refused.contains("c2VjcmV0"), "{refused}");
    }

    #[test]
    fn an_encrypted_key_is_refused_saying_how_to_decrypt_it() {
        for key in [
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIHsMFcGCSqGSIb3DQEFDTBK\n-----END ENCRYPTED PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,29C0E696F2622D6C\n\n\
             /PhnMSqVomenZ9WaUMyuFR6w\n-----END EC PRIVATE KEY-----\n",
        ] {
            let (_dir, files) = files(CERT, key);
            let refused = refusal(&files);
            assert!(refused.contains("is encrypted, and encrypted keys are not supported"), "{refused}");
            assert!(refused.contains("openssl pkey -in") && !refused.contains("MIHsMFcG"), "{refused}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_may_read_is_refused_as_libpq_does() {
        use std::os::unix::fs::MetadataExt;
        let (_dir, files) = files(CERT, PKCS8);
        for mode in [0o644, 0o604, 0o660, 0o700 | 0o010] {
            set_mode(&files.key, mode);
            let refused = refusal(&files);
            assert!(
                refused.contains("has group or world access") && refused.contains("chmod 0600"),
                "{mode:o}: {refused}"
            );
        }
        set_mode(&files.key, 0o400);
        load(&files).expect("0400 is less than 0600");
        // Group-readable passes only for a file owned by root (as the tests are in CI).
        set_mode(&files.key, 0o640);
        let by_root = std::fs::metadata(&files.key).unwrap().uid() == 0;
        assert_eq!(load(&files).is_ok(), by_root);
    }

    #[test]
    fn a_key_path_that_is_a_folder_is_refused() {
        let (dir, mut files) = files(CERT, PKCS8);
        files.key = PathBuf::from(dir.path());
        assert!(refusal(&files).contains("is not a plain file"));
    }
}
