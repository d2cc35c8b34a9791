//! Decoding of the version-2 answers: jobs with their new fields, upload, download link,
//! pricing, health and usage, each in the docs' shape and in the older shapes.

use std::time::{Duration, UNIX_EPOCH};

use removebgvideo::models::{BillingStatus, DownloadLink, Health, HealthStatus, Pricing, Upload, UsageSummary};
use removebgvideo::{Job, JobStatus, Model, OutputFormat};
use serde_json::{json, Value};

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("decodes")
}

#[test]
fn a_documented_job_decodes_every_new_field() {
    let job: Job = decode(json!({
        "id": "job_1",
        "status": "completed",
        "progress": 100,
        "output_url": "https://cdn.example.com/o.webm",
        "error": null,
        "created_at": "2026-04-20T10:00:00.123Z",
        "duration_seconds": 12.5,
        "billing_status": "charged",
        "webhook_url": "https://hooks.example.com/rbv",
        "webhook_events": {"job.started": "sent", "job.completed": "failed"}
    }));
    assert_eq!(job.created_at.as_deref(), Some("2026-04-20T10:00:00.123Z"));
    assert_eq!(job.created_at_time(), Some(UNIX_EPOCH + Duration::from_millis(1_776_679_200_123)));
    assert_eq!(job.duration_seconds, Some(12.5));
    assert_eq!(job.billing_status, Some(BillingStatus::Other("charged".into())));
    assert_eq!(job.billing_status.as_ref().map(BillingStatus::as_str), Some("charged"));
    assert_eq!(job.webhook_url.as_deref(), Some("https://hooks.example.com/rbv"));
    assert_eq!(job.webhook_events, Some(json!({"job.started": "sent", "job.completed": "failed"})));
    assert!(job.extra.is_empty(), "{:?}", job.extra);
}

#[test]
fn a_draft_is_created_and_not_terminal() {
    let job: Job = decode(json!({"id": "job_1", "status": "created"}));
    assert_eq!(job.status, JobStatus::Created);
    assert!(!job.is_terminal());
    assert_eq!(serde_json::to_value(&job).unwrap()["status"], "created");
}

#[test]
fn created_at_in_other_shapes_is_kept_and_read_where_possible() {
    let cases: [(Value, Option<&str>, Option<u64>); 6] = [
        (json!("2026-04-20T10:00:00"), Some("2026-04-20T10:00:00"), Some(1_776_679_200)),
        (json!("2026-04-20T12:00:00+02:00"), Some("2026-04-20T12:00:00+02:00"), Some(1_776_679_200)),
        (json!(1_776_679_200_u64), Some("1776679200"), Some(1_776_679_200)),
        (json!("yesterday"), Some("yesterday"), None),
        (json!(null), None, None),
        (json!({"nested": true}), None, None),
    ];
    for (sent, text, seconds) in cases {
        let job: Job = decode(json!({"id": "j", "status": "pending", "created_at": sent}));
        assert_eq!(job.created_at.as_deref(), text, "{sent}");
        assert_eq!(job.created_at_time(), seconds.map(|s| UNIX_EPOCH + Duration::from_secs(s)), "{sent}");
    }
}

#[test]
fn odd_new_job_fields_never_fail_the_answer() {
    let job: Job = decode(json!({
        "id": "j",
        "status": "processing",
        "created_at": "+999999-01-01T00:00:00Z",
        "duration_seconds": "7.25",
        "billing_status": 3,
        "webhook_url": null,
        "webhook_events": null
    }));
    assert_eq!(job.created_at_time(), None);
    assert_eq!(job.duration_seconds, Some(7.25));
    assert_eq!(job.billing_status, None);
    assert_eq!(job.webhook_url, None);
    assert_eq!(job.webhook_events, None);
}

#[test]
fn the_documented_upload_answer() {
    let upload: Upload = decode(json!({
        "success": true,
        "video_id": "vid_1",
        "video_url": "https://storage.example.com/u/in.mp4",
        "filename": "in.mp4",
        "size": 1048576
    }));
    assert_eq!(upload.video_id.as_deref(), Some("vid_1"));
    assert_eq!(upload.video_url, "https://storage.example.com/u/in.mp4");
    assert_eq!(upload.filename.as_deref(), Some("in.mp4"));
    assert_eq!(upload.size, Some(1_048_576));
    assert_eq!(upload.extra.get("success"), Some(&json!(true)));
}

#[test]
fn an_older_upload_answer_with_a_numeric_id_and_a_string_size() {
    let upload: Upload = decode(json!({"video_url": "u", "video_id": 17, "size": "29"}));
    assert_eq!(upload.video_id.as_deref(), Some("17"));
    assert_eq!(upload.size, Some(29));
    let upload: Upload = decode(json!({"video_url": "u", "size": 2.0e3}));
    assert_eq!(upload.size, Some(2000));
    let upload: Upload = decode(json!({"video_url": "u", "size": -1}));
    assert_eq!(upload.size, None);
}

