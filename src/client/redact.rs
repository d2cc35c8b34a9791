//! Redaction: the one place that decides what of a server's words may be shown in an error.
//!
//! Every error text that quotes a server (an error answer's message, request id and snippet,
//! a 2xx body that could not be read, the JSON parser's message, a failed job's reason and
//! URLs) passes through [`text`] or [`snippet`]: known credentials are replaced, every URL
//! loses its query, fragment and password, and the value of every credential-like field
//! (`api_key`, `token`, `secret`, `password`, `signature`, ...) becomes `[redacted]`. Used by
//! `error`, `api_error` and `transport::answer`; uses nothing of the crate but the models.

use serde_json::Value;

use crate::models::Job;

/// What a hidden value is replaced with.
pub(crate) const REDACTED: &str = "[redacted]";

/// How many characters of a body a snippet keeps.
pub(crate) const SNIPPET_CHARS: usize = 300;

/// How much of a body is read for a snippet: far more than a snippet, so that a secret or
/// URL that starts inside the snippet is seen whole before the snippet is cut.
const SNIPPET_SCAN_BYTES: usize = 16 * 1024;

/// Field names (lowercase, as parts of a name) whose values are never shown.
const SENSITIVE: &[&str] = &[
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "signature",
    "sig",
    "credential",
    "authorization",
    "auth",
    "cookie",
    "session",
    "bearer",
];

/// Whether a field of this name may hold a credential.
pub(crate) fn is_sensitive_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    // `apikey` and `x-amz-signature` match, `keyframes` and `design` do not.
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| SENSITIVE.iter().any(|word| part.ends_with(word) || (word.len() >= 5 && part.starts_with(word))))
}

/// The longest text shown (bytes): a server's message longer than this is junk, and
/// redacting it whole would cost memory in proportion.
const MAX_TEXT_BYTES: usize = 16 * 1024;

/// `text` as it may be shown: every copy of a `secret` (as sent, or escaped inside JSON),
/// every URL's query, fragment and password, and every credential-like field's value
/// replaced by `[redacted]`; cut after [`MAX_TEXT_BYTES`].
pub(crate) fn text(text: &str, secrets: &[&[u8]]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter_map(|secret| std::str::from_utf8(secret).ok()) {
        if secret.is_empty() {
            continue;
        }
        out = out.replace(secret, REDACTED);
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if escaped != secret && !escaped.is_empty() {
            out = out.replace(escaped, REDACTED);
        }
    }
    if out.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    fields(&urls(&out))
}

/// The start of a body, lossily decoded and redacted, for messages and logs; at most
/// [`SNIPPET_CHARS`] characters.
pub(crate) fn snippet(body: &[u8], secrets: &[&[u8]]) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_SCAN_BYTES)]);
    text(head.trim(), secrets).chars().take(SNIPPET_CHARS).collect()
}

/// A copy of `job` as it may be printed by an error: its text fields and unnamed fields go
/// through [`text`], its URLs lose their queries, and credential-like unnamed fields are
/// hidden.
pub(crate) fn job(job: &Job) -> Job {
    let mut shown = job.clone();
    let clean = |value: &mut Option<String>| {
        if let Some(text) = value.as_mut() {
            *text = self::text(text, &[]);
        }
    };
    clean(&mut shown.output_url);
    clean(&mut shown.webhook_url);
    clean(&mut shown.error);
    shown.id = text(&shown.id, &[]);
    if let Some(events) = shown.webhook_events.as_mut() {
        value(events);
    }
    for (name, field) in &mut shown.extra {
        if is_sensitive_name(name) {
            *field = Value::String(REDACTED.to_owned());
        } else {
            value(field);
        }
    }
    shown
}

/// Redacts a JSON value in place: credential-like members hidden, every string through
/// [`text`].
fn value(value: &mut Value) {
    match value {
        Value::String(text) => *text = self::text(text, &[]),
        Value::Array(items) => items.iter_mut().for_each(self::value),
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                if is_sensitive_name(name) {
                    *member = Value::String(REDACTED.to_owned());
                } else {
                    self::value(member);
                }
            }
        }
        _ => {}
    }
}

/// Characters that end a URL in running text or JSON.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\' | '{' | '}' | '|' | '^' | '[' | ']')
}

/// Every URL-like word with its query and fragment cut (`?[redacted]`), and the password of
/// a URL with a scheme hidden.
fn urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(|c: char| !ends_url(c)).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(ends_url).unwrap_or(rest.len());
        out.push_str(&word(&rest[..end]));
        rest = &rest[end..];
    }
    out
}

/// One word of [`urls`].
fn word(word: &str) -> String {
    let mut word = word.to_owned();
    if let Some(scheme_end) = word.find("://").or_else(|| word.find(":/")) {
        let after = scheme_end + word[scheme_end..].find('/').unwrap_or(0);
        let authority_start = after + word[after..].find(|c: char| c != '/').unwrap_or(0);
        let authority_len = word[authority_start..].find(['/', '?', '#']).unwrap_or(word.len() - authority_start);
        let authority = &word[authority_start..authority_start + authority_len];
        if let Some(at) = authority.rfind('@') {
            word.replace_range(authority_start..authority_start + at, REDACTED);
        } else if authority.rsplit_once(':').is_some_and(|(_, port)| !port.bytes().all(|b| b.is_ascii_digit())) {
            // A text cut short inside `user:password@host` leaves no `@`: what follows the
            // colon is no port, so it may be a password.
            word.replace_range(authority_start..authority_start + authority_len, REDACTED);
        }
    }
    if let Some(cut) = word.find(['?', '#']) {
        let after = &word[cut + 1..];
        let looks_like_query = word[..cut].contains('/') || after.contains('=');
        if !after.is_empty() && looks_like_query {
            word.truncate(cut + 1);
            word.push_str(REDACTED);
        }
    }
    word
}

