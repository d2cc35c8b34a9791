//! placeholder
mod string_enum;
pub mod models;
pub mod webhook;
pub use models::*;
