//! The command line's spellings of a canvas (`1920x1080`) and an offset (`40,-20`), so that
//! flags map straight onto a [`Composition`](crate::Composition).

use std::str::FromStr;

use crate::models::{Canvas, Offset};

use super::error::{invalid, ComposeError};

/// `WIDTHxHEIGHT`, such as `1920x1080` (available with the `compose` feature).
///
/// ```
/// use removebgvideo::models::Canvas;
///
/// let canvas: Canvas = "1280x720".parse()?;
/// assert_eq!((canvas.width, canvas.height), (1280, 720));
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
impl FromStr for Canvas {
    type Err = ComposeError;

    fn from_str(spec: &str) -> Result<Self, ComposeError> {
        let refuse = || invalid("canvas", format!("expected WIDTHxHEIGHT such as 1920x1080, got {spec:?}"));
        let (width, height) = spec.trim().split_once(['x', 'X']).ok_or_else(refuse)?;
        let width: u32 = width.trim().parse().map_err(|_| refuse())?;
        let height: u32 = height.trim().parse().map_err(|_| refuse())?;
        if width == 0 || height == 0 {
            return Err(refuse());
        }
        Ok(Self { width, height })
    }
}

/// `X,Y` in pixels, such as `40,-20` (available with the `compose` feature).
///
/// ```
/// use removebgvideo::models::Offset;
///
/// let offset: Offset = "40,-20".parse()?;
/// assert_eq!((offset.x, offset.y), (40, -20));
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
impl FromStr for Offset {
    type Err = ComposeError;

    fn from_str(spec: &str) -> Result<Self, ComposeError> {
        let refuse = || invalid("offset", format!("expected X,Y in pixels such as 40,-20, got {spec:?}"));
        let (x, y) = spec.trim().split_once(',').ok_or_else(refuse)?;
        Ok(Self { x: x.trim().parse().map_err(|_| refuse())?, y: y.trim().parse().map_err(|_| refuse())? })
    }
}

#[cfg(test)]
mod tests {
    use crate::models::{Canvas, Offset};

    #[test]
    fn bad_spellings_are_refused() {
        for bad in ["", "1920", "0x10", "axb", "1920x1080x3", "-5x5"] {
            assert!(bad.parse::<Canvas>().is_err(), "{bad:?}");
        }
        for bad in ["", "1", "a,b", "1,2,3", "99999999999,0"] {
            assert!(bad.parse::<Offset>().is_err(), "{bad:?}");
        }
    }
}
