//! The geometry of a [`Composition`]: where, and how large, the foreground is drawn.

use crate::models::{Anchor, Composition};

use super::error::{invalid, ComposeError};

/// The largest side a scaled foreground may have; ffmpeg's scaler refuses more.
const MAX_SIDE: f64 = 16_384.0;

/// Where a foreground lands on the canvas, in canvas pixels: its top-left corner (which may lie
/// outside the canvas) and its scaled size.
///
/// ```
/// use removebgvideo::compose::Placement;
/// use removebgvideo::models::Anchor;
/// use removebgvideo::Composition;
///
/// // A 100x50 foreground at half size, centred on the bottom edge of a 640x360 canvas, 10 px up.
/// let layout = Composition::new(640, 360).anchor(Anchor::BottomCenter).scale(0.5).offset(0, -10);
/// let place = Placement::of(&layout, 100, 50)?;
/// assert_eq!((place.x, place.y, place.width, place.height), (295, 325, 50, 25));
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Placement {
    /// The left edge, in pixels from the canvas's left edge.
    pub x: i64,
    /// The top edge, in pixels from the canvas's top edge.
    pub y: i64,
    /// The drawn width.
    pub width: u32,
    /// The drawn height.
    pub height: u32,
}

/// Where an anchor sits along one axis of a box.
#[derive(Clone, Copy)]
enum Along {
    Start,
    Middle,
    End,
}

impl Placement {
    /// Places a `width` × `height` foreground as `composition` says (see the
    /// [module's geometry](super#geometry)).
    ///
    /// # Errors
    ///
    /// [`ComposeError::InvalidInput`] for an empty canvas or foreground, or a scale that is not a
    /// finite number above 0 or makes a side larger than 16384 pixels;
    /// [`ComposeError::UnknownAnchor`] for an [`Anchor::Other`].
    pub fn of(composition: &Composition, width: u32, height: u32) -> Result<Self, ComposeError> {
        let canvas = composition.canvas;
        if canvas.width == 0 || canvas.height == 0 {
            return Err(invalid(
                "composition.canvas",
                format!("must be at least 1x1 pixels, got {}x{}", canvas.width, canvas.height),
            ));
        }
        if width == 0 || height == 0 {
            return Err(invalid("foreground", format!("has no pixels ({width}x{height})")));
        }
        let foreground = &composition.foreground;
        let scale = foreground.scale;
        if !scale.is_finite() || scale <= 0.0 {
            return Err(invalid(
                "composition.foreground.scale",
                format!("must be a finite number above 0, got {scale}"),
            ));
        }
        let side = |natural: u32| {
            let scaled = (f64::from(natural) * scale).round().max(1.0);
            if scaled > MAX_SIDE {
                Err(invalid(
                    "composition.foreground.scale",
                    format!("{scale} makes the foreground {scaled} pixels wide or high; at most {MAX_SIDE} is drawn"),
                ))
            } else {
                // Whole, at least 1 and at most MAX_SIDE: the conversion is exact.
                Ok(scaled as u32)
            }
        };
        let (drawn_width, drawn_height) = (side(width)?, side(height)?);
        let (horizontal, vertical) = along(&foreground.anchor)?;
        let x = position(horizontal, canvas.width, drawn_width) + i64::from(foreground.offset.x);
        let y = position(vertical, canvas.height, drawn_height) + i64::from(foreground.offset.y);
        Ok(Self { x, y, width: drawn_width, height: drawn_height })
    }
}

/// The anchor's place along the horizontal and the vertical axis. Matching every variant (no
/// wildcard) makes a new anchor in the models a compile error here until it is placed.
fn along(anchor: &Anchor) -> Result<(Along, Along), ComposeError> {
    use Along::{End, Middle, Start};
    Ok(match anchor {
        Anchor::Center => (Middle, Middle),
        Anchor::TopLeft => (Start, Start),
        Anchor::TopCenter => (Middle, Start),
        Anchor::TopRight => (End, Start),
        Anchor::CenterLeft => (Start, Middle),
        Anchor::CenterRight => (End, Middle),
        Anchor::BottomLeft => (Start, End),
        Anchor::BottomCenter => (Middle, End),
        Anchor::BottomRight => (End, End),
        Anchor::Other(name) => return Err(ComposeError::UnknownAnchor(name.clone())),
    })
}

/// The foreground's start along an axis so that the anchor points of canvas and foreground meet.
fn position(along: Along, canvas: u32, drawn: u32) -> i64 {
    let room = i64::from(canvas) - i64::from(drawn);
    match along {
        Along::Start => 0,
        Along::Middle => room.div_euclid(2),
        Along::End => room,
    }
}

#[cfg(test)]
mod tests {
    use super::Placement;
    use crate::models::{Anchor, Composition};

    #[test]
    fn every_anchor_meets_its_named_point() {
        let cases = [
            (Anchor::TopLeft, 0, 0),
            (Anchor::TopCenter, 22, 0),
            (Anchor::TopRight, 44, 0),
            (Anchor::CenterLeft, 0, 15),
            (Anchor::Center, 22, 15),
            (Anchor::CenterRight, 44, 15),
            (Anchor::BottomLeft, 0, 30),
            (Anchor::BottomCenter, 22, 30),
            (Anchor::BottomRight, 44, 30),
        ];
        for (anchor, x, y) in cases {
            let place = Placement::of(&Composition::new(64, 48).anchor(anchor.clone()), 20, 18).unwrap();
            assert_eq!((place.x, place.y, place.width, place.height), (x, y, 20, 18), "{anchor}");
        }
    }

    #[test]
    fn scale_rounds_offset_adds_and_odd_centres_round_up_and_left() {
        let place = Placement::of(&Composition::new(65, 49).scale(1.5).offset(-3, 4), 11, 7).unwrap();
        // 11 × 1.5 = 16.5 → 17, 7 × 1.5 = 10.5 → 11; (65 − 17) / 2 = 24, (49 − 11) / 2 = 19.
        assert_eq!((place.x, place.y, place.width, place.height), (21, 23, 17, 11));
        let tiny = Placement::of(&Composition::new(10, 10).scale(0.001), 10, 10).unwrap();
        assert_eq!((tiny.width, tiny.height), (1, 1));
        let wider = Placement::of(&Composition::new(10, 10).anchor(Anchor::Center), 13, 10).unwrap();
        assert_eq!(wider.x, -2);
    }

    #[test]
    fn unknown_anchors_and_impossible_scales_are_refused() {
        let other = Composition::new(10, 10).anchor(Anchor::from("middle-ish"));
        assert!(Placement::of(&other, 4, 4).unwrap_err().to_string().contains("middle-ish"));
        for scale in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9] {
            assert!(Placement::of(&Composition::new(10, 10).scale(scale), 4, 4).is_err(), "{scale}");
        }
        assert!(Placement::of(&Composition::new(0, 10), 4, 4).is_err());
    }
}