#[test]
fn the_documented_download_link_and_the_older_output_url() {
    let link: DownloadLink =
        decode(json!({"success": true, "download_url": "https://cdn/o.mp4", "output_format": "mp4"}));
    assert_eq!(link.download_url.as_deref(), Some("https://cdn/o.mp4"));
    assert_eq!(link.output_format, Some(OutputFormat::Mp4));
    let older: DownloadLink = decode(json!({"job_id": "job_1", "status": "completed", "output_url": "https://cdn/o"}));
    assert_eq!(older.download_url.as_deref(), Some("https://cdn/o"));
    assert_eq!(older.job_id.as_deref(), Some("job_1"));
    assert_eq!(older.extra.get("output_url"), Some(&json!("https://cdn/o")));
    let both: DownloadLink = decode(json!({"download_url": "https://a", "output_url": "https://b"}));
    assert_eq!(both.download_url.as_deref(), Some("https://a"));
}

#[test]
fn the_documented_pricing_answer() {
    let pricing: Pricing = decode(json!({
        "model_pricing_credits_per_minute": {"original": 60, "light": 45, "pro": 180, "human": 45},
        "price_per_second_cents": 1.5,
        "packages": [{"credits": 1000, "price_usd": 10}],
        "currency": "usd"
    }));
    assert_eq!(pricing.credits_per_minute(&Model::Original), Some(60.0));
    assert_eq!(pricing.credits_per_minute(&Model::Light), Some(45.0));
    assert_eq!(pricing.credits_per_minute(&Model::Pro), Some(180.0));
    assert_eq!(pricing.credits_per_minute(&Model::Human), Some(45.0));
    assert_eq!(pricing.credits_per_minute(&Model::from("ultra")), None);
    assert_eq!(pricing.price_per_second_cents, Some(1.5));
    assert_eq!(pricing.packages, vec![json!({"credits": 1000, "price_usd": 10})]);
    assert_eq!(pricing.extra.get("currency"), Some(&json!("usd")));
}

#[test]
fn the_older_pricing_shapes() {
    let nested: Pricing = decode(json!({
        "currency": "credits",
        "models": {"original": {"credits_per_minute": 10, "text_prompt": false}, "pro": {"credits_per_minute": "20"}}
    }));
    assert_eq!(nested.credits_per_minute(&Model::Original), Some(10.0));
    assert_eq!(nested.credits_per_minute(&Model::Pro), Some(20.0));
    assert!(nested.extra.contains_key("models"));
    let flat: Pricing = decode(json!({"models": {"light": 5}}));
    assert_eq!(flat.credits_per_minute(&Model::Light), Some(5.0));
    let odd: Pricing = decode(json!({"model_pricing_credits_per_minute": "soon", "packages": "none"}));
    assert!(odd.model_credits_per_minute.is_empty());
    assert_eq!(odd.extra.get("model_pricing_credits_per_minute"), Some(&json!("soon")));
    assert_eq!(odd.extra.get("packages"), Some(&json!("none")));
}

#[test]
fn estimates_are_minutes_times_credits_per_minute_rounded_up_to_the_second() {
    let pricing: Pricing = decode(json!({"model_pricing_credits_per_minute": {"original": 60, "pro": 180}}));
    assert_eq!(pricing.estimate_credits(&Model::Original, Duration::from_secs(60)), Some(60.0));
    assert_eq!(pricing.estimate_credits(&Model::Pro, Duration::from_secs(30)), Some(90.0));
    // 59.2 s is billed as 60 s.
    assert_eq!(pricing.estimate_credits(&Model::Original, Duration::from_millis(59_200)), Some(60.0));
    assert_eq!(pricing.estimate_credits(&Model::Original, Duration::ZERO), Some(0.0));
    assert_eq!(pricing.estimate_credits(&Model::Light, Duration::from_secs(60)), None);
    let huge = pricing.estimate_credits(&Model::Pro, Duration::MAX).expect("priced");
    assert!(huge.is_finite() && huge > 0.0);
}

