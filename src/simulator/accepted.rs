//! The values the API accepts for a job's settings: what the routes check and the pricing lists.

/// Accepted `model` values.
pub(crate) const MODELS: &[&str] = &["original", "light", "pro", "human"];
/// Accepted `bg_type` values.
pub(crate) const BG_TYPES: &[&str] = &["transparent", "green", "white", "black", "blue", "custom", "color", "image"];
/// Accepted `output_format` values.
pub(crate) const OUTPUT_FORMATS: &[&str] = &["webm", "mov", "mp4", "gif", "webp", "png_sequence"];
