//! Kept uploads, like a storage bucket: each under a random id and an unguessable token that
//! every read must present, within a byte budget (the oldest files are dropped first).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use subtle::ConstantTimeEq;

/// What the upload scan found of the part named `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilePart {
    /// The `filename` parameter, if any.
    pub(crate) filename: Option<String>,
    /// Exact byte count of the part's content.
    pub(crate) size: u64,
    /// The part's `Content-Type`, lowercased and without parameters, if any.
    pub(crate) content_type: Option<String>,
    /// The content, when it fits the upload budget.
    pub(crate) bytes: Option<Vec<u8>>,
}

/// Why a body is not a usable upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UploadError {
    /// The content type is not multipart/form-data with a boundary.
    NotMultipart,
    /// No part named `file`.
    MissingFile,
    /// The body breaks the multipart syntax (the parser says where).
    Malformed(String),
    /// The body broke off, or broke HTTP.
    Unreadable,
}

impl UploadError {
    pub(crate) fn message(&self) -> String {
        match self {
            UploadError::NotMultipart => "the body must be multipart/form-data with a boundary".to_owned(),
            UploadError::MissingFile => "a multipart part named `file` is required".to_owned(),
            UploadError::Malformed(why) => format!("malformed multipart body: {why}"),
            UploadError::Unreadable => UNREADABLE.to_owned(),
        }
    }
}

/// Why a body that broke off or broke HTTP is refused.
pub(crate) const UNREADABLE: &str = "the request body could not be read (cut off, or a malformed chunked encoding)";

/// An accepted upload.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    /// The secret part of its `video_url`, checked on every read.
    pub(crate) token: String,
    /// The bytes, `None` once dropped for the budget (or when the file was over it).
    pub(crate) bytes: Option<Arc<Vec<u8>>>,
    pub(crate) content_type: String,
    /// The video's own length, when its container says.
    pub(crate) duration: Option<Duration>,
}

/// Every accepted upload, by id; the kept bytes stay within a budget.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    by_id: HashMap<String, Upload>,
    /// Ids whose bytes are kept, oldest first.
    kept_order: VecDeque<String>,
    /// Bytes kept.
    kept: u64,
    /// Uploads accepted so far.
    pub(crate) accepted: u64,
}

impl Uploads {
    /// Adds an upload under `id`, then drops the oldest kept files until the kept bytes fit
    /// `budget`.
    pub(crate) fn add(&mut self, id: String, mut upload: Upload, budget: u64) {
        self.accepted += 1;
        if let Some(bytes) = upload.bytes.as_mut().and_then(Arc::get_mut) {
            // What the budget counts is what stays allocated.
            bytes.shrink_to_fit();
        }
        if let Some(bytes) = &upload.bytes {
            self.kept += bytes.len() as u64;
            self.kept_order.push_back(id.clone());
        }
        self.by_id.insert(id, upload);
        while self.kept > budget {
            let Some(oldest) = self.kept_order.pop_front() else { break };
            if let Some(bytes) = self.by_id.get_mut(&oldest).and_then(|u| u.bytes.take()) {
                self.kept -= bytes.len() as u64;
            }
        }
    }

    /// The upload `id`, if `token` is its token (compared in constant time).
    pub(crate) fn get(&self, id: &str, token: &str) -> Option<&Upload> {
        self.by_id.get(id).filter(|u| bool::from(u.token.as_bytes().ct_eq(token.as_bytes())))
    }

    /// The bytes kept for uploads.
    pub(crate) fn kept_bytes(&self) -> u64 {
        self.kept
    }
}

/// The length of an mp4/mov video read from its bytes, when the container says.
pub(crate) fn video_length(bytes: &[u8]) -> Option<Duration> {
    crate::video_duration::read_duration(&mut std::io::Cursor::new(bytes)).ok()
}
