//! The documented error codes of the API.

use crate::string_enum::string_enum;

string_enum! {
    /// The `code` of an error answer (`{"error": {"code", "message", "request_id"}}`).
    ///
    /// A code this version of the crate does not know is kept in [`ErrorCode::Other`].
    pub enum ErrorCode {
        /// No `X-Api-Key` was sent (401): set the key.
        MissingApiKey => "missing_api_key",
        /// The key is wrong or disabled (401): fix the key.
        InvalidApiKey => "invalid_api_key",
        /// The account has too few credits for the job (402): top up credits; retrying does
        /// not help.
        InsufficientCredits => "insufficient_credits",
        /// The request is malformed or a value is refused (400): fix the request.
        InvalidRequest => "invalid_request",
        /// No such job or route, or another key's job (404).
        NotFound => "not_found",
        /// Too many requests (429): back off and retry.
        RateLimited => "rate_limited",
        /// The service failed (5xx): retry with backoff.
        InternalError => "internal_error",
        /// The service timed out (5xx): retry with backoff.
        Timeout => "timeout",
    }
}
