//! The `background` object of `create_job` and `start_job`: transparent, a colour, or an image.

use serde::{Deserialize, Serialize};

use super::invalid::{invalid, InvalidInput};

/// What replaces the removed background, sent as the docs' `background` object:
/// `{"type":"transparent"}`, `{"type":"color","color":"#00FF00"}`,
/// `{"type":"color","color":[0.035,0.635,0.274]}` or `{"type":"image","image_url":"..."}`.
///
/// Set it with [`CreateJob::background`](crate::CreateJob::background) or
/// [`StartJob::background`](crate::StartJob::background). It replaces the flat
/// `bg_type`/`bg_color`/`bg_image_url` fields: a request never carries both forms.
///
/// ```
/// use removebgvideo::Background;
///
/// let green = Background::hex("#00FF00");
/// let same_green = Background::rgb([0.035, 0.635, 0.274]);
/// let beach = Background::image("https://cdn.example.com/beach.jpg");
/// # let _ = (green, same_green, beach, Background::Transparent);
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Background {
    /// An alpha channel; needs an output format with alpha (webm, mov, gif, webp, png_sequence).
    Transparent,
    /// A solid colour; suits mp4.
    Color {
        /// The colour.
        color: Color,
    },
    /// An image behind the foreground.
    Image {
        /// Where the service fetches the image.
        image_url: String,
    },
}

/// A colour of a [`Background`]: a hex string or normalized RGB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Color {
    /// `#RRGGBB` (or `#RGB`), sent as written.
    Hex(String),
    /// Red, green and blue, each **normalized to 0..=1** (not 0..=255): green is
    /// `[0.035, 0.635, 0.274]`.
    Rgb([f64; 3]),
}

impl Background {
    /// A colour background from a hex string such as `#00FF00`.
    #[must_use]
    pub fn hex(hex: impl Into<String>) -> Self {
        Self::Color { color: Color::Hex(hex.into()) }
    }

    /// A colour background from normalized RGB, each component in 0..=1.
    #[must_use]
    pub fn rgb(rgb: [f64; 3]) -> Self {
        Self::Color { color: Color::Rgb(rgb) }
    }

    /// An image background fetched from `image_url`.
    #[must_use]
    pub fn image(image_url: impl Into<String>) -> Self {
        Self::Image { image_url: image_url.into() }
    }

    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        match self {
            Self::Transparent => Ok(()),
            Self::Color { color: Color::Hex(hex) } => check_hex(hex),
            Self::Color { color: Color::Rgb(rgb) } => check_rgb("background.color", rgb),
            Self::Image { image_url } => check_url("background.image_url", image_url),
        }
    }
}

/// `#RGB` or `#RRGGBB`.
fn check_hex(hex: &str) -> Result<(), InvalidInput> {
    let digits = hex.strip_prefix('#').unwrap_or("");
    if matches!(digits.len(), 3 | 6) && digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(invalid("background.color", format!("expected a hex colour such as #00FF00, got {hex:?}")))
    }
}

/// Three finite components in 0..=1; a value that looks like 0..=255 gets the division spelled out.
pub(crate) fn check_rgb(field: &'static str, rgb: &[f64; 3]) -> Result<(), InvalidInput> {
    for &component in rgb {
        if !component.is_finite() {
            return Err(invalid(field, format!("components must be finite numbers in 0..=1, got {component}")));
        }
        if !(0.0..=1.0).contains(&component) {
            let hint = if (1.0..=255.0).contains(&component) {
                format!(
                    " (divide 0..=255 values by 255: {component} → {:?})",
                    (component / 255.0 * 1000.0).round() / 1000.0
                )
            } else {
                String::new()
            };
            return Err(invalid(field, format!("components are normalized 0..=1, got {component}{hint}")));
        }
    }
    Ok(())
}

pub(crate) fn check_url(field: &'static str, url: &str) -> Result<(), InvalidInput> {
    if url.trim().is_empty() {
        Err(invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}
