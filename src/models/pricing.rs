//! The answer to `pricing` (`GET /api/pricing`) and the credits estimate built on it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::{self, Extra};
use super::Model;

/// The pricing of each model: `{model_pricing_credits_per_minute: {original, light, pro, human},
/// price_per_second_cents, packages: [...]}`.
///
/// Older servers list the models under `models`, each as a number or as an object with
/// `credits_per_minute`; those are read into the same map (and `models` stays in `extra`).
///
/// ```
/// use std::time::Duration;
/// use removebgvideo::models::Pricing;
/// use removebgvideo::Model;
///
/// let pricing: Pricing = serde_json::from_str(
///     r#"{"model_pricing_credits_per_minute": {"original": 60, "light": 45, "pro": 180, "human": 45}}"#,
/// ).unwrap();
/// assert_eq!(pricing.credits_per_minute(&Model::Pro), Some(180.0));
/// // 90 seconds of `original`: 1.5 minutes × 60 credits.
/// assert_eq!(pricing.estimate_credits(&Model::Original, Duration::from_secs(90)), Some(90.0));
/// # Ok::<(), removebgvideo::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "PricingWire")]
#[non_exhaustive]
pub struct Pricing {
    /// Credits per minute of video, by model name as the server writes it.
    #[serde(rename = "model_pricing_credits_per_minute")]
    pub model_credits_per_minute: BTreeMap<String, f64>,
    /// The price of one second of video in cents, when the answer gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_second_cents: Option<f64>,
    /// The credit packages on sale, as sent (their fields are undocumented).
    #[serde(default)]
    pub packages: Vec<Value>,
    /// Every other field of the answer, as sent.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Pricing {
    /// The credits one minute of video costs with `model`, when the answer prices it.
    #[must_use]
    pub fn credits_per_minute(&self, model: &Model) -> Option<f64> {
        // A price that is not a finite, non-negative number is no price at all.
        self.model_credits_per_minute.get(model.as_str()).copied().filter(|rate| rate.is_finite() && *rate >= 0.0)
    }

    /// The credits a video of `duration` would cost with `model`: minutes × credits per minute
    /// (`getting-started/credits`). `None` when the model is not priced.
    ///
    /// The duration is rounded **up to a whole second** first, because the price list counts in
    /// seconds (`price_per_second_cents`); the result is not rounded further. How the service
    /// itself rounds billed time is undocumented, so treat this as an estimate before
    /// dispatching work, not as the bill.
    #[must_use]
    pub fn estimate_credits(&self, model: &Model, duration: Duration) -> Option<f64> {
        let seconds = duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0));
        // Precise up to 2^53 seconds; any video is far below that.
        #[allow(clippy::cast_precision_loss)]
        let minutes = seconds as f64 / 60.0;
        Some(minutes * self.credits_per_minute(model)?)
    }
}

#[derive(Deserialize)]
struct PricingWire {
    #[serde(default)]
    model_pricing_credits_per_minute: Option<Value>,
    #[serde(default, deserialize_with = "lenient::number")]
    price_per_second_cents: Option<f64>,
    #[serde(default)]
    packages: Option<Value>,
    #[serde(flatten)]
    extra: Extra,
}

impl From<PricingWire> for Pricing {
    fn from(mut wire: PricingWire) -> Self {
        let mut model_credits_per_minute = BTreeMap::new();
        // The older `models` shape first, so the documented map wins where both price a model.
        for source in [wire.extra.get("models"), wire.model_pricing_credits_per_minute.as_ref()] {
            let Some(Value::Object(models)) = source else { continue };
            for (name, price) in models {
                let price = match price {
                    Value::Object(fields) => fields.get("credits_per_minute").and_then(lenient::number_of),
                    other => lenient::number_of(other),
                };
                if let Some(price) = price {
                    model_credits_per_minute.insert(name.clone(), price);
                }
            }
        }
        // A documented map that could not be read is kept as sent rather than lost.
        if let Some(sent) = wire.model_pricing_credits_per_minute.filter(|sent| !sent.is_object()) {
            wire.extra.insert("model_pricing_credits_per_minute".to_owned(), sent);
        }
        let packages = match wire.packages {
            Some(Value::Array(packages)) => packages,
            None | Some(Value::Null) => Vec::new(),
            Some(other) => {
                wire.extra.insert("packages".to_owned(), other);
                Vec::new()
            }
        };
        Self {
            model_credits_per_minute,
            price_per_second_cents: wire.price_per_second_cents,
            packages,
            extra: wire.extra,
        }
    }
}
