//! Progress of uploads and downloads.

use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};

/// How far a transfer has come; passed to progress callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferProgress {
    /// Bytes moved so far in this attempt (a retried upload starts again from 0).
    pub done: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
}

/// A progress callback that can be handed to each attempt of a request.
pub(crate) type SharedProgress = Arc<Mutex<dyn FnMut(TransferProgress) + Send>>;

pub(crate) fn shared(callback: impl FnMut(TransferProgress) + Send + 'static) -> SharedProgress {
    Arc::new(Mutex::new(callback))
}

pub(crate) fn report(callback: &SharedProgress, progress: TransferProgress) {
    (callback.lock().unwrap_or_else(PoisonError::into_inner))(progress);
}

/// A reader that reports how much has been read.
pub(crate) struct ProgressReader<R> {
    inner: R,
    done: u64,
    total: Option<u64>,
    callback: Option<SharedProgress>,
}

impl<R: Read> ProgressReader<R> {
    pub(crate) fn new(inner: R, total: Option<u64>, callback: Option<SharedProgress>) -> Self {
        Self { inner, done: 0, total, callback }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if read > 0 {
            self.done += read as u64;
            if let Some(callback) = &self.callback {
                report(callback, TransferProgress { done: self.done, total: self.total });
            }
        }
        Ok(read)
    }
}
