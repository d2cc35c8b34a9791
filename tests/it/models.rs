//! Decoding of answers: the shapes a real server sends, values the crate does not know yet,
//! and fields it does not name.

use crate::support;

use removebgvideo::models::{CreatedKey, DownloadLink, JobList, JobSubmission, KeyList, UsageEvents};
use removebgvideo::{BgType, Job, JobStatus, Model, OutputFormat, Secret};
use serde_json::{json, Value};

fn job(value: Value) -> Job {
    serde_json::from_value(value).expect("a job")
}

#[test]
fn a_job_answer_with_job_id_instead_of_id_decodes() {
    let decoded = job(json!({"job_id": "job_9", "status": "processing"}));
    assert_eq!(decoded.id, "job_9");
    assert!(decoded.extra.is_empty(), "{:?}", decoded.extra);
}

#[test]
fn with_both_id_and_job_id_id_wins_and_job_id_is_kept() {
    let decoded = job(json!({"id": "job_1", "job_id": "legacy_1", "status": "pending"}));
    assert_eq!(decoded.id, "job_1");
    assert_eq!(decoded.extra.get("job_id"), Some(&json!("legacy_1")));
    let submission: JobSubmission =
        serde_json::from_value(json!({"id": "job_1", "job_id": "legacy_1", "success": true})).unwrap();
    assert_eq!(submission.id, "job_1");
    assert_eq!(submission.extra.get("job_id"), Some(&json!("legacy_1")));
}

#[test]
fn numeric_ids_decode_as_text() {
    assert_eq!(job(json!({"id": 12345, "status": "pending"})).id, "12345");
    assert_eq!(job(json!({"job_id": 7, "status": "pending"})).id, "7");
    let submission: JobSubmission = serde_json::from_value(json!({"job_id": 99, "status": "processing"})).unwrap();
    assert_eq!(submission.id, "99");
    assert_eq!(submission.status, Some(JobStatus::Processing));
    let link: DownloadLink = serde_json::from_value(json!({"job_id": 5, "output_url": "https://cdn/x"})).unwrap();
    assert_eq!(link.job_id.as_deref(), Some("5"));
}

#[test]
fn a_job_without_any_id_is_refused() {
    let result = serde_json::from_value::<Job>(json!({"status": "pending"}));
    assert!(result.is_err());
    let result = serde_json::from_value::<JobSubmission>(json!({"success": true}));
    assert!(result.is_err());
}

#[test]
fn unknown_enum_values_are_kept_and_print_as_sent() {
    let decoded = job(json!({
        "id": "j",
        "status": "queued_for_gpu",
        "model": "ultra-v2",
        "bg_type": "blur",
        "output_format": "avif"
    }));
    assert_eq!(decoded.status, JobStatus::Other("queued_for_gpu".into()));
    assert_eq!(decoded.status.to_string(), "queued_for_gpu");
    assert!(!decoded.is_terminal());
    assert_eq!(decoded.model, Some(Model::Other("ultra-v2".into())));
    assert_eq!(decoded.model.as_ref().unwrap().to_string(), "ultra-v2");
    assert_eq!(decoded.bg_type, Some(BgType::Other("blur".into())));
    assert_eq!(decoded.bg_type.as_ref().unwrap().to_string(), "blur");
    assert_eq!(decoded.output_format, Some(OutputFormat::Other("avif".into())));
    assert_eq!(decoded.output_format.as_ref().unwrap().as_str(), "avif");
    // And they go back on the wire unchanged.
    let back = serde_json::to_value(&decoded).unwrap();
    assert_eq!(back["status"], "queued_for_gpu");
    assert_eq!(back["model"], "ultra-v2");
    assert_eq!(back["bg_type"], "blur");
    assert_eq!(back["output_format"], "avif");
}

#[test]
fn known_enum_values_decode_to_their_variants() {
    let decoded = job(json!({
        "id": "j", "status": "completed", "model": "human", "bg_type": "transparent", "output_format": "png_sequence"
    }));
    assert_eq!(decoded.status, JobStatus::Completed);
    assert_eq!(decoded.model, Some(Model::Human));
    assert_eq!(decoded.bg_type, Some(BgType::Transparent));
    assert_eq!(decoded.output_format, Some(OutputFormat::PngSequence));
    for (text, status) in [
        ("created", JobStatus::Created),
        ("pending", JobStatus::Pending),
        ("processing", JobStatus::Processing),
        ("completed", JobStatus::Completed),
        ("failed", JobStatus::Failed),
    ] {
        assert_eq!(JobStatus::from(text), status);
        assert_eq!(status.to_string(), text);
    }
}

