//! The `composition` object of `start_job`: where the foreground sits on the output canvas.

use serde::{Deserialize, Serialize};

use super::invalid::{invalid, InvalidInput};
use crate::string_enum::string_enum;

/// Places the foreground on an output canvas (`guides/composition-json`), sent as
/// `{"canvas":{"width","height"},"foreground":{"anchor","scale","offset":{"x","y"}}}`.
///
/// The docs show composition on `start_job` only: create the job with
/// [`auto_start(false)`](crate::CreateJob::auto_start), then start it with
/// [`StartJob::composition`](crate::StartJob::composition).
///
/// ```
/// use removebgvideo::models::Anchor;
/// use removebgvideo::Composition;
///
/// // A 1080p canvas, the foreground at 80 % size, standing on the bottom edge.
/// let layout = Composition::new(1920, 1080).anchor(Anchor::BottomCenter).scale(0.8).offset(0, -40);
/// # let _ = layout;
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[must_use]
pub struct Composition {
    /// The output canvas.
    pub canvas: Canvas,
    /// Where and how large the foreground is drawn.
    pub foreground: Foreground,
}

/// The output canvas of a [`Composition`], in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Canvas {
    /// Width in pixels (not zero).
    pub width: u32,
    /// Height in pixels (not zero).
    pub height: u32,
}

/// The foreground's placement in a [`Composition`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Foreground {
    /// The point of the canvas the foreground is aligned to.
    pub anchor: Anchor,
    /// The foreground's size as a ratio of its natural size (finite, above 0).
    pub scale: f64,
    /// A shift from the anchor, in pixels.
    pub offset: Offset,
}

/// A shift in pixels: `x` to the right, `y` down (negative values go left and up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Offset {
    /// Pixels to the right.
    pub x: i32,
    /// Pixels down.
    pub y: i32,
}

string_enum! {
    /// The point of the canvas the foreground is aligned to.
    ///
    /// The docs show `center`, `top-left` and `bottom-center`; the other compass points follow
    /// the same pattern. Any other name the service accepts can be sent with [`Anchor::Other`].
    #[derive(Default)]
    pub enum Anchor {
        /// The middle of the canvas (the default).
        #[default]
        Center => "center",
        /// The top-left corner.
        TopLeft => "top-left",
        /// The middle of the top edge.
        TopCenter => "top-center",
        /// The top-right corner.
        TopRight => "top-right",
        /// The middle of the left edge.
        CenterLeft => "center-left",
        /// The middle of the right edge.
        CenterRight => "center-right",
        /// The bottom-left corner.
        BottomLeft => "bottom-left",
        /// The middle of the bottom edge.
        BottomCenter => "bottom-center",
        /// The bottom-right corner.
        BottomRight => "bottom-right",
    }
}

impl Composition {
    /// A `width` × `height` pixel canvas with the foreground centred at its natural size.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            canvas: Canvas { width, height },
            foreground: Foreground { anchor: Anchor::Center, scale: 1.0, offset: Offset::default() },
        }
    }

    /// The point the foreground is aligned to (default [`Anchor::Center`]).
    pub fn anchor(mut self, anchor: Anchor) -> Self {
        self.foreground.anchor = anchor;
        self
    }

    /// The foreground's size as a ratio (default 1.0); finite and above 0.
    pub fn scale(mut self, scale: f64) -> Self {
        self.foreground.scale = scale;
        self
    }

    /// A shift from the anchor in pixels (default 0, 0).
    pub fn offset(mut self, x: i32, y: i32) -> Self {
        self.foreground.offset = Offset { x, y };
        self
    }

    pub(crate) fn check(&self) -> Result<(), InvalidInput> {
        if self.canvas.width == 0 || self.canvas.height == 0 {
            return Err(invalid(
                "composition.canvas",
                format!("width and height must be at least 1 pixel, got {}x{}", self.canvas.width, self.canvas.height),
            ));
        }
        let scale = self.foreground.scale;
        if !scale.is_finite() || scale <= 0.0 {
            return Err(invalid(
                "composition.foreground.scale",
                format!("must be a finite number above 0, got {scale}"),
            ));
        }
        if self.foreground.anchor.as_str().trim().is_empty() {
            return Err(invalid("composition.foreground.anchor", "must not be empty"));
        }
        Ok(())
    }
}
