//! What the foreground is drawn on: a colour, an image, a video, or nothing.

use std::path::PathBuf;
use std::str::FromStr;

use crate::models::{Background, Color};

use super::error::{invalid, ComposeError};
use super::input::extension;
use super::location::check_url;

/// Image files a backdrop takes (anything ffmpeg's image readers know).
const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"];
/// Video files a backdrop takes.
const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mov", "m4v", "mkv", "webm", "avi", "gif", "mpg", "mpeg", "ts"];

/// The background of a local composition.
///
/// Parses from the command line's `--background` values: `#RRGGBB` or `#RGB`, normalized RGB
/// `r,g,b` (each 0..=1, as the API's [`Color::Rgb`]), `none` or `transparent`, or the path of an
/// image or a video (told apart by extension), each a local file or an `http`/`https` URL. The
/// API's own [`Background`] converts too, so a preview can use the settings a job is started
/// with; its `image_url` must then be an `http` or `https` URL (a local path, `file:` or any
/// other scheme is refused), because a job's settings may come from anyone.
///
/// A URL background is fetched by ffmpeg from the machine that composes, with the `http`,
/// `https`, `tcp` and `tls` protocols only: it can reach whatever that machine can reach, such
/// as addresses inside its network, so take URLs only from those you would let make requests
/// from there. A local file is read with the `file` protocol only.
///
/// ```
/// use removebgvideo::compose::Backdrop;
/// use removebgvideo::Background;
///
/// assert_eq!("#1E90FF".parse::<Backdrop>()?, Backdrop::Color([0x1E, 0x90, 0xFF]));
/// assert_eq!("0,1,0".parse::<Backdrop>()?, Backdrop::Color([0, 255, 0]));
/// assert_eq!("none".parse::<Backdrop>()?, Backdrop::Transparent);
/// assert_eq!(Backdrop::try_from(&Background::hex("#0f0"))?, Backdrop::Color([0, 255, 0]));
/// assert!(matches!("beach.mp4".parse::<Backdrop>()?, Backdrop::Video { .. }));
/// # Ok::<(), removebgvideo::compose::ComposeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Backdrop {
    /// A transparent canvas (the default): needs an output with alpha (WebM, MOV, PNG frames).
    #[default]
    Transparent,
    /// A solid colour, red, green and blue in 0..=255.
    Color([u8; 3]),
    /// An image (a local file, or an `http`/`https` URL), scaled to cover the canvas and cropped
    /// around its centre.
    Image(PathBuf),
    /// A video (a local file, or an `http`/`https` URL), scaled to cover the canvas and cropped around its centre, with
    /// its frame rate changed to the foreground's.
    Video {
        /// The video.
        path: PathBuf,
        /// What happens when its length differs from the foreground's.
        fit: VideoFit,
    },
}

/// How a background video is fitted to the foreground's length. The output always lasts as long
/// as the foreground.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VideoFit {
    /// Played again from the start while the foreground lasts (the default); cut where the
    /// foreground ends.
    #[default]
    Loop,
    /// Played once: cut where the foreground ends, its last frame held if it ends first.
    Cut,
}

impl Backdrop {
    /// A video background, looped to the foreground's length.
    #[must_use]
    pub fn video(path: impl Into<PathBuf>) -> Self {
        Self::Video { path: path.into(), fit: VideoFit::Loop }
    }

    /// An image background.
    #[must_use]
    pub fn image(path: impl Into<PathBuf>) -> Self {
        Self::Image(path.into())
    }

    /// A colour from `#RRGGBB` or `#RGB`.
    ///
    /// # Errors
    ///
    /// [`ComposeError::InvalidInput`] for anything else.
    pub fn hex(hex: &str) -> Result<Self, ComposeError> {
        parse_hex(hex).map(Self::Color)
    }

    /// A colour from normalized RGB, each component in 0..=1 (not 0..=255).
    ///
    /// # Errors
    ///
    /// [`ComposeError::InvalidInput`] for a component that is not a finite number in 0..=1.
    pub fn rgb(rgb: [f64; 3]) -> Result<Self, ComposeError> {
        if let Some(bad) = rgb.iter().find(|component| !(0.0..=1.0).contains(*component)) {
            return Err(invalid(
                "background",
                format!("RGB components are normalized 0..=1 (divide 0..=255 values by 255), got {bad}"),
            ));
        }
        // In 0..=1 (checked), so the product rounds into 0..=255.
        Ok(Self::Color(rgb.map(|component| (component * 255.0).round() as u8)))
    }
}

