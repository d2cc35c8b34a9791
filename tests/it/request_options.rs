//! The version-2 request options (`background`, `composition`, `preview_duration`, image and
//! normalized colour backgrounds): their exact JSON, and what is refused before sending.

use std::time::Duration;

use removebgvideo::models::Anchor;
use removebgvideo::simulator::Simulator;
use removebgvideo::{Background, BgType, Composition, CreateJob, Error, Model, StartJob};

const VIDEO: &str = "https://cdn.example.com/in.mp4";

fn json<T: serde::Serialize>(request: &T) -> String {
    serde_json::to_string(request).expect("serializes")
}

#[test]
fn a_create_job_without_new_options_is_the_official_sdks_body_byte_for_byte() {
    assert_eq!(
        json(&CreateJob::new(VIDEO)),
        r#"{"video_url":"https://cdn.example.com/in.mp4","model":"original","bg_type":"green","output_format":"webm","auto_start":true}"#
    );
    assert_eq!(
        json(&CreateJob::new(VIDEO).model(Model::Pro).text_prompt("the dog").bg_color([0.0, 0.5, 1.0])),
        r#"{"video_url":"https://cdn.example.com/in.mp4","model":"pro","bg_type":"green","output_format":"webm","auto_start":true,"text_prompt":"the dog","bg_color":[0.0,0.5,1.0]}"#
    );
}