/// Every value of a credential-like field hidden: `"api_key": "…"`, `token=…`,
/// `secret: {…}`, in JSON or running text.
fn fields(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < chars.len() {
        if !is_name_char(chars[at]) {
            out.push(chars[at]);
            at += 1;
            continue;
        }
        let name_end = chars[at..].iter().position(|c| !is_name_char(*c)).map_or(chars.len(), |n| at + n);
        let name: String = chars[at..name_end].iter().collect();
        out.push_str(&name);
        at = name_end;
        if !is_sensitive_name(&name) {
            continue;
        }
        // The separator: a closing quote (maybe escaped), spaces, then `:` or `=`.
        let mut look = at;
        while look < chars.len() && matches!(chars[look], '"' | '\'' | '\\') {
            look += 1;
        }
        while look < chars.len() && chars[look].is_whitespace() {
            look += 1;
        }
        if look >= chars.len() || !matches!(chars[look], ':' | '=') {
            continue;
        }
        look += 1;
        while look < chars.len() && chars[look].is_whitespace() {
            look += 1;
        }
        out.extend(&chars[at..look]);
        at = look;
        let value_end = value_end(&chars, at);
        let quoted = chars.get(at).is_some_and(|c| matches!(c, '"' | '\'' | '\\' | '{' | '['));
        if value_end > at {
            if quoted {
                out.push('"');
                out.push_str(REDACTED);
                out.push('"');
            } else {
                out.push_str(REDACTED);
            }
        }
        at = value_end;
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Where the value starting at `at` ends: a quoted string (escapes honoured), a bracketed
/// JSON value, or a bare word.
fn value_end(chars: &[char], at: usize) -> usize {
    let Some(&first) = chars.get(at) else { return at };
    match first {
        '"' | '\'' | '\\' => {
            // `\"` opens a string inside a JSON-escaped text.
            let (quote, mut i) = if first == '\\' { ('"', at + 2) } else { (first, at + 1) };
            while i < chars.len() {
                match chars[i] {
                    '\\' if chars.get(i + 1) == Some(&quote) && first == '\\' => return i + 2,
                    '\\' => i += 2,
                    c if c == quote => return i + 1,
                    _ => i += 1,
                }
            }
            chars.len()
        }
        '{' | '[' => {
            let mut depth = 0usize;
            let mut in_string = false;
            let mut i = at;
            while i < chars.len() {
                match chars[i] {
                    '\\' if in_string => i += 1,
                    '"' => in_string = !in_string,
                    '{' | '[' if !in_string => depth += 1,
                    '}' | ']' if !in_string => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            chars.len()
        }
        _ => chars[at..]
            .iter()
            .position(|c| c.is_whitespace() || matches!(c, ',' | '}' | ']' | '&' | ';' | '"' | '\'' | ')'))
            .map_or(chars.len(), |n| at + n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_passwords_and_credential_fields_are_hidden() {
        let cases = [
            (
                r#"{"output_url":"https://cdn.example/o.mp4?X-Amz-Signature=abc&x=1","n":1}"#,
                r#"{"output_url":"https://cdn.example/o.mp4?[redacted]","n":1}"#,
            ),
            (r#"{"api_key": "sk_live_1", "ok": true}"#, r#"{"api_key": "[redacted]", "ok": true}"#),
            (r#"{"secret":{"a":"b"},"x":2}"#, r#"{"secret":"[redacted]","x":2}"#),
            ("token=abc123 and more", "token=[redacted] and more"),
            ("see https://user:pw@host.example/p now", "see https://[redacted]@host.example/p now"),
            ("cut https://user:pw_cut_sho", "cut https://[redacted]"),
            ("at http://127.0.0.1:8080/p", "at http://127.0.0.1:8080/p"),
            ("/v1/out.mp4?sig=1", "/v1/out.mp4?[redacted]"),
            ("what? nothing", "what? nothing"),
            (r#"{\"password\":\"hunter2\"}"#, r#"{\"password\":"[redacted]"}"#),
            ("invalid key sk_1 given", "invalid key [redacted] given"),
        ];
        for (input, shown) in cases {
            assert_eq!(text(input, &[b"sk_1"]), shown, "{input}");
        }
    }

    #[test]
    fn a_snippet_is_redacted_before_it_is_cut() {
        let body = format!("{}https://h.example/a?sig={}", "x".repeat(290), "s".repeat(50));
        let shown = snippet(body.as_bytes(), &[]);
        assert!(!shown.contains("sss"), "{shown}");
        assert!(shown.chars().count() <= SNIPPET_CHARS);
    }
}
