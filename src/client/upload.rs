//! Uploading a local video: checked before a byte is sent, then streamed from disk (never
//! held in memory), for both clients.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;

use crate::client::async_client::AsyncClient;
use crate::client::blocking::Client;
use crate::client::error::{invalid, Error};
use crate::client::progress::{self, SharedProgress, TransferProgress};
use crate::client::transport::{Call, FilePart, Safety, UploadSource};
use crate::models::Upload;

/// An upload of a local file being set up; finish it with [`send`](FileUpload::send). Made by
/// [`Client::upload`].
#[must_use = "an upload sends nothing until `send` is called"]
pub struct FileUpload<'a> {
    client: &'a Client,
    path: PathBuf,
    on_progress: Option<SharedProgress>,
}

/// An upload of a local file being set up on an [`AsyncClient`]; await it (or its
/// [`send`](AsyncFileUpload::send)). Made by [`AsyncClient::upload`].
#[must_use = "an upload sends nothing until it is awaited"]
pub struct AsyncFileUpload<'a> {
    client: &'a AsyncClient,
    path: PathBuf,
    on_progress: Option<SharedProgress>,
}

impl FileUpload<'_> {
    /// Calls `on_progress` as the file is read for sending, as
    /// [`Download::progress`](crate::client::Download::progress) does for a download. It runs on
    /// a background thread, hence `Send + 'static`.
    pub fn progress(mut self, on_progress: impl FnMut(TransferProgress) + Send + 'static) -> Self {
        self.on_progress = Some(progress::shared(on_progress));
        self
    }

    /// Sends the file and returns the upload's answer.
    ///
    /// # Errors
    /// As [`AsyncClient::upload`].
    pub fn send(self) -> Result<Upload, Error> {
        let (inner, path, on_progress) = (self.client.inner.clone(), self.path, self.on_progress);
        self.client.runtime.run(async move { inner.upload_file(&path, on_progress).await })
    }
}

impl<'a> AsyncFileUpload<'a> {
    /// Calls `on_progress` as the file is read for sending, as
    /// [`AsyncDownload::progress`](crate::client::AsyncDownload::progress) does for a download.
    /// It runs on tokio's blocking pool, hence `Send + 'static`.
    pub fn progress(mut self, on_progress: impl FnMut(TransferProgress) + Send + 'static) -> Self {
        self.on_progress = Some(progress::shared(on_progress));
        self
    }

    /// Sends the file and returns the upload's answer; the same as awaiting the upload itself.
    ///
    /// # Errors
    /// As [`AsyncClient::upload`].
    pub async fn send(self) -> Result<Upload, Error> {
        self.client.upload_file(&self.path, self.on_progress).await
    }
}

impl<'a> IntoFuture for AsyncFileUpload<'a> {
    type Output = Result<Upload, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Upload, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl fmt::Debug for FileUpload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileUpload").field("path", &self.path).field("progress", &self.on_progress.is_some()).finish()
    }
}

impl fmt::Debug for AsyncFileUpload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFileUpload")
            .field("path", &self.path)
            .field("progress", &self.on_progress.is_some())
            .finish()
    }
}

/// The content types the API accepts (`api-reference/upload-video`).
const ACCEPTED_TYPES: [&str; 4] = ["video/mp4", "video/quicktime", "video/webm", "video/x-msvideo"];

