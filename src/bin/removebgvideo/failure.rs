//! How a command ends: its message and exit status, from any of the library's errors, and its
//! JSON output.

/// A failure: the message and the exit status.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String, pub(crate) u8);

impl Failure {
    /// Bad usage or configuration (exit status 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure(message.into(), 2)
    }
}

/// The exit status of a call's error: 2 for what was refused before sending, else 1.
pub(crate) fn status_of(error: &removebgvideo::Error) -> u8 {
    match error {
        removebgvideo::Error::Config(_) | removebgvideo::Error::InvalidInput { .. } => 2,
        _ => 1,
    }
}

impl From<removebgvideo::Error> for Failure {
    fn from(error: removebgvideo::Error) -> Self {
        Failure(error_chain(&error), status_of(&error))
    }
}

impl From<removebgvideo::batch::BatchError> for Failure {
    fn from(error: removebgvideo::batch::BatchError) -> Self {
        use removebgvideo::batch::BatchError;
        let status = match &error {
            BatchError::InvalidInput { .. }
            | BatchError::OverBudget { .. }
            | BatchError::JournalLocked { .. }
            | BatchError::Unauthorized(_)
            | BatchError::Conflict { .. } => 2,
            BatchError::Client(error) => status_of(error),
            _ => 1,
        };
        Failure(error_chain(&error), status)
    }
}

impl From<removebgvideo::webhook::WebhookError> for Failure {
    fn from(error: removebgvideo::webhook::WebhookError) -> Self {
        Failure(error_chain(&error), 1)
    }
}

/// The error and each source it keeps, joined by ": " (each error's message names only
/// itself, so each source appears once).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Prints `value` as one line of JSON.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string(value).map_err(|e| Failure(format!("could not write JSON: {e}"), 1))?;
    println!("{text}");
    Ok(())
}
