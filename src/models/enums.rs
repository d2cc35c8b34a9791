//! The server-owned value sets: model, background type, output format, job status, billing
//! status and health status.

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
        /// The colour given by `bg_color` (the older docs' name for [`BgType::Color`]).
        Custom => "custom",
        /// The colour given by `bg_color` (normalized RGB, 0..=1).
        Color => "color",
        /// The image at `bg_image_url`.
        Image => "image",
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
        Created => "created",
        /// Accepted and waiting for processing (some servers also show drafts this way).
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

string_enum! {
    /// Where a job's billing stands (`billing_status`).
    ///
    /// The service's values are undocumented, so every value is kept as sent in
    /// [`BillingStatus::Other`]; named variants will be added as the values are documented.
    pub enum BillingStatus {}
}

string_enum! {
    /// The service's own word on its health (`GET /health`).
    pub enum HealthStatus {
        /// Everything works.
        Healthy => "healthy",
        /// Up, but some dependency is failing: see [`Health::checks`](crate::models::Health::checks).
        Degraded => "degraded",
    }
}