#[test]
fn each_background_object_is_sent_as_the_docs_show_without_the_default_bg_type() {
    let cases = [
        (Background::Transparent, r#"{"type":"transparent"}"#),
        (Background::hex("#00FF00"), r##"{"type":"color","color":"#00FF00"}"##),
        (Background::rgb([0.035, 0.635, 0.274]), r#"{"type":"color","color":[0.035,0.635,0.274]}"#),
        (
            Background::image("https://cdn.example.com/beach.jpg"),
            r#"{"type":"image","image_url":"https://cdn.example.com/beach.jpg"}"#,
        ),
    ];
    for (background, object) in cases {
        assert_eq!(
            json(&CreateJob::new(VIDEO).background(background.clone())),
            format!(
                r#"{{"video_url":"{VIDEO}","model":"original","output_format":"webm","auto_start":true,"background":{object}}}"#
            )
        );
        assert_eq!(json(&StartJob::new().background(background)), format!(r#"{{"background":{object}}}"#));
    }
}

#[test]
fn an_image_background_through_the_flat_fields() {
    assert_eq!(
        json(&CreateJob::new(VIDEO).bg_type(BgType::Image).bg_image_url("https://cdn.example.com/b.jpg")),
        r#"{"video_url":"https://cdn.example.com/in.mp4","model":"original","bg_type":"image","output_format":"webm","auto_start":true,"bg_image_url":"https://cdn.example.com/b.jpg"}"#
    );
    assert!(json(&CreateJob::new(VIDEO).bg_type(BgType::Color)).contains(r#""bg_type":"color""#));
}

#[test]
fn start_job_with_nothing_set_sends_an_empty_object() {
    assert_eq!(json(&StartJob::new()), "{}");
}

#[test]
fn a_default_composition_is_sent_whole() {
    assert_eq!(
        json(&StartJob::new().composition(Composition::new(1920, 1080))),
        r#"{"composition":{"canvas":{"width":1920,"height":1080},"foreground":{"anchor":"center","scale":1.0,"offset":{"x":0,"y":0}}}}"#
    );
}

#[test]
fn a_composition_with_every_option_set() {
    let layout = Composition::new(1080, 1920).anchor(Anchor::BottomCenter).scale(0.75).offset(-12, 40);
    assert_eq!(
        json(&StartJob::new().composition(layout)),
        r#"{"composition":{"canvas":{"width":1080,"height":1920},"foreground":{"anchor":"bottom-center","scale":0.75,"offset":{"x":-12,"y":40}}}}"#
    );
    let top_left = Composition::new(640, 480).anchor(Anchor::TopLeft);
    assert!(json(&StartJob::new().composition(top_left)).contains(r#""anchor":"top-left""#));
    let custom = Composition::new(640, 480).anchor(Anchor::from("golden-ratio"));
    assert!(json(&StartJob::new().composition(custom)).contains(r#""anchor":"golden-ratio""#));
}

#[test]
fn preview_duration_is_sent_in_seconds() {
    assert_eq!(json(&StartJob::new().preview_duration(Duration::from_secs(5))), r#"{"preview_duration":5}"#);
    assert_eq!(json(&StartJob::new().preview_duration(Duration::from_millis(2500))), r#"{"preview_duration":2.5}"#);
}

#[test]
fn start_with_background_composition_and_preview_in_the_documented_order() {
    let request = StartJob::new()
        .model(Model::Pro)
        .text_prompt("the singer")
        .background(Background::hex("#1E90FF"))
        .composition(Composition::new(1920, 1080))
        .preview_duration(Duration::from_secs(3));
    assert_eq!(
        json(&request),
        r##"{"model":"pro","text_prompt":"the singer","background":{"type":"color","color":"#1E90FF"},"composition":{"canvas":{"width":1920,"height":1080},"foreground":{"anchor":"center","scale":1.0,"offset":{"x":0,"y":0}}},"preview_duration":3}"##
    );
}

/// What `create_job` refuses, as `(field, words the reason must contain)`; nothing is sent.
fn refused_create(request: &CreateJob) -> (&'static str, String) {
    let sim = Simulator::start().expect("simulator");
    let client = sim.client().expect("client");
    let error = client.create_job(request).expect_err("refused");
    assert!(sim.requests().is_empty(), "nothing may be sent: {:?}", sim.requests());
    match error {
        Error::InvalidInput { field, reason } => (field, reason),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn refused_start(request: &StartJob) -> (&'static str, String) {
    let sim = Simulator::start().expect("simulator");
    let client = sim.client().expect("client");
    let error = client.start_job("job_1", request).expect_err("refused");
    assert!(sim.requests().is_empty(), "nothing may be sent: {:?}", sim.requests());
    match error {
        Error::InvalidInput { field, reason } => (field, reason),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn bg_color_in_0_to_255_is_refused_with_the_division_spelled_out() {
    let (field, reason) = refused_create(&CreateJob::new(VIDEO).bg_color([255.0, 0.0, 0.0]));
    assert_eq!(field, "bg_color");
    assert!(reason.contains("normalized 0..=1"), "{reason}");
    assert!(reason.contains("255 → 1.0"), "{reason}");
    let (_, reason) = refused_start(&StartJob::new().bg_color([0.0, 128.0, 0.0]));
    assert!(reason.contains("128 → 0.502"), "{reason}");
}

#[test]
fn bg_color_that_is_negative_nan_or_infinite_is_refused() {
    for rgb in [
        [-0.1, 0.0, 0.0],
        [f64::NAN, 0.0, 0.0],
        [0.0, f64::INFINITY, 0.0],
        [0.0, 0.0, f64::NEG_INFINITY],
        [0.0, 0.0, 1e300],
    ] {
        let (field, _) = refused_create(&CreateJob::new(VIDEO).bg_color(rgb));
        assert_eq!(field, "bg_color", "{rgb:?}");
    }
    let (field, _) = refused_create(&CreateJob::new(VIDEO).background(Background::rgb([0.0, f64::NAN, 0.0])));
    assert_eq!(field, "background.color");
}

#[test]
fn a_malformed_hex_colour_is_refused() {
    for hex in ["00FF00", "#00FF0", "#GGGGGG", "", "#", "#00FF00FF", "green"] {
        let (field, reason) = refused_create(&CreateJob::new(VIDEO).background(Background::hex(hex)));
        assert_eq!(field, "background.color", "{hex}");
        assert!(reason.contains("#00FF00"), "{reason}");
    }
}

#[test]
fn mixing_the_background_object_with_a_flat_field_is_refused() {
    let object = Background::hex("#00FF00");
    for request in [
        CreateJob::new(VIDEO).bg_type(BgType::Green).background(object.clone()),
        CreateJob::new(VIDEO).bg_color([0.0, 1.0, 0.0]).background(object.clone()),
        CreateJob::new(VIDEO).bg_type(BgType::Image).bg_image_url("https://x/y.jpg").background(object.clone()),
    ] {
        let (field, reason) = refused_create(&request);
        assert_eq!(field, "background");
        assert!(reason.contains("either the background object or"), "{reason}");
    }
    let (field, _) = refused_start(&StartJob::new().bg_type(BgType::Color).background(object));
    assert_eq!(field, "background");
}

#[test]
fn an_image_url_needs_the_image_bg_type_and_a_value() {
    let (field, reason) = refused_create(&CreateJob::new(VIDEO).bg_image_url("https://x/y.jpg"));
    assert_eq!(field, "bg_image_url");
    assert!(reason.contains("bg_type image"), "{reason}");
    let (field, _) = refused_create(&CreateJob::new(VIDEO).background(Background::image("  ")));
    assert_eq!(field, "background.image_url");
}

#[test]
fn a_composition_with_a_zero_canvas_or_a_bad_scale_is_refused() {
    for layout in [Composition::new(0, 1080), Composition::new(1920, 0)] {
        let (field, _) = refused_start(&StartJob::new().composition(layout));
        assert_eq!(field, "composition.canvas");
    }
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (field, reason) = refused_start(&StartJob::new().composition(Composition::new(10, 10).scale(scale)));
        assert_eq!(field, "composition.foreground.scale", "{scale}");
        assert!(reason.contains("above 0"), "{reason}");
    }
    let (field, _) = refused_start(&StartJob::new().composition(Composition::new(10, 10).anchor(Anchor::from(""))));
    assert_eq!(field, "composition.foreground.anchor");
}

#[test]
fn a_zero_preview_is_refused_and_the_largest_is_sent_without_panicking() {
    let (field, _) = refused_start(&StartJob::new().preview_duration(Duration::ZERO));
    assert_eq!(field, "preview_duration");
    let huge = json(&StartJob::new().preview_duration(Duration::MAX));
    assert!(huge.starts_with(r#"{"preview_duration":"#), "{huge}");
}

#[test]
fn extreme_composition_numbers_are_sent_as_given() {
    let layout = Composition::new(u32::MAX, 1).scale(f64::MAX).offset(i32::MIN, i32::MAX);
    let text = json(&StartJob::new().composition(layout));
    assert!(text.contains(&format!(r#""offset":{{"x":{},"y":{}}}"#, i32::MIN, i32::MAX)), "{text}");
}