#[test]
fn the_documented_health_answers_and_an_older_one() {
    let healthy: Health =
        decode(json!({"status": "healthy", "checks": {"api": "ok", "runpod_configured": true, "r2_configured": true}}));
    assert_eq!(healthy.status, Some(HealthStatus::Healthy));
    assert!(healthy.is_healthy());
    assert_eq!(healthy.checks.get("runpod_configured"), Some(&json!(true)));
    let degraded: Health = decode(json!({"status": "degraded", "checks": {"r2_configured": false}}));
    assert_eq!(degraded.status, Some(HealthStatus::Degraded));
    assert!(!degraded.is_healthy());
    let older: Health = decode(json!({"status": "ok", "version": "1.2"}));
    assert_eq!(older.status, Some(HealthStatus::Other("ok".into())));
    assert!(older.checks.is_empty());
    assert_eq!(older.extra.get("version"), Some(&json!("1.2")));
}

#[test]
fn the_documented_usage_summary_and_the_older_one() {
    let summary: UsageSummary =
        decode(json!({"total_jobs": 12, "credits_used": "340.5", "completed_jobs": 10.0, "failed_jobs": 2}));
    assert_eq!(summary.total_jobs, Some(12));
    assert_eq!(summary.credits_used, Some(340.5));
    assert_eq!(summary.completed_jobs, Some(10));
    assert_eq!(summary.extra.get("failed_jobs"), Some(&json!(2)));
    let older: UsageSummary =
        decode(json!({"days": 7, "jobs_created": 3, "jobs_completed": 2, "jobs_failed": 1, "credits_used": 20}));
    assert_eq!(older.total_jobs, Some(3));
    assert_eq!(older.completed_jobs, Some(2));
    assert_eq!(older.credits_used, Some(20.0));
    assert_eq!(older.extra.get("days"), Some(&json!(7)));
    let both: UsageSummary = decode(json!({"total_jobs": 5, "jobs_created": 4}));
    assert_eq!(both.total_jobs, Some(5));
    let empty: UsageSummary = decode(json!({}));
    assert_eq!(empty, UsageSummary::default());
}

mod any_object {
    use super::*;
    use proptest::prelude::*;

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
            "[ -~]{0,12}".prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    /// An object whose documented fields hold any JSON value, plus unknown fields.
    fn answer(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
        (
            prop::collection::vec(prop::option::of(value()), names.len()),
            prop::collection::btree_map("x_[a-z]{1,6}", value(), 0..3),
        )
            .prop_map(move |(values, extra)| {
                let mut object: serde_json::Map<String, Value> = extra.into_iter().collect();
                for (name, value) in names.iter().zip(values) {
                    if let Some(value) = value {
                        object.insert((*name).to_owned(), value);
                    }
                }
                Value::Object(object)
            })
    }

    proptest! {
        #![proptest_config(crate::support::props(256, "proptest-regressions/it/answers.txt"))]
        #[test]
        fn any_health_pricing_usage_or_link_object_decodes(
            health in answer(&["status", "checks"]),
            pricing in answer(&["model_pricing_credits_per_minute", "price_per_second_cents", "packages", "models"]),
            usage in answer(&["total_jobs", "credits_used", "completed_jobs", "jobs_created", "jobs_completed"]),
            link in answer(&["download_url", "output_url", "output_format", "job_id"]),
        ) {
            prop_assert!(serde_json::from_value::<Health>(health.clone()).is_ok(), "{health}");
            prop_assert!(serde_json::from_value::<Pricing>(pricing.clone()).is_ok(), "{pricing}");
            prop_assert!(serde_json::from_value::<UsageSummary>(usage.clone()).is_ok(), "{usage}");
            prop_assert!(serde_json::from_value::<DownloadLink>(link.clone()).is_ok(), "{link}");
        }

        #[test]
        fn any_new_job_field_value_decodes(
            fields in answer(&["created_at", "duration_seconds", "billing_status", "webhook_url", "webhook_events"]),
        ) {
            let mut job = fields;
            job["id"] = json!("job_1");
            job["status"] = json!("processing");
            let decoded = serde_json::from_value::<Job>(job.clone());
            prop_assert!(decoded.is_ok(), "{job}");
            // Reading the time never panics, whatever was sent.
            let _ = decoded.map(|job| job.created_at_time());
        }

        #[test]
        fn an_upload_with_any_other_fields_decodes(
            fields in answer(&["video_id", "filename", "size", "success"]),
        ) {
            let mut upload = fields;
            upload["video_url"] = json!("https://storage.example.com/u/in.mp4");
            prop_assert!(serde_json::from_value::<Upload>(upload.clone()).is_ok(), "{upload}");
        }
    }

    /// The soak run (`cargo test -- --ignored`): the properties above again, each round with
    /// fresh random cases.
    #[test]
    #[ignore = "soak run: cargo test -- --ignored"]
    fn soak() {
        for _ in 0..crate::support::SOAK_ROUNDS {
            any_health_pricing_usage_or_link_object_decodes();
            any_new_job_field_value_decodes();
            an_upload_with_any_other_fields_decodes();
        }
    }
}
