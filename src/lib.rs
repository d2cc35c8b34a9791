//! placeholder
mod string_enum;
pub mod models;
pub mod webhook;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod simulator;
pub use models::*;