#[test]
fn unknown_fields_are_kept_and_serialized_again() {
    let sent = json!({
        "id": "job_1",
        "status": "completed",
        "progress": 100,
        "output_url": "https://cdn.example.com/o.webm",
        "created_at": "2024-05-01T10:00:00Z",
        "credits": 2.5,
        "owner": {"team": "video", "ids": [1, 2]}
    });
    let decoded = job(sent.clone());
    assert_eq!(decoded.extra.len(), 2);
    assert_eq!(decoded.created_at.as_deref(), Some("2024-05-01T10:00:00Z"));
    assert_eq!(decoded.extra.get("owner"), Some(&json!({"team": "video", "ids": [1, 2]})));
    let back = serde_json::to_value(&decoded).unwrap();
    assert_eq!(back["created_at"], sent["created_at"]);
    assert_eq!(back["credits"], sent["credits"]);
    assert_eq!(back["owner"], sent["owner"]);
    assert_eq!(back["id"], "job_1");
    assert_eq!(back["output_url"], sent["output_url"]);
    // Absent optional fields are not written back as null.
    assert!(back.get("error").is_none(), "{back}");
    assert!(back.get("model").is_none(), "{back}");
    // A round trip gives the same job.
    assert_eq!(job(back), decoded);
}

#[test]
fn progress_as_a_string_or_junk_is_read_leniently() {
    assert_eq!(job(json!({"id": "j", "status": "processing", "progress": "42.5"})).progress, Some(42.5));
    assert_eq!(job(json!({"id": "j", "status": "processing", "progress": " 7 "})).progress, Some(7.0));
    assert_eq!(job(json!({"id": "j", "status": "processing", "progress": 12})).progress, Some(12.0));
    assert_eq!(job(json!({"id": "j", "status": "processing", "progress": "soon"})).progress, None);
    assert_eq!(job(json!({"id": "j", "status": "processing", "progress": null})).progress, None);
    assert_eq!(job(json!({"id": "j", "status": "processing"})).progress, None);
}

