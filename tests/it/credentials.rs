//! Credentials go only to the configured API origin.

use mockito::{Matcher, Server};
use removebgvideo::client::ConfigError;
use removebgvideo::{AdminClient, Client, Error};

const KEY: &str = "rbv_secret_key_3f9a";
const TOKEN: &str = "adm_secret_token_77c1";

#[test]
fn a_redirect_to_another_origin_is_not_followed_with_the_key() {
    let mut api = Server::new();
    let mut elsewhere = Server::new();
    let stolen = elsewhere.mock("GET", Matcher::Any).expect(0).create();
    api.mock("GET", "/v1/jobs/job_1")
        .with_status(302)
        .with_header("location", &format!("{}/collect", elsewhere.url()))
        .create();

    let client = Client::builder(KEY).base_url(api.url()).build().expect("client");
    let error = client.get_job("job_1").unwrap_err();

    assert_eq!(error.status().map(|status| status.as_u16()), Some(302), "{error:?}");
    stolen.assert();
}

#[test]
fn an_admin_redirect_to_another_origin_is_not_followed_with_the_token() {
    let mut api = Server::new();
    let mut elsewhere = Server::new();
    let stolen = elsewhere.mock("GET", Matcher::Any).expect(0).create();
    api.mock("GET", "/v1/admin/keys")
        .with_status(307)
        .with_header("location", &format!("{}/v1/admin/keys", elsewhere.url()))
        .create();

    let admin = AdminClient::builder(TOKEN).base_url(api.url()).build().expect("admin client");
    assert!(admin.list_keys().is_err());
    stolen.assert();
}

#[test]
fn a_redirect_within_the_api_origin_is_followed_with_the_key() {
    let mut api = Server::new();
    api.mock("GET", "/v1/jobs/old").with_status(301).with_header("location", "/v1/jobs/new").create();
    let moved = api
        .mock("GET", "/v1/jobs/new")
        .match_header("x-api-key", KEY)
        .with_body(r#"{"id":"new","status":"pending"}"#)
        .create();

    let client = Client::builder(KEY).base_url(api.url()).build().expect("client");
    assert_eq!(client.get_job("old").expect("followed").id, "new");
    moved.assert();
}

#[test]
fn plain_http_to_a_remote_host_is_refused_unless_allowed() {
    for url in ["http://api.example.com", "http://10.1.2.3:8080", "ftp://api.example.com"] {
        let error = Client::builder(KEY).base_url(url).build().unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{url}: {error:?}");
        assert!(!error.to_string().contains(KEY));
    }
    for url in ["http://127.0.0.1:9", "http://localhost:9/", "http://[::1]:9", "https://api.example.com/"] {
        Client::builder(KEY).base_url(url).build().unwrap_or_else(|error| panic!("{url}: {error}"));
    }
    Client::builder(KEY).base_url("http://api.example.com").allow_insecure_http(true).build().expect("allowed");
}

#[test]
fn a_base_url_with_credentials_query_or_fragment_is_refused() {
    for url in
        ["https://user:pass@api.example.com", "https://api.example.com/?a=1", "https://api.example.com/#x", "not a url"]
    {
        assert!(matches!(Client::builder(KEY).base_url(url).build(), Err(Error::Config(_))), "{url}");
    }
}

#[test]
fn no_debug_or_display_shows_a_secret() {
    let builder = Client::builder(KEY).base_url("https://api.example.com");
    assert!(!format!("{builder:?}").contains(KEY));
    let client = builder.build().expect("client");
    let admin = client.admin(TOKEN).expect("admin");
    for text in [format!("{client:?}"), format!("{admin:?}"), format!("{:?}", AdminClient::builder(TOKEN))] {
        assert!(!text.contains(KEY) && !text.contains(TOKEN), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }
}

#[test]
fn a_credential_that_cannot_be_a_header_is_refused_at_build() {
    for key in [
        "bad\nkey",
        "bad\r\nX-Injected: 1",
        "nul\0key",
        "tab\tkey",
        "sk_caf\u{e9}_key",
        "sk_zero\u{200b}width",
        "sk with space",
        "sk_del\u{7f}",
    ] {
        let error = Client::builder(key).base_url("https://api.example.com").build().unwrap_err();
        assert!(
            matches!(&error, Error::Config(ConfigError::InvalidCredential { which: "API key", .. })),
            "{key:?}: {error:?}"
        );
        assert!(!format!("{error} {error:?}").contains(key), "{error:?}");
        let error = AdminClient::builder(key).build().unwrap_err();
        assert!(
            matches!(&error, Error::Config(ConfigError::InvalidCredential { which: "admin token", .. })),
            "{error:?}"
        );
        let client = Client::new(KEY).unwrap();
        assert!(matches!(client.admin(key), Err(Error::Config(ConfigError::InvalidCredential { .. }))));
    }
}

#[test]
fn a_user_agent_suffix_with_a_line_break_is_refused_at_build() {
    for suffix in ["svc/1\r\nX-Injected: 1", "svc\n/1", "svc\0/1"] {
        let error = Client::builder(KEY).user_agent_suffix(suffix).build().unwrap_err();
        assert!(matches!(error, Error::Config(ConfigError::InvalidUserAgent { .. })), "{suffix:?}: {error:?}");
    }
}

#[test]
fn a_base_url_ending_in_v1_is_explained() {
    for url in ["https://api.removebgvideo.com/v1", "https://api.removebgvideo.com/v1/", "http://127.0.0.1:9/proxy/v1"]
    {
        let error = Client::builder(KEY).base_url(url).build().unwrap_err();
        assert!(matches!(error, Error::Config(ConfigError::BaseUrlHasVersionPath)), "{url}: {error:?}");
        assert!(error.to_string().contains("the routes add /v1 themselves"), "{error}");
    }
}

#[test]
fn the_builders_debug_never_shows_a_password_or_query_of_the_base_url() {
    let builder = Client::builder(KEY).base_url("https://user:BASEPASS@api.example.com/?sig=QUERYSIG");
    let debug = format!("{builder:?}");
    assert!(!debug.contains("BASEPASS") && !debug.contains("QUERYSIG") && !debug.contains(KEY), "{debug}");
    let error = builder.build().unwrap_err();
    assert!(!format!("{error} {error:?}").contains("BASEPASS"), "{error:?}");
}

#[test]
fn a_root_certificate_that_cannot_be_read_is_refused_at_build_with_the_tls_reason() {
    let garbage_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";
    let cases = [
        ("garbage PEM", Client::builder(KEY).add_root_certificate_pem(garbage_pem)),
        ("PEM without a certificate", Client::builder(KEY).add_root_certificate_pem("just words")),
        ("zeroed DER", Client::builder(KEY).add_root_certificate_der(vec![0u8; 16])),
        ("text as DER", Client::builder(KEY).add_root_certificate_der(b"hello".to_vec())),
    ];
    for (name, builder) in cases {
        let error = builder.build().unwrap_err();
        let Error::Config(ConfigError::InvalidCertificate { reason }) = &error else {
            panic!("{name}: {error:?}");
        };
        assert!(!reason.is_empty() && reason != "builder error", "{name}: {reason}");
        assert!(!error.to_string().contains("request"), "{name}: no request was made: {error}");
    }
}
