//! A request's query string: one parameter's value, decoded as a form would be.

/// The value of query parameter `name`, percent-decoded (`+` is a space; a bad escape stays as it
/// is); the first one when it is given twice.
pub(crate) fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::param;

    #[test]
    fn a_parameter_is_found_and_decoded() {
        assert_eq!(param(Some("limit=5&status=in+progress%21"), "status").as_deref(), Some("in progress!"));
        assert_eq!(param(Some("a=1&a=2"), "a").as_deref(), Some("1"));
        assert_eq!(param(Some("flag"), "flag").as_deref(), Some(""));
        assert_eq!(param(Some("bad=%zz"), "bad").as_deref(), Some("%zz"));
        assert_eq!(param(Some("limit=5"), "offset"), None);
        assert_eq!(param(None, "limit"), None);
    }
}
