//! The server-owned value sets: model, background type, output format and job status.

use crate::string_enum::string_enum;

string_enum! {
    /// The segmentation model that processes a job.
    ///
    /// Unknown values from the server are kept in [`Model::Other`].
    #[derive(Default)]
    pub enum Model {
        /// Quality-first general segmentation (the default).
        #[default]
        Original => "original",
        /// Fastest and cheapest; for simple scenes.
        Light => "light",
        /// Prompt-targeted segmentation; the only model that reads `text_prompt`.
        Pro => "pro",
        /// Tuned for portraits and people.
        Human => "human",
    }
}

string_enum! {
    /// What replaces the removed background.
    #[derive(Default)]
    pub enum BgType {
        /// An alpha channel (needs a format with alpha, such as webm, mov, webp or png_sequence).
        Transparent => "transparent",
        /// Chroma-key green (the default, as the official SDK sends when no background is chosen).
        #[default]
        Green => "green",
        /// Solid white.
        White => "white",
        /// Solid black.
        Black => "black",
        /// Chroma-key blue.
        Blue => "blue",
        /// The colour given by `bg_color`.
        Custom => "custom",
    }
}

string_enum! {
    /// The container or image format of the output.
    #[derive(Default)]
    pub enum OutputFormat {
        /// WebM (the default; carries alpha).
        #[default]
        Webm => "webm",
        /// QuickTime MOV.
        Mov => "mov",
        /// MPEG-4.
        Mp4 => "mp4",
        /// Animated GIF.
        Gif => "gif",
        /// Animated WebP.
        Webp => "webp",
        /// A sequence of PNG frames.
        PngSequence => "png_sequence",
    }
}

string_enum! {
    /// Where a job is in its life.
    pub enum JobStatus {
        /// A draft created with `auto_start = false`, waiting for `start_job`.
        Pending => "pending",
        /// Being processed.
        Processing => "processing",
        /// Finished; `output_url` is set.
        Completed => "completed",
        /// Finished without output; `error` says why.
        Failed => "failed",
    }
}

impl JobStatus {
    /// Whether the job can no longer change: completed or failed.
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}
