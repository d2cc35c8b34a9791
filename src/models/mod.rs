//! Typed requests and answers of the API.

mod enums;

pub use enums::{BgType, JobStatus, Model, OutputFormat};
