//! Typed requests and answers of the API.
//!
//! Answers keep every field the server sent that their struct does not name (`extra` or
//! `fields`), and server-owned enums keep values the crate does not know in `Other(String)`,
//! so a new server field or value never fails a call.
//!
//! The models need only serde: they are also in the webhook-only build
//! (`default-features = false`).

// Without the client nothing sends a request, so the requests' checks go unused there.
#![cfg_attr(not(feature = "client"), allow(dead_code))]

mod admin;
mod answers;
mod background;
mod composition;
mod create_job;
mod enums;
mod error_code;
mod invalid;
mod job;
mod lenient;
mod pricing;
mod requests;
pub(crate) mod settings;
mod start_job;

pub use admin::{AdminConfig, ApiKeyInfo, CreatedKey, KeyList, KeyStatusChange};
pub use answers::{DownloadLink, Health, JobList, Upload, UsageEvent, UsageEvents, UsageSummary};
pub use background::{Background, Color};
pub use composition::{Anchor, Canvas, Composition, Foreground, Offset};
pub use create_job::CreateJob;
pub use enums::{BgType, BillingStatus, HealthStatus, JobStatus, Model, OutputFormat};
pub use error_code::ErrorCode;
// The client turns it into its own error; without the client nothing outside reads it.
#[cfg(feature = "client")]
pub(crate) use invalid::InvalidInput;
pub use job::{Job, JobSubmission};
pub use lenient::Extra;
pub use pricing::Pricing;
pub use requests::{CreateKey, ListJobs};
pub use start_job::StartJob;
