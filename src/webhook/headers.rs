//! Reading the webhook headers from whatever header collection a web framework hands over.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// A collection of request headers the verifier can read, looked up case-insensitively as HTTP
/// requires.
///
/// Implemented for [`http::HeaderMap`] (axum, hyper, reqwest, ...) and for plain name/value pairs:
/// slices, arrays and `Vec`s of `(name, value)` tuples and `HashMap`/`BTreeMap`s, with any
/// string-like names and values (`&str`, `String`, ...). For another framework, collect its
/// headers into a `Vec<(&str, &str)>` or implement this trait.
///
/// When a header occurs more than once, the first occurrence is used.
pub trait WebhookHeaders {
    /// The value of the header called `name` (any letter case), or `None` when it is absent.
    ///
    /// A value that is not valid UTF-8 is returned with replacement characters rather than
    /// hidden, so the verifier reports it as malformed instead of missing.
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>>;
}

impl<T: WebhookHeaders + ?Sized> WebhookHeaders for &T {
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>> {
        (**self).get_header(name)
    }
}

impl WebhookHeaders for http::HeaderMap {
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>> {
        // `HeaderMap::get` with a `&str` normalizes the name, so the lookup ignores case.
        self.get(name).map(|value| String::from_utf8_lossy(value.as_bytes()))
    }
}

/// The first value whose name equals `name` ignoring ASCII case.
fn find_in_pairs<'a, K, V>(pairs: impl IntoIterator<Item = (&'a K, &'a V)>, name: &str) -> Option<Cow<'a, str>>
where
    K: AsRef<str> + 'a + ?Sized,
    V: AsRef<str> + 'a + ?Sized,
{
    pairs
        .into_iter()
        .find(|(key, _)| key.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, value)| Cow::Borrowed(value.as_ref()))
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for [(K, V)] {
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>> {
        find_in_pairs(self.iter().map(|(key, value)| (key, value)), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> WebhookHeaders for [(K, V); N] {
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.as_slice().get_header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for Vec<(K, V)> {
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.as_slice().get_header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, S: BuildHasher> WebhookHeaders for HashMap<K, V, S> {
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>> {
        // The keys may be stored in any case, so a hashed lookup of `name` is not enough.
        find_in_pairs(self.iter(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for BTreeMap<K, V> {
    fn get_header(&self, name: &str) -> Option<Cow<'_, str>> {
        find_in_pairs(self.iter(), name)
    }
}
