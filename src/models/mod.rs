//! Typed requests and answers of the API.
//!
//! Answers keep every field the server sent that their struct does not name (`extra` or
//! `fields`), and server-owned enums keep values the crate does not know in `Other(String)`,
//! so a new server field or value never fails a call.

#[cfg(feature = "client")]
mod admin;
#[cfg(feature = "client")]
mod answers;
mod enums;
#[cfg(feature = "client")]
mod job;
#[cfg(feature = "client")]
mod lenient;
#[cfg(feature = "client")]
mod requests;

#[cfg(feature = "client")]
pub use admin::{AdminConfig, ApiKeyInfo, CreatedKey, KeyList, KeyStatusChange};
#[cfg(feature = "client")]
pub use answers::{DownloadLink, Health, JobList, Pricing, Upload, UsageEvent, UsageEvents, UsageSummary};
pub use enums::{BgType, JobStatus, Model, OutputFormat};
#[cfg(feature = "client")]
pub use job::{Job, JobSubmission};
#[cfg(feature = "client")]
pub use lenient::Extra;
#[cfg(feature = "client")]
pub use requests::{CreateJob, CreateKey, ListJobs, StartJob};