impl AsyncClient {
    /// Uploads a local video (`POST /v1/uploads`, multipart part `file`): await the returned
    /// [`AsyncFileUpload`] (after [`progress`](AsyncFileUpload::progress), if you want it) for
    /// the upload's `video_url`, to pass to [`create_job`](Self::create_job).
    ///
    /// Checked before a byte is sent: the size against
    /// [`max_upload_size`](crate::client::ClientBuilder::max_upload_size) (500 MiB by default) and the
    /// type, by extension, against what the API accepts (MP4, MOV, WebM, AVI). The file is
    /// streamed from disk in large chunks read on tokio's blocking pool, so neither its size
    /// nor a slow disk matters to memory or to the runtime; the call timeout does not apply
    /// (see [`transfer_timeout`](crate::client::ClientBuilder::transfer_timeout)). The part carries
    /// the file's own name. A retried upload (after a 429) reopens the file and sends it again
    /// from the start.
    ///
    /// # Errors
    /// When awaited:     /// [`Error::Io`] naming the file when it cannot be opened or read, before or during the
    /// transfer; [`Error::InvalidInput`] for a path with no file name, a name holding a control
    /// character, a file over the size limit or of a type the API refuses; [`Error::Api`] for
    /// the API's refusal; [`Error::Stalled`] when the transfer or the answer stops for the
    /// [stall timeout](crate::client::ClientBuilder::stall_timeout); [`Error::Transport`] when the
    /// connection fails.
    pub fn upload(&self, path: impl AsRef<Path>) -> AsyncFileUpload<'_> {
        AsyncFileUpload { client: self, path: path.as_ref().to_owned(), on_progress: None }
    }

    /// Uploads `length` bytes from any reader as a file called `file_name` (whose extension
    /// gives the type, checked as for [`upload`](Self::upload)).
    ///
    /// A reader cannot be rewound, so this upload is never retried. Its reads run on tokio's
    /// blocking pool.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty file name or one holding a control character, a
    /// length over the size limit or a type the API refuses; [`Error::Io`] if the reader fails
    /// or yields fewer than `length` bytes; [`Error::Api`] for the API's refusal.
    pub async fn upload_reader<R: Read + Send + 'static>(
        &self,
        reader: R,
        length: u64,
        file_name: &str,
    ) -> Result<Upload, Error> {
        let part = self.checked_part(file_name, length, UploadSource::Reader(Mutex::new(Some(Box::new(reader)))))?;
        self.send_upload(&part, Safety::NotReplayable).await
    }

    async fn upload_file(&self, path: &Path, on_progress: Option<SharedProgress>) -> Result<Upload, Error> {
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| invalid("path", format!("{} has no file name", path.display())))?;
        // Read once up front so a missing file fails before any request.
        let io_error = |source| Error::Io { action: "read", path: path.to_owned(), source };
        // On the blocking pool, like the file's reads: a slow disk never holds a runtime thread.
        let metadata = tokio::fs::metadata(path).await.map_err(io_error)?;
        if !metadata.is_file() {
            return Err(invalid("path", format!("{} is not a file", path.display())));
        }
        let source = UploadSource::Path { path: path.to_owned(), progress: on_progress };
        let part = self.checked_part(&file_name, metadata.len(), source)?;
        self.send_upload(&part, Safety::SideEffect).await
    }

    /// The part to send, once its name, size and type pass the checks.
    fn checked_part(&self, file_name: &str, length: u64, source: UploadSource) -> Result<FilePart, Error> {
        if file_name.trim().is_empty() {
            return Err(invalid("file_name", "must not be empty"));
        }
        // A CR or LF would end the part's header line: refused rather than escaped, since no
        // real file name needs one.
        if file_name.chars().any(char::is_control) {
            return Err(invalid("file_name", "must not hold a control character (CR, LF, NUL, ...)"));
        }
        if let Some(limit) = self.transport.max_upload_size()
            && length > limit
        {
            return Err(invalid(
                "file",
                format!(
                    "is {length} bytes, over the upload limit of {limit} bytes; raise or lift it with \
                         `ClientBuilder::max_upload_size` if the API accepts more"
                ),
            ));
        }
        let mime = content_type(file_name)?;
        Ok(FilePart::new(file_name.to_owned(), mime, length, source))
    }

    async fn send_upload(&self, part: &FilePart, safety: Safety) -> Result<Upload, Error> {
        self.transport.json(&self.authed(Call::upload("/v1/uploads", part, safety))).await
    }
}

/// The content type of a file name, when the API accepts it.
fn content_type(file_name: &str) -> Result<String, Error> {
    let guessed = mime_guess::from_path(file_name).first();
    match guessed {
        Some(mime) if ACCEPTED_TYPES.contains(&mime.essence_str()) => Ok(mime.essence_str().to_owned()),
        other => {
            let found =
                other.map_or_else(|| "an unknown type".to_owned(), |mime| format!("type {}", mime.essence_str()));
            Err(invalid(
                "file_name",
                format!(
                    "{file_name:?} has {found}; the API accepts MP4, MOV, WebM and AVI videos ({})",
                    ACCEPTED_TYPES.join(", ")
                ),
            ))
        }
    }
}

impl Client {
    /// Uploads a local video (`POST /v1/uploads`, multipart part `file`): [`send`](FileUpload::send)
    /// the returned [`FileUpload`] (after [`progress`](FileUpload::progress), if you want it) for
    /// the upload's `video_url`, to pass to [`create_job`](Client::create_job). See
    /// [`AsyncClient::upload`] for the checks made before sending and how the file is streamed.
    ///
    /// ```no_run
    /// # let client = removebgvideo::Client::new("key")?;
    /// let upload = client.upload("input.mp4").progress(|p| println!("{} bytes", p.done)).send()?;
    /// # Ok::<(), removebgvideo::Error>(())
    /// ```
    pub fn upload(&self, path: impl AsRef<Path>) -> FileUpload<'_> {
        FileUpload { client: self, path: path.as_ref().to_owned(), on_progress: None }
    }

    /// Uploads `length` bytes from any reader as a file called `file_name`. Never retried.
    ///
    /// # Errors
    /// As [`AsyncClient::upload_reader`].
    pub fn upload_reader<R: Read + Send + 'static>(
        &self,
        reader: R,
        length: u64,
        file_name: &str,
    ) -> Result<Upload, Error> {
        let (inner, file_name) = (self.inner.clone(), file_name.to_owned());
        self.runtime.run(async move { inner.upload_reader(reader, length, &file_name).await })
    }
}
