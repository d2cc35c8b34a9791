//! The credit estimate of a batch: each local video's duration × its model's credits per minute.

use std::time::Duration;

use serde_json::Value;

use super::duration::video_duration;
use super::item::{Planned, Source};
use crate::{Model, Pricing};

/// The credits per minute of `model` in a pricing answer, whichever of its known shapes it has:
/// `{"model_pricing_credits_per_minute": {"human": 45}}` (the API's) or
/// `{"models": {"human": {"credits_per_minute": 45}}}` (older answers).
pub(crate) fn credits_per_minute(pricing: &Pricing, model: &Model) -> Option<f64> {
    let name = model.as_str();
    pricing
        .get("model_pricing_credits_per_minute")
        .and_then(|table| table.get(name))
        .and_then(Value::as_f64)
        .or_else(|| pricing.get("models")?.get(name)?.get("credits_per_minute")?.as_f64())
        .filter(|rate| rate.is_finite() && *rate >= 0.0)
}

/// The estimate of a batch, item by item.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Estimate {
    /// One line per item, in order.
    pub items: Vec<ItemEstimate>,
    /// The sum of the items whose estimate is known, in credits.
    pub total_credits: f64,
    /// How many items have no estimate (their duration or their model's price is unknown).
    pub unknown_items: usize,
}

/// The estimate of one item.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ItemEstimate {
    /// The item id.
    pub id: String,
    /// Where the video comes from.
    pub source: Source,
    /// The model its job would use.
    pub model: Model,
    /// The video's duration, when its container could be read.
    pub duration: Option<Duration>,
    /// Minutes × the model's credits per minute, when both are known.
    pub credits: Option<f64>,
    /// Why the estimate is unknown, when it is.
    pub unknown_reason: Option<String>,
}

/// Estimates `items` with `pricing`.
pub(crate) fn estimate(items: &[&Planned], pricing: &Pricing) -> Estimate {
    let lines: Vec<ItemEstimate> = items
        .iter()
        .map(|item| {
            let model = item.options.effective_model();
            let duration = match &item.source {
                Source::File(path) => video_duration(path),
                Source::Url(_) => Err("a URL's video is not read before the job (its duration is unknown)".to_owned()),
            };
            let rate = credits_per_minute(pricing, &model);
            let (duration, credits, unknown_reason) = match (duration, rate) {
                (Ok(duration), Some(rate)) => (Some(duration), Some(duration.as_secs_f64() / 60.0 * rate), None),
                (Ok(duration), None) => (Some(duration), None, Some(format!("no price for the model {model}"))),
                (Err(reason), _) => (None, None, Some(reason)),
            };
            ItemEstimate { id: item.id.clone(), source: item.source.clone(), model, duration, credits, unknown_reason }
        })
        .collect();
    let total_credits = lines.iter().filter_map(|line| line.credits).sum();
    let unknown_items = lines.iter().filter(|line| line.credits.is_none()).count();
    Estimate { items: lines, total_credits, unknown_items }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pricing(value: Value) -> Pricing {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn both_pricing_shapes_are_read() {
        let documented = pricing(serde_json::json!({"model_pricing_credits_per_minute": {"human": 45, "pro": 180}}));
        assert_eq!(credits_per_minute(&documented, &Model::Human), Some(45.0));
        let older = pricing(serde_json::json!({"models": {"human": {"credits_per_minute": 45}}}));
        assert_eq!(credits_per_minute(&older, &Model::Human), Some(45.0));
        assert_eq!(credits_per_minute(&older, &Model::Pro), None);
        let nonsense = pricing(serde_json::json!({"model_pricing_credits_per_minute": {"human": -1}}));
        assert_eq!(credits_per_minute(&nonsense, &Model::Human), None);
    }
}
