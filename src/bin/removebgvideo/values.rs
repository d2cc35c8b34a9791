//! Values read from the command line, parsed by clap into the crate's types: a value that
//! cannot be right is a usage error (exit status 2) before anything is read or sent.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use removebgvideo::{BgType, Model, OutputFormat};

use crate::failure::Failure;

/// The output formats that keep a transparent background (all but mp4).
const ALPHA_FORMATS: &str = "webm, mov, gif, webp or png_sequence";

/// `--model`: original, light, pro or human.
pub(crate) fn model() -> impl TypedValueParser<Value = Model> {
    PossibleValuesParser::new(["original", "light", "pro", "human"]).map(Model::from)
}

/// `--output-format`: webm, mov, mp4, gif, webp or png_sequence.
pub(crate) fn output_format() -> impl TypedValueParser<Value = OutputFormat> {
    PossibleValuesParser::new(["webm", "mov", "mp4", "gif", "webp", "png_sequence"]).map(OutputFormat::from)
}

/// `--bg-type`: the backgrounds that need nothing more (a colour or an image background
/// needs its colour or image, which a manifest line can give).
pub(crate) fn bg_type() -> impl TypedValueParser<Value = BgType> {
    PossibleValuesParser::new(["transparent", "green", "white", "black", "blue"]).map(BgType::from)
}

/// Refuses a transparent background into a format without alpha (mp4), naming the formats
/// that keep it.
pub(crate) fn refuse_lost_alpha(bg_type: Option<&BgType>, format: Option<&OutputFormat>) -> Result<(), Failure> {
    match (bg_type, format) {
        (Some(BgType::Transparent), Some(format @ OutputFormat::Mp4)) => Err(Failure::usage(format!(
            "--output-format {format} has no alpha channel, so a transparent background would be lost: choose \
             {ALPHA_FORMATS}, or a background with --bg-type (green, white, black or blue)"
        ))),
        _ => Ok(()),
    }
}

/// `--webhook-url` and other URLs given as options: an absolute http(s) URL with a host. A
/// refused value is not echoed back (it may hold a password or a token).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpUrl;

impl TypedValueParser for HttpUrl {
    type Value = String;

    fn parse_ref(
        &self,
        _command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let name = arg.map_or_else(
            || "the URL".to_owned(),
            |arg| {
                arg.get_long().map_or_else(
                    || format!("<{}>", arg.get_id().as_str().to_ascii_uppercase()),
                    |long| format!("--{long}"),
                )
            },
        );
        let refuse = |reason: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("invalid value for {name}: {reason}\n"))
        };
        let text = value.to_str().ok_or_else(|| refuse("not UTF-8".to_owned()))?;
        http_url(text).map_err(refuse)
    }
}

/// An absolute http(s) URL with a host, kept as given.
pub(crate) fn http_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|error| format!("not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("an http or https URL is needed, not {}:", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL names no host".to_owned());
    }
    Ok(text.to_owned())
}

/// A URL to print: scheme, host, port and path, without userinfo, query or fragment (they
/// may hold a password or a signature). Text that is not a URL is not printed.
pub(crate) fn shown_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// Whether an input is a URL rather than a local file.
pub(crate) fn is_url(input: &str) -> bool {
    input.starts_with("http://") || input.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_shown_without_secrets() {
        assert!(http_url("https://hooks.example/in").is_ok());
        assert!(http_url("hooks.example/in").is_err());
        assert!(http_url("ftp://hooks.example/in").is_err());
        assert!(http_url("http://").is_err());
        assert_eq!(shown_url("https://user:pw@hooks.example:8443/in?token=s#x"), "https://hooks.example:8443/in");
    }
}
