//! One `tracing` span per HTTP attempt (feature `tracing`); nothing at all without the feature.
//! The span names the route template, never a URL with ids, and never a header.

use http::{HeaderMap, StatusCode};

use super::Call;

/// The span of one attempt, closed by [`AttemptTrace::finish`].
pub(crate) struct AttemptTrace {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    #[cfg(feature = "tracing")]
    started: std::time::Instant,
}

impl AttemptTrace {
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn start(call: &Call<'_>, attempt: u32) -> Self {
        Self {
            #[cfg(feature = "tracing")]
            span: tracing::debug_span!(
                "removebgvideo.request",
                method = %call.method,
                route = call.route,
                attempt,
                status = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
                request_id = tracing::field::Empty,
            ),
            #[cfg(feature = "tracing")]
            started: std::time::Instant::now(),
        }
    }

    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn finish(self, answer: Option<(StatusCode, &HeaderMap)>) {
        #[cfg(feature = "tracing")]
        {
            let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.span.record("duration_ms", duration_ms);
            if let Some((status, headers)) = answer {
                self.span.record("status", status.as_u16());
                if let Some(request_id) = headers.get("x-request-id").and_then(|value| value.to_str().ok()) {
                    self.span.record("request_id", request_id);
                }
            }
            self.span.in_scope(|| match answer {
                Some((status, _)) => tracing::debug!(status = status.as_u16(), "answer"),
                None => tracing::debug!("no answer"),
            });
        }
    }
}