impl TryFrom<&Background> for Backdrop {
    type Error = ComposeError;

    /// The API's background as a local one; an image URL must be `http` or `https`.
    fn try_from(background: &Background) -> Result<Self, ComposeError> {
        match background {
            Background::Transparent => Ok(Self::Transparent),
            Background::Color { color: Color::Hex(hex) } => Self::hex(hex),
            Background::Color { color: Color::Rgb(rgb) } => Self::rgb(*rgb),
            Background::Image { image_url } => {
                Ok(Self::Image(PathBuf::from(check_url(image_url, "background.image_url")?)))
            }
        }
    }
}

impl FromStr for Backdrop {
    type Err = ComposeError;

    fn from_str(spec: &str) -> Result<Self, ComposeError> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("none") || spec.eq_ignore_ascii_case("transparent") {
            return Ok(Self::Transparent);
        }
        if spec.starts_with('#') {
            return Self::hex(spec);
        }
        let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
        if parts.len() == 3
            && let (Ok(r), Ok(g), Ok(b)) = (parts[0].parse(), parts[1].parse(), parts[2].parse())
        {
            return Self::rgb([r, g, b]);
        }
        // A URL's query must not decide the kind: `bg.jpg?v=2` is an image.
        let path = PathBuf::from(spec.split(['?', '#']).next().unwrap_or(spec));
        match extension(&path) {
            Some(ext) if IMAGE_EXTENSIONS.contains(&ext.as_str()) => Ok(Self::Image(spec.into())),
            Some(ext) if VIDEO_EXTENSIONS.contains(&ext.as_str()) => Ok(Self::video(spec)),
            _ => Err(invalid(
                "background",
                format!(
                    "{spec:?} is not #RRGGBB, r,g,b in 0..=1, none, an image ({}) or a video ({})",
                    IMAGE_EXTENSIONS.join(", "),
                    VIDEO_EXTENSIONS.join(", ")
                ),
            )),
        }
    }
}

fn parse_hex(hex: &str) -> Result<[u8; 3], ComposeError> {
    let refuse = || invalid("background", format!("expected a hex colour such as #00FF00, got {hex:?}"));
    let digits = hex.trim().strip_prefix('#').ok_or_else(refuse)?;
    if !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(refuse());
    }
    let nibble = |at: usize| u8::from_str_radix(&digits[at..=at], 16).map_err(|_| refuse());
    match digits.len() {
        3 => Ok([nibble(0)? * 17, nibble(1)? * 17, nibble(2)? * 17]),
        6 => {
            let byte = |at: usize| u8::from_str_radix(&digits[at..at + 2], 16).map_err(|_| refuse());
            Ok([byte(0)?, byte(2)?, byte(4)?])
        }
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::{Backdrop, VideoFit};

    #[test]
    fn specs_parse_and_nonsense_is_refused() {
        assert_eq!("#abc".parse::<Backdrop>().unwrap(), Backdrop::Color([0xAA, 0xBB, 0xCC]));
        assert_eq!("TRANSPARENT".parse::<Backdrop>().unwrap(), Backdrop::Transparent);
        assert_eq!("bg.JPG".parse::<Backdrop>().unwrap(), Backdrop::image("bg.JPG"));
        assert_eq!(
            "https://cdn.example.com/b.mp4?sig=1".parse::<Backdrop>().unwrap(),
            Backdrop::Video { path: "https://cdn.example.com/b.mp4?sig=1".into(), fit: VideoFit::Loop }
        );
        for bad in ["#12", "#ggg", "#ééé", "0,300,0", "1,2", "bg.txt", "", "#"] {
            assert!(bad.parse::<Backdrop>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_jobs_image_background_must_be_a_web_url() {
        use crate::models::Background;

        let url = "https://cdn.example.com/bg.png?sig=1";
        assert_eq!(Backdrop::try_from(&Background::image(url)).unwrap(), Backdrop::image(url));
        for local in ["/etc/secret.png", "file:/etc/secret.png", "concat:a.png|b.png", "secret.png", "ftp://h/x.png"] {
            let refused = Backdrop::try_from(&Background::image(local)).unwrap_err();
            assert!(
                matches!(refused, super::ComposeError::InvalidInput { field: "background.image_url", .. }),
                "{local}: {refused:?}"
            );
        }
    }
}
