//! The environment composes with the builder: variables first, then setters. One test in this
//! binary, since it sets process-wide variables.

use std::time::Duration;

use removebgvideo::client::{ConfigError, ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
use removebgvideo::{AdminClient, AsyncAdminClient, AsyncClient, Client, Error};

/// Sets (`Some`) or removes (`None`) one variable of this process.
fn set_env(name: &str, value: Option<&str>) {
    // SAFETY: this binary holds one test, which changes the environment only on its own thread and
    // between client builds, so no other thread reads the environment while it changes.
    unsafe {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
}

#[test]
fn the_environment_is_read_first_and_setters_override_it() {
    set_env(API_KEY_ENV, None);
    set_env(ADMIN_TOKEN_ENV, None);
    set_env(BASE_URL_ENV, None);
    let missing = Client::from_env().unwrap_err();
    assert!(matches!(missing, Error::Config(ConfigError::MissingEnv { name: API_KEY_ENV })), "{missing:?}");
    assert!(missing.to_string().contains("REMOVEBGVIDEO_API_KEY is not set"), "{missing}");
    let missing = AsyncAdminClient::builder_from_env().unwrap_err();
    assert!(matches!(missing, Error::Config(ConfigError::MissingEnv { name: ADMIN_TOKEN_ENV })), "{missing:?}");

    set_env(API_KEY_ENV, Some("  "));
    let empty = AsyncClient::from_env().unwrap_err();
    assert!(matches!(empty, Error::Config(ConfigError::EmptyEnv { name: API_KEY_ENV })), "{empty:?}");

    set_env(API_KEY_ENV, Some("sk_env"));
    set_env(ADMIN_TOKEN_ENV, Some("adm_env"));
    set_env(BASE_URL_ENV, Some("https://staging.example.com/"));
    assert_eq!(Client::from_env().unwrap().base_url(), "https://staging.example.com");
    assert_eq!(AdminClient::from_env().unwrap().base_url(), "https://staging.example.com");
    // Then a setter wins over the variable.
    let builder = Client::builder_from_env().unwrap().base_url("http://127.0.0.1:9").timeout(Duration::from_secs(5));
    assert_eq!(builder.clone().build().unwrap().base_url(), "http://127.0.0.1:9");
    assert_eq!(AsyncClient::builder_from_env().unwrap().build().unwrap().base_url(), "https://staging.example.com");
    // And a bad variable is the same typed error as a bad setter.
    set_env(BASE_URL_ENV, Some("https://api.removebgvideo.com/v1"));
    let versioned = Client::from_env().unwrap_err();
    assert!(matches!(versioned, Error::Config(ConfigError::BaseUrlHasVersionPath)), "{versioned:?}");

    set_env(API_KEY_ENV, None);
    set_env(ADMIN_TOKEN_ENV, None);
    set_env(BASE_URL_ENV, None);
}