#[test]
fn an_error_object_gives_its_message() {
    let failed = job(json!({"id": "j", "status": "failed", "error": {"code": "decode", "message": "bad codec"}}));
    assert_eq!(failed.error.as_deref(), Some("bad codec"));
    assert!(failed.is_failed());
    let text = job(json!({"id": "j", "status": "failed", "error": "out of memory"}));
    assert_eq!(text.error.as_deref(), Some("out of memory"));
    let opaque = job(json!({"id": "j", "status": "failed", "error": {"code": 17}}));
    assert_eq!(opaque.error.as_deref(), Some(r#"{"code":17}"#));
    let none = job(json!({"id": "j", "status": "completed", "error": null}));
    assert_eq!(none.error, None);
}

#[test]
fn list_answers_hold_their_rows_under_items() {
    let list: JobList = serde_json::from_value(json!({
        "items": [{"id": "a", "status": "pending"}, {"job_id": 2, "status": "failed", "error": "x"}],
        "total": 2,
        "limit": 20
    }))
    .unwrap();
    assert_eq!(list.items.len(), 2);
    assert_eq!(list.items[1].id, "2");
    assert_eq!(list.extra.get("total"), Some(&json!(2)));
    let empty: JobList = serde_json::from_value(json!({})).unwrap();
    assert!(empty.items.is_empty());
    let events: UsageEvents = serde_json::from_value(json!({"items": [{"credits": 1}], "next": null})).unwrap();
    assert_eq!(events.items[0].get("credits"), Some(&json!(1)));
    let keys: KeyList = serde_json::from_value(json!({
        "items": [{"client_id": "acme", "key_fingerprint": "fp", "note": "n", "enabled": false}]
    }))
    .unwrap();
    assert_eq!(keys.items[0].key_fingerprint, "fp");
    assert_eq!(keys.items[0].extra.get("note"), Some(&json!("n")));
}

#[test]
fn a_created_key_never_shows_the_key_in_debug() {
    let created: CreatedKey = serde_json::from_value(json!({
        "api_key": "sk_live_SUPERSECRET_123",
        "key_fingerprint": "fp_abc",
        "client_id": "acme"
    }))
    .unwrap();
    assert_eq!(created.api_key.expose(), "sk_live_SUPERSECRET_123");
    let debug = format!("{created:?} {created:#?}");
    assert!(!debug.contains("SUPERSECRET"), "{debug}");
    assert!(debug.contains("fp_abc"), "{debug}");
    assert!(!format!("{:?}", created.api_key).contains("SUPERSECRET"));
    // Serializing is how the new key is stored, so it does carry the key.
    assert_eq!(serde_json::to_value(&created).unwrap()["api_key"], "sk_live_SUPERSECRET_123");
    let secret = Secret::new("tok_SUPERSECRET");
    assert!(!format!("{secret:?}").contains("SUPERSECRET"));
}

#[test]
fn is_terminal_only_for_completed_and_failed() {
    let status = |s: &str| job(json!({"id": "j", "status": s}));
    assert!(status("completed").is_terminal());
    assert!(status("completed").is_completed());
    assert!(status("failed").is_terminal());
    assert!(status("failed").is_failed());
    assert!(!status("pending").is_terminal());
    assert!(!status("processing").is_terminal());
    assert!(!status("cancelled").is_terminal());
}

#[test]
fn get_job_decodes_a_lenient_answer_from_the_wire() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", "/v1/jobs/77")
        .with_body(r#"{"job_id":77,"status":"rendering","progress":"55","error":{"message":"none"},"eta_s":12}"#)
        .expect(1)
        .create();
    let decoded = support::client(&server).get_job("77").unwrap();
    mock.assert();
    assert_eq!(decoded.id, "77");
    assert_eq!(decoded.status, JobStatus::Other("rendering".into()));
    assert_eq!(decoded.progress, Some(55.0));
    assert_eq!(decoded.error.as_deref(), Some("none"));
    assert_eq!(decoded.extra.get("eta_s"), Some(&json!(12)));
}

mod properties {
    use proptest::prelude::*;
    use removebgvideo::{Job, JobStatus};
    use serde_json::json;

    proptest! {
        #![proptest_config(crate::support::props(256, "proptest-regressions/it/models.txt"))]
        #[test]
        fn any_status_text_survives_a_round_trip(status in "[a-z_]{1,20}") {
            let decoded: Job = serde_json::from_value(json!({"id": "j", "status": status})).unwrap();
            prop_assert_eq!(decoded.status.as_str(), status.as_str());
            prop_assert_eq!(decoded.status.clone(), JobStatus::from(status.as_str()));
            let back = serde_json::to_value(&decoded).unwrap();
            prop_assert_eq!(back["status"].as_str(), Some(status.as_str()));
        }

        #[test]
        fn any_numeric_id_decodes_to_its_digits(id in any::<u64>()) {
            let decoded: Job = serde_json::from_value(json!({"id": id, "status": "pending"})).unwrap();
            prop_assert_eq!(decoded.id, id.to_string());
        }
    }

    /// The soak run (`cargo test -- --ignored`): the properties above again, each round with
    /// fresh random cases.
    #[test]
    #[ignore = "soak run: cargo test -- --ignored"]
    fn soak() {
        for _ in 0..crate::support::SOAK_ROUNDS {
            any_status_text_survives_a_round_trip();
            any_numeric_id_decodes_to_its_digits();
        }
    }
}

#[test]
fn the_version_2_values_decode_to_their_variants() {
    for (text, bg_type) in [("color", BgType::Color), ("image", BgType::Image), ("custom", BgType::Custom)] {
        assert_eq!(BgType::from(text), bg_type);
        assert_eq!(bg_type.as_str(), text);
    }
    for (text, anchor) in [
        ("center", removebgvideo::models::Anchor::Center),
        ("top-left", removebgvideo::models::Anchor::TopLeft),
        ("bottom-center", removebgvideo::models::Anchor::BottomCenter),
        ("center-right", removebgvideo::models::Anchor::CenterRight),
    ] {
        assert_eq!(removebgvideo::models::Anchor::from(text), anchor);
        assert_eq!(anchor.to_string(), text);
    }
    assert_eq!(removebgvideo::models::HealthStatus::from("degraded"), removebgvideo::models::HealthStatus::Degraded);
    // No billing status is documented, so every value is kept as sent.
    let billing: removebgvideo::models::BillingStatus = serde_json::from_value(json!("charged")).unwrap();
    assert_eq!(billing, removebgvideo::models::BillingStatus::Other("charged".into()));
    assert_eq!(serde_json::to_value(&billing).unwrap(), json!("charged"));
}
