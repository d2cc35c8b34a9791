//! `estimate <FILES…>`: credits from the videos' own durations.

use std::path::PathBuf;

use removebgvideo::batch::{Batch, Estimate, Item, JobOptions, Source};
use removebgvideo::Model;

use crate::connect::connect;
use crate::failure::{print_json, Failure};
use crate::ui::{count, credits};

/// `removebgvideo estimate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Video files (mp4 or mov).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The model.
    #[arg(long, value_parser = crate::values::model())]
    model: Option<Model>,
    /// Print the estimate as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn main(args: &Args) -> Result<u8, Failure> {
    let connection = connect(1)?;
    let mut options = JobOptions::new();
    if let Some(model) = &args.model {
        options = options.model(model.clone());
    }
    let items = args.files.iter().map(Item::file).collect();
    let estimate = Batch::new(connection.client.clone(), ".").options(options).estimate(items)?;
    if args.json {
        print_json(&json(&estimate))?;
    } else {
        print(&estimate);
    }
    Ok(0)
}

pub(crate) fn json(estimate: &Estimate) -> serde_json::Value {
    let items: Vec<serde_json::Value> = estimate
        .items
        .iter()
        .map(|item| {
            serde_json::json!({
                "item": item.id,
                "model": item.model.as_str(),
                "duration_seconds": item.duration.map(|d| d.as_secs_f64()),
                "credits": item.credits,
                "unknown_reason": item.unknown_reason,
            })
        })
        .collect();
    serde_json::json!({
        "items": items,
        "total_credits": estimate.total_credits,
        "unknown_items": estimate.unknown_items,
    })
}

pub(crate) fn print(estimate: &Estimate) {
    println!("{:<24} {:<8} {:>10} {:>10}  source", "item", "model", "duration", "credits");
    for item in &estimate.items {
        let duration = item.duration.map_or_else(|| "?".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
        let credits = item.credits.map_or_else(|| "?".to_owned(), credits);
        let source = match &item.source {
            Source::File(path) => path.display().to_string(),
            Source::Url(url) => url.split('?').next().unwrap_or_default().to_owned(),
            _ => String::new(),
        };
        println!("{:<24} {:<8} {duration:>10} {credits:>10}  {source}", item.id, item.model.as_str());
        if let Some(reason) = &item.unknown_reason {
            println!("{:<24} unknown: {reason}", "");
        }
    }
    println!();
    println!(
        "{}, estimated {} credits{}",
        count(estimate.items.len() as u64, "item", "items"),
        credits(estimate.total_credits),
        match estimate.unknown_items {
            0 => String::new(),
            1 => ", plus 1 item whose cost is unknown".to_owned(),
            n => format!(", plus {n} items whose cost is unknown"),
        }
    );
}
