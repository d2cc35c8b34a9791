//! `usage` and `pricing`.

use crate::connect::connect;
use crate::failure::{print_json, Failure};
use crate::ui::credits;

/// `removebgvideo usage`.
#[derive(Debug, clap::Args)]
pub(crate) struct UsageArgs {
    /// Over how many days (1 to 90).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=90))]
    days: u32,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

/// `removebgvideo pricing`.
#[derive(Debug, clap::Args)]
pub(crate) struct PricingArgs {
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn usage(args: &UsageArgs) -> Result<u8, Failure> {
    let connection = connect(1)?;
    let usage = connection.client.usage_summary(args.days)?;
    if args.json {
        print_json(&usage)?;
    } else {
        let count = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        println!("last {} days", args.days);
        println!("  jobs created    {}", count(usage.total_jobs));
        println!("  jobs completed  {}", count(usage.completed_jobs));
        println!("  credits used    {}", usage.credits_used.map_or_else(|| "?".to_owned(), credits));
    }
    Ok(0)
}

pub(crate) fn pricing(args: &PricingArgs) -> Result<u8, Failure> {
    let connection = connect(1)?;
    let pricing = connection.client.pricing()?;
    if args.json {
        print_json(&pricing)?;
    } else {
        println!("{:<12} {:>18}", "model", "credits per minute");
        for (model, credits) in &pricing.model_credits_per_minute {
            println!("{model:<12} {credits:>18}");
        }
        if let Some(cents) = pricing.price_per_second_cents {
            println!("price per second: {cents} {}", if cents == 1.0 { "cent" } else { "cents" });
        }
    }
    Ok(0)
}
