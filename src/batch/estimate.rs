//! The credit estimate of a batch: each local video's duration × its model's credits per minute.

use std::time::Duration;

use super::error::BatchError;
#[cfg(test)]
use super::item::JobOptions;
use super::item::{Item, Planned, Source};
use super::setup::Batch;
use crate::models::{Model, Pricing};
use crate::video_duration::video_duration;

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
            let (duration, credits, unknown_reason) = match duration {
                Ok(duration) => match pricing.estimate_credits(&model, duration) {
                    Some(credits) => (Some(duration), Some(credits), None),
                    None => (Some(duration), None, Some(format!("no price for the model {model}"))),
                },
                Err(reason) => (None, None, Some(reason)),
            };
            ItemEstimate { id: item.id.clone(), source: item.source.clone(), model, duration, credits, unknown_reason }
        })
        .collect();
    let total_credits = lines.iter().filter_map(|line| line.credits).sum();
    let unknown_items = lines.iter().filter(|line| line.credits.is_none()).count();
    Estimate { items: lines, total_credits, unknown_items }
}

impl Batch {
    /// Lists the items (after ids and the shard are applied) with each one's duration and
    /// credits. Sends only `GET /api/pricing`.
    ///
    /// # Errors
    /// [`BatchError::InvalidInput`] for bad items or settings; [`BatchError::Client`] when the
    /// pricing cannot be read.
    pub fn estimate(&self, items: Vec<Item>) -> Result<Estimate, BatchError> {
        self.check()?;
        let planned = self.select(items)?;
        let pricing = self.client.pricing()?;
        Ok(estimate(&planned.iter().collect::<Vec<_>>(), &pricing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_without_a_readable_duration_or_price_is_unknown_not_zero() {
        let pricing: Pricing =
            serde_json::from_value(serde_json::json!({"model_pricing_credits_per_minute": {"human": 45}})).unwrap();
        let planned = |id: &str, source| Planned {
            id: id.to_owned(),
            source,
            options: JobOptions::default().model(crate::models::Model::Human),
        };
        let sample =
            planned("sample", Source::File(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/sample.mp4").into()));
        let url = planned("remote", Source::Url("https://example.com/in.mp4".to_owned()));
        let estimate = estimate(&[&sample, &url], &pricing);
        assert_eq!(estimate.unknown_items, 1);
        assert!(estimate.items[1].unknown_reason.as_deref().is_some_and(|reason| reason.contains("URL")));
        assert!(estimate.total_credits > 0.0);
    }
}
