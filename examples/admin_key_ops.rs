//! Create an API key, then list the keys (the official SDK's `examples/admin_key_ops.py`).
//!
//! ```text
//! REMOVEBGVIDEO_ADMIN_TOKEN=... cargo run --example admin_key_ops -- my-client-id "a note"
//! ```

use std::process::ExitCode;

use removebgvideo::models::CreateKey;
use removebgvideo::{AdminClient, Error};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(if matches!(error, Error::Config(_)) { 2 } else { 1 })
        }
    }
}

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let client_id = args.next().unwrap_or_else(|| "example-client".to_owned());
    let note = args.next();
    let admin = AdminClient::from_env()?;

    let mut request = CreateKey::new(client_id);
    if let Some(note) = note {
        request = request.note(note);
    }
    let created = admin.create_key(&request)?;
    // The key is shown only once, at creation: this is the moment to store it.
    println!("created key {} (fingerprint {})", created.api_key.expose(), created.key_fingerprint);

    let keys = admin.list_keys()?;
    println!("{} keys:", keys.items.len());
    for key in &keys.items {
        let enabled = key.extra.get("enabled").and_then(serde_json::Value::as_bool).map_or("?", |on| {
            if on {
                "enabled"
            } else {
                "disabled"
            }
        });
        println!("  {:<24} {:<24} {enabled}", key.client_id, key.key_fingerprint);
    }
    Ok(())
}
