//! Uploading a local video: streamed from disk, never held in memory.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use reqwest::Method;

use crate::error::invalid;
use crate::progress::{self, ProgressReader, SharedProgress};
use crate::transport::{Body, Call, FilePart, Safety};
use crate::{Client, Error, TransferProgress, Upload};

impl Client {
    /// Uploads a local video (`POST /v1/uploads`, multipart part `file`) and returns its
    /// `video_url` for [`create_job`](Client::create_job).
    ///
    /// The file is streamed from disk, so its size does not matter to memory, and the 30 s call
    /// timeout does not apply to the transfer (see
    /// [`transfer_timeout`](crate::ClientBuilder::transfer_timeout)). The part carries the file's
    /// own name and a content type guessed from its extension. A retried upload reopens the file
    /// and sends it again from the start.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file when it cannot be opened or read; [`Error::InvalidInput`]
    /// for a path with no file name; [`Error::Api`] for the API's refusal;
    /// [`Error::Stalled`] when the transfer or the answer stops for the
    /// [stall timeout](crate::ClientBuilder::stall_timeout); [`Error::Transport`] when the
    /// connection fails.
    pub fn upload(&self, path: impl AsRef<Path>) -> Result<Upload, Error> {
        self.upload_file(path.as_ref(), None)
    }

    /// [`upload`](Client::upload), calling `on_progress` as the file is sent.
    ///
    /// # Errors
    /// As [`upload`](Client::upload).
    pub fn upload_with_progress(
        &self,
        path: impl AsRef<Path>,
        on_progress: impl FnMut(TransferProgress) + Send + 'static,
    ) -> Result<Upload, Error> {
        self.upload_file(path.as_ref(), Some(progress::shared(on_progress)))
    }

    /// Uploads `length` bytes from any reader as a file called `file_name`.
    ///
    /// A reader cannot be rewound, so this upload is never retried.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty file name; [`Error::Api`] for the API's refusal;
    /// [`Error::Transport`] if the reader fails or yields fewer than `length` bytes.
    pub fn upload_reader<R: Read + Send + 'static>(
        &self,
        reader: R,
        length: u64,
        file_name: &str,
    ) -> Result<Upload, Error> {
        if file_name.trim().is_empty() {
            return Err(invalid("file_name", "must not be empty"));
        }
        let mime = content_type(Path::new(file_name));
        let reader = Mutex::new(Some(reader));
        let open = || -> Result<(Box<dyn Read + Send>, u64), Error> {
            let reader = reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| invalid("reader", "was already sent and cannot be sent again"))?;
            Ok((Box::new(reader), length))
        };
        self.send_upload(FilePart { file_name, mime: &mime, open: &open }, Safety::NotReplayable)
    }

    fn upload_file(&self, path: &Path, on_progress: Option<SharedProgress>) -> Result<Upload, Error> {
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| invalid("path", format!("{} has no file name", path.display())))?;
        let mime = content_type(path);
        // Opened once up front so a missing file fails before any request.
        open_file(path)?;
        let open = || -> Result<(Box<dyn Read + Send>, u64), Error> {
            let (file, length) = open_file(path)?;
            Ok((Box::new(ProgressReader::new(file, Some(length), on_progress.clone())), length))
        };
        self.send_upload(FilePart { file_name: &file_name, mime: &mime, open: &open }, Safety::SideEffect)
    }

    fn send_upload(&self, file: FilePart<'_>, safety: Safety) -> Result<Upload, Error> {
        let call = Call {
            method: Method::POST,
            body: Body::File(file),
            safety,
            transfer: true,
            ..Call::get("/v1/uploads", "/v1/uploads".to_owned())
        };
        self.transport.json(&self.authed(call))
    }
}

fn open_file(path: &Path) -> Result<(File, u64), Error> {
    let io_error = |source| Error::Io { action: "could not read", path: path.to_owned(), source };
    let file = File::open(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    if !metadata.is_file() {
        return Err(invalid("path", format!("{} is not a file", path.display())));
    }
    Ok((file, metadata.len()))
}

fn content_type(path: &Path) -> String {
    mime_guess::from_path(path).first_or_octet_stream().essence_str().to_owned()
}
