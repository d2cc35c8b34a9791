//! placeholder docs
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod string_enum;

pub mod models;
pub mod webhook;

#[cfg(feature = "client")]
mod admin;
#[cfg(feature = "client")]
mod api_error;
#[cfg(feature = "client")]
mod builder;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
pub mod clock;
#[cfg(feature = "client")]
mod download;
#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
mod progress;
mod secret;
#[cfg(feature = "client")]
mod transport;
#[cfg(feature = "client")]
mod upload;
#[cfg(feature = "client")]
mod wait;

#[cfg(feature = "client")]
pub use admin::AdminClient;
#[cfg(feature = "client")]
pub use api_error::ApiError;
#[cfg(feature = "client")]
pub use builder::{BuildClient, ClientBuilder};
#[cfg(feature = "client")]
pub use client::{Client, ADMIN_TOKEN_ENV, API_KEY_ENV, BASE_URL_ENV};
#[cfg(feature = "client")]
pub use download::Download;
#[cfg(feature = "client")]
pub use error::Error;
pub use models::*;
#[cfg(feature = "client")]
pub use progress::TransferProgress;
pub use secret::Secret;
#[cfg(feature = "client")]
pub use transport::RetryPolicy;
#[cfg(feature = "client")]
pub use wait::WaitOptions;
