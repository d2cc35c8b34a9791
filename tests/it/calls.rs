//! The exact request of every call: method, path, query, headers and JSON body.

use crate::support;

use mockito::{Matcher, Mock, ServerGuard};
use removebgvideo::models::{CreateKey, ListJobs};
use removebgvideo::{BgType, Client, CreateJob, Error, JobStatus, Model, OutputFormat, StartJob};
use serde_json::json;
use support::{admin, client, json_body, user_agent, KEY, TOKEN};

const SUBMITTED: &str = r#"{"success":true,"id":"job_1","status":"processing","message":"Job started"}"#;

/// A mock of a public `/v1` call: the API key, no admin token, the crate's User-Agent.
fn public(server: &mut ServerGuard, method: &str, path: &str) -> Mock {
    server
        .mock(method, path)
        .match_header("x-api-key", KEY)
        .match_header("x-admin-token", Matcher::Missing)
        .match_header("user-agent", user_agent())
}

/// A mock of an admin call: the admin token and never the API key.
fn admin_mock(server: &mut ServerGuard, method: &str, path: &str) -> Mock {
    server
        .mock(method, path)
        .match_header("x-admin-token", TOKEN)
        .match_header("x-api-key", Matcher::Missing)
        .match_header("user-agent", user_agent())
}

/// A mock of a GET: no body, so no Content-Type.
fn public_get(server: &mut ServerGuard, path: &str) -> Mock {
    public(server, "GET", path).match_header("content-type", Matcher::Missing)
}

/// A mock that catches every request of every method; `.expect(0)` proves none was sent.
/// Create it before the expected mocks: mockito prefers the first mock with hits left.
fn nothing_else(server: &mut ServerGuard) -> Vec<Mock> {
    ["GET", "POST", "PUT", "DELETE", "PATCH"]
        .iter()
        .map(|method| server.mock(method, Matcher::Any).expect(0).create())
        .collect()
}

fn assert_all(mocks: &[Mock]) {
    for mock in mocks {
        mock.assert();
    }
}

fn metadata() -> removebgvideo::models::Extra {
    json!({"order": 42, "tags": ["a", "b"], "nested": {"x": null}}).as_object().cloned().expect("object")
}

#[test]
fn create_job_sends_the_official_defaults_and_nothing_else() {
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/jobs")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({
            "video_url": "https://cdn.example.com/in.mp4",
            "model": "original",
            "bg_type": "green",
            "output_format": "webm",
            "auto_start": true
        })))
        .with_status(200)
        .with_body(SUBMITTED)
        .expect(1)
        .create();
    let submitted = client(&server).create_job(&CreateJob::new("https://cdn.example.com/in.mp4")).unwrap();
    mock.assert();
    assert_eq!(submitted.id, "job_1");
    assert_eq!(submitted.status, Some(JobStatus::Processing));
    assert_eq!(submitted.success, Some(true));
    assert_eq!(submitted.message.as_deref(), Some("Job started"));
}

#[test]
fn create_job_sends_every_option_given() {
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/jobs")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({
            "video_url": "https://cdn.example.com/in.mp4",
            "model": "pro",
            "bg_type": "custom",
            "output_format": "mov",
            "auto_start": false,
            "text_prompt": "person in a red jacket",
            "webhook_url": "https://hooks.example.com/rbv",
            "bg_color": [0.05, 1.0, 0.5],
            "metadata": {"order": 42, "tags": ["a", "b"], "nested": {"x": null}}
        })))
        .with_body(r#"{"success":true,"id":"job_2","status":"pending","message":"Draft created"}"#)
        .expect(1)
        .create();
    let request = CreateJob::new("https://cdn.example.com/in.mp4")
        .model(Model::Pro)
        .bg_type(BgType::Custom)
        .output_format(OutputFormat::Mov)
        .auto_start(false)
        .text_prompt("person in a red jacket")
        .webhook_url("https://hooks.example.com/rbv")
        .bg_color([0.05, 1.0, 0.5])
        .metadata(metadata());
    let submitted = client(&server).create_job(&request).unwrap();
    mock.assert();
    assert_eq!(submitted.id, "job_2");
    assert_eq!(submitted.status, Some(JobStatus::Pending));
}

#[test]
fn create_job_sends_unknown_enum_values_as_given() {
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/jobs")
        .match_body(json_body(json!({
            "video_url": "https://cdn.example.com/in.mp4",
            "model": "ultra",
            "bg_type": "blur",
            "output_format": "avif",
            "auto_start": true
        })))
        .with_body(SUBMITTED)
        .expect(1)
        .create();
    let request = CreateJob::new("https://cdn.example.com/in.mp4")
        .model(Model::from("ultra"))
        .bg_type(BgType::from("blur"))
        .output_format(OutputFormat::from("avif"));
    client(&server).create_job(&request).unwrap();
    mock.assert();
}

#[test]
fn start_job_without_overrides_sends_an_empty_object() {
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/jobs/job_1/start")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({})))
        .with_body(SUBMITTED)
        .expect(1)
        .create();
    let submitted = client(&server).start_job("job_1", &StartJob::new()).unwrap();
    mock.assert();
    assert_eq!(submitted.id, "job_1");
}

#[test]
fn start_job_sends_only_the_overrides_given() {
    let mut server = mockito::Server::new();
    let all = public(&mut server, "POST", "/v1/jobs/job_1/start")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({
            "model": "human",
            "output_format": "png_sequence",
            "bg_type": "custom",
            "text_prompt": "the dog",
            "webhook_url": "https://hooks.example.com/x",
            "bg_color": [0.0, 0.0, 1.0]
        })))
        .with_body(SUBMITTED)
        .expect(1)
        .create();
    let some = public(&mut server, "POST", "/v1/jobs/job_2/start")
        .match_body(json_body(json!({"output_format": "gif"})))
        .with_body(SUBMITTED)
        .expect(1)
        .create();
    let client = client(&server);
    let overrides = StartJob::new()
        .model(Model::Human)
        .output_format(OutputFormat::PngSequence)
        .bg_type(BgType::Custom)
        .text_prompt("the dog")
        .webhook_url("https://hooks.example.com/x")
        .bg_color([0.0, 0.0, 1.0]);
    client.start_job("job_1", &overrides).unwrap();
    client.start_job("job_2", &StartJob::new().output_format(OutputFormat::Gif)).unwrap();
    all.assert();
    some.assert();
}

#[test]
fn get_job_is_a_get_of_the_job_path() {
    let mut server = mockito::Server::new();
    let mock = public_get(&mut server, "/v1/jobs/job_1")
        .with_body(
            r#"{"id":"job_1","status":"completed","progress":100,"output_url":"https://cdn.example.com/o.webm"}"#,
        )
        .expect(1)
        .create();
    let job = client(&server).get_job("job_1").unwrap();
    mock.assert();
    assert_eq!(job.id, "job_1");
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.progress, Some(100.0));
    assert_eq!(job.output_url.as_deref(), Some("https://cdn.example.com/o.webm"));
}

#[test]
fn list_jobs_always_sends_limit_and_offset_and_status_only_when_given() {
    let mut server = mockito::Server::new();
    let default = public_get(&mut server, "/v1/jobs")
        .match_query(Matcher::Exact("limit=20&offset=0".to_owned()))
        .with_body(r#"{"items":[{"id":"a","status":"processing"},{"id":"b","status":"completed"}],"total":2}"#)
        .expect(1)
        .create();
    let filtered = public_get(&mut server, "/v1/jobs")
        .match_query(Matcher::Exact("limit=50&offset=100&status=completed".to_owned()))
        .with_body(r#"{"items":[]}"#)
        .expect(1)
        .create();
    let client = client(&server);
    let page = client.list_jobs(&ListJobs::new()).unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[1].status, JobStatus::Completed);
    assert_eq!(page.extra.get("total"), Some(&json!(2)));
    let empty = client.list_jobs(&ListJobs::new().limit(50).offset(100).status(JobStatus::Completed)).unwrap();
    assert!(empty.items.is_empty());
    default.assert();
    filtered.assert();
}

#[test]
fn list_jobs_encodes_an_unknown_status_in_the_query() {
    let mut server = mockito::Server::new();
    let mock = public_get(&mut server, "/v1/jobs")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("limit".into(), "20".into()),
            Matcher::UrlEncoded("offset".into(), "0".into()),
            Matcher::UrlEncoded("status".into(), "on hold&x=1".into()),
        ]))
        .with_body(r#"{"items":[]}"#)
        .expect(1)
        .create();
    client(&server).list_jobs(&ListJobs::new().status(JobStatus::from("on hold&x=1"))).unwrap();
    mock.assert();
}

#[test]
fn usage_calls_always_send_their_query() {
    let mut server = mockito::Server::new();
    let summary = public_get(&mut server, "/v1/usage/summary")
        .match_query(Matcher::Exact("days=7".to_owned()))
        .with_body(r#"{"credits_used":12.5,"jobs":3}"#)
        .expect(1)
        .create();
    let summary_30 = public_get(&mut server, "/v1/usage/summary")
        .match_query(Matcher::Exact("days=30".to_owned()))
        .with_body("{}")
        .expect(1)
        .create();
    let events = public_get(&mut server, "/v1/usage/events")
        .match_query(Matcher::Exact("limit=20".to_owned()))
        .with_body(r#"{"items":[{"kind":"job","credits":1}]}"#)
        .expect(1)
        .create();
    let client = client(&server);
    let totals = client.usage_summary(7).unwrap();
    assert_eq!(totals.credits_used, Some(12.5));
    client.usage_summary(30).unwrap();
    let list = client.usage_events(20).unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].get("kind"), Some(&json!("job")));
    summary.assert();
    summary_30.assert();
    events.assert();
}

#[test]
fn health_and_pricing_send_no_credential() {
    let mut server = mockito::Server::new();
    let health = server
        .mock("GET", "/health")
        .match_header("x-api-key", Matcher::Missing)
        .match_header("x-admin-token", Matcher::Missing)
        .match_header("user-agent", user_agent())
        .with_body(r#"{"status":"ok","version":"1.2"}"#)
        .expect(1)
        .create();
    let pricing = server
        .mock("GET", "/api/pricing")
        .match_header("x-api-key", Matcher::Missing)
        .match_header("x-admin-token", Matcher::Missing)
        .match_header("user-agent", user_agent())
        .with_body(r#"{"original":1,"pro":3}"#)
        .expect(1)
        .create();
    let client = client(&server);
    let status = client.health().unwrap();
    assert_eq!(status.status.as_ref().map(|status| status.as_str()), Some("ok"));
    assert_eq!(status.extra.get("version"), Some(&json!("1.2")));
    assert_eq!(client.pricing().unwrap().extra.get("pro"), Some(&json!(3)));
    health.assert();
    pricing.assert();
}

#[test]
fn download_link_uses_the_legacy_route() {
    let mut server = mockito::Server::new();
    let mock = public_get(&mut server, "/api/download/job_1")
        .with_body(r#"{"output_url":"https://cdn.example.com/o.webm","job_id":17}"#)
        .expect(1)
        .create();
    let link = client(&server).download_link("job_1").unwrap();
    mock.assert();
    assert_eq!(link.download_url.as_deref(), Some("https://cdn.example.com/o.webm"));
    assert_eq!(link.job_id.as_deref(), Some("17"));
}

#[test]
fn admin_reads_send_the_token_and_never_the_key() {
    let mut server = mockito::Server::new();
    let config = admin_mock(&mut server, "GET", "/v1/admin/config")
        .match_header("content-type", Matcher::Missing)
        .with_body(r#"{"max_upload_mb":500,"models":["original"]}"#)
        .expect(1)
        .create();
    let keys = admin_mock(&mut server, "GET", "/v1/admin/keys")
        .match_header("content-type", Matcher::Missing)
        .with_body(r#"{"items":[{"client_id":"acme","key_fingerprint":"fp_1","enabled":true}]}"#)
        .expect(1)
        .create();
    let admin = admin(&server);
    let answer = admin.get_config().unwrap();
    assert_eq!(answer.get("max_upload_mb"), Some(&json!(500)));
    let list = admin.list_keys().unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].client_id, "acme");
    assert_eq!(list.items[0].key_fingerprint, "fp_1");
    assert_eq!(list.items[0].extra.get("enabled"), Some(&json!(true)));
    config.assert();
    keys.assert();
}

#[test]
fn create_key_sends_the_note_only_when_given() {
    let mut server = mockito::Server::new();
    let with_note = admin_mock(&mut server, "POST", "/v1/admin/keys")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({"client_id": "acme", "note": "production"})))
        .with_body(r#"{"api_key":"sk_live_new","key_fingerprint":"fp_new","client_id":"acme"}"#)
        .expect(1)
        .create();
    let without_note = admin_mock(&mut server, "POST", "/v1/admin/keys")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({"client_id": "beta"})))
        .with_body(r#"{"api_key":"sk_live_other","key_fingerprint":"fp_other"}"#)
        .expect(1)
        .create();
    let admin = admin(&server);
    let created = admin.create_key(&CreateKey::new("acme").note("production")).unwrap();
    assert_eq!(created.api_key.expose(), "sk_live_new");
    assert_eq!(created.key_fingerprint, "fp_new");
    assert_eq!(created.extra.get("client_id"), Some(&json!("acme")));
    let other = admin.create_key(&CreateKey::new("beta")).unwrap();
    assert_eq!(other.key_fingerprint, "fp_other");
    with_note.assert();
    without_note.assert();
}

#[test]
fn disable_and_enable_key_send_the_fingerprint() {
    let mut server = mockito::Server::new();
    let disable = admin_mock(&mut server, "POST", "/v1/admin/keys/disable")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({"key_fingerprint": "fp_1"})))
        .with_body(r#"{"success":true}"#)
        .expect(1)
        .create();
    let enable = admin_mock(&mut server, "POST", "/v1/admin/keys/enable")
        .match_header("content-type", "application/json")
        .match_body(json_body(json!({"key_fingerprint": "fp_1"})))
        .with_body(r#"{"success":true,"enabled":true}"#)
        .expect(1)
        .create();
    let admin = admin(&server);
    assert_eq!(admin.disable_key("fp_1").unwrap().success, Some(true));
    let enabled = admin.enable_key("fp_1").unwrap();
    assert_eq!(enabled.success, Some(true));
    assert_eq!(enabled.extra.get("enabled"), Some(&json!(true)));
    disable.assert();
    enable.assert();
}

#[test]
fn admin_from_a_client_sends_the_token_not_the_key() {
    let mut server = mockito::Server::new();
    let keys = admin_mock(&mut server, "GET", "/v1/admin/keys").with_body(r#"{"items":[]}"#).expect(1).create();
    let job = public_get(&mut server, "/v1/jobs/j").with_body(r#"{"id":"j","status":"pending"}"#).expect(1).create();
    let client = client(&server);
    let admin = client.admin(TOKEN).unwrap();
    assert_eq!(admin.base_url(), client.base_url());
    admin.list_keys().unwrap();
    // The public client is unchanged by the admin client made from it.
    client.get_job("j").unwrap();
    keys.assert();
    job.assert();
}

fn write_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Matches a multipart body with one part `file` named `file_name`, of `mime`, holding `content`.
fn multipart_file(file_name: &str, mime: &str, content: &str) -> Matcher {
    Matcher::AllOf(vec![
        Matcher::Regex(format!(
            r#"(?i)content-disposition: form-data; name="file"; filename="{}"\r\n"#,
            regex_escape(file_name)
        )),
        Matcher::Regex(format!(r"(?i)\r\ncontent-type: {}\r\n\r\n{}\r\n--", regex_escape(mime), regex_escape(content))),
    ])
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = r"\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

#[test]
fn upload_sends_one_multipart_part_named_file() {
    let dir = tempfile::tempdir().unwrap();
    let content = "FAKE-MP4-BYTES 0123456789 end";
    let path = write_file(&dir, "holiday clip.mp4", content.as_bytes());
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/uploads")
        .match_header("content-type", Matcher::Regex("^multipart/form-data; boundary=".to_owned()))
        .match_body(multipart_file("holiday clip.mp4", "video/mp4", content))
        .match_request(|request| {
            // Exactly one part.
            let body = request.utf8_lossy_body().unwrap();
            body.matches("content-disposition").count() + body.matches("Content-Disposition").count() == 1
        })
        .with_body(r#"{"video_url":"https://storage.example.com/u/abc.mp4","size":29}"#)
        .expect(1)
        .create();
    let upload = client(&server).upload(&path).send().unwrap();
    mock.assert();
    assert_eq!(upload.video_url, "https://storage.example.com/u/abc.mp4");
    assert_eq!(upload.size, Some(29));
}

#[test]
fn upload_guesses_the_content_type_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let cases =
        [("a.webm", "video/webm"), ("b.mov", "video/quicktime"), ("c.avi", "video/x-msvideo"), ("d.MP4", "video/mp4")];
    let mut server = mockito::Server::new();
    let mut mocks = Vec::new();
    let mut paths = Vec::new();
    for (name, mime) in cases {
        let content = format!("bytes of {name}");
        paths.push(write_file(&dir, name, content.as_bytes()));
        mocks.push(
            public(&mut server, "POST", "/v1/uploads")
                .match_body(multipart_file(name, mime, &content))
                .with_body(r#"{"video_url":"https://storage.example.com/x"}"#)
                .expect(1)
                .create(),
        );
    }
    let client = client(&server);
    for path in &paths {
        client.upload(path).send().unwrap();
    }
    assert_all(&mocks);
}

#[test]
fn uploads_of_a_type_the_api_refuses_or_over_the_limit_send_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = mockito::Server::new();
    let none = nothing_else(&mut server);
    let client = client(&server);
    for name in ["notes.txt", "clip.unknownext", "photo.png", "no-extension"] {
        let path = write_file(&dir, name, b"bytes");
        let err = client.upload(&path).send().unwrap_err();
        assert!(matches!(&err, Error::InvalidInput { field: "file_name", .. }), "{name}: {err:?}");
        assert!(err.to_string().contains("MP4, MOV, WebM and AVI"), "{err}");
        let err = client.upload_reader(std::io::empty(), 0, name).unwrap_err();
        assert!(matches!(&err, Error::InvalidInput { field: "file_name", .. }), "{name}: {err:?}");
    }
    // 500 MiB is the default limit; a reader announcing one byte more is refused before sending.
    let err = client.upload_reader(std::io::empty(), 500 * 1024 * 1024 + 1, "big.mp4").unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { field: "file", .. }), "{err:?}");
    assert!(err.to_string().contains("524288000 bytes"), "{err}");
    let small_limit = Client::builder(KEY).base_url(server.url()).max_upload_size(Some(4)).build().unwrap();
    let path = write_file(&dir, "five.mp4", b"12345");
    let err = small_limit.upload(&path).send().unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { field: "file", .. }), "{err:?}");
    assert_all(&none);
}

#[test]
fn a_lifted_upload_limit_sends_any_size() {
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/uploads")
        .match_body(multipart_file("clip.mp4", "video/mp4", "bytes"))
        .with_body(r#"{"video_url":"https://storage.example.com/s"}"#)
        .expect(1)
        .create();
    let client = Client::builder(KEY).base_url(server.url()).max_upload_size(None).build().unwrap();
    client.upload_reader(std::io::Cursor::new(b"bytes".to_vec()), 5, "clip.mp4").unwrap();
    mock.assert();
}

#[test]
fn a_file_name_with_a_control_character_is_refused_before_sending() {
    let mut server = mockito::Server::new();
    let none = nothing_else(&mut server);
    let client = client(&server);
    for name in ["a\r\nContent-Type: text/html.mp4", "a\n.mp4", "a\0.mp4", "a\u{7f}.mp4"] {
        let err = client.upload_reader(std::io::Cursor::new(b"x".to_vec()), 1, name).unwrap_err();
        assert!(matches!(&err, Error::InvalidInput { field: "file_name", .. }), "{name:?}: {err:?}");
    }
    assert_all(&none);
}

#[test]
fn a_quote_in_a_file_name_is_escaped_in_the_part_header() {
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/uploads")
        .match_body(Matcher::Regex(r#"filename="say \\"hi\\".mp4""#.to_owned()))
        .with_body(r#"{"video_url":"https://storage.example.com/s"}"#)
        .expect(1)
        .create();
    client(&server).upload_reader(std::io::Cursor::new(b"x".to_vec()), 1, r#"say "hi".mp4"#).unwrap();
    mock.assert();
}

#[test]
fn upload_reader_sends_the_given_name_and_bytes() {
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/uploads")
        .match_header("content-type", Matcher::Regex("^multipart/form-data; boundary=".to_owned()))
        .match_body(multipart_file("stream.mp4", "video/mp4", "streamed-bytes"))
        .with_body(r#"{"video_url":"https://storage.example.com/s"}"#)
        .expect(1)
        .create();
    let reader = std::io::Cursor::new(b"streamed-bytes".to_vec());
    let upload = client(&server).upload_reader(reader, 14, "stream.mp4").unwrap();
    mock.assert();
    assert_eq!(upload.video_url, "https://storage.example.com/s");
}

#[test]
fn upload_of_a_missing_file_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = mockito::Server::new();
    let none = nothing_else(&mut server);
    let missing = dir.path().join("missing.mp4");
    let err = client(&server).upload(&missing).send().unwrap_err();
    assert!(matches!(&err, Error::Io { path, .. } if *path == missing), "{err:?}");
    let err = client(&server).upload(dir.path()).send().unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "path", .. }), "{err:?}");
    let err = client(&server).upload_reader(std::io::empty(), 0, " ").unwrap_err();
    assert!(matches!(err, Error::InvalidInput { field: "file_name", .. }), "{err:?}");
    assert_all(&none);
}

#[test]
fn a_trailing_slash_on_the_base_url_is_dropped() {
    let mut server = mockito::Server::new();
    let none = nothing_else(&mut server);
    let mock = public_get(&mut server, "/v1/jobs/j").with_body(r#"{"id":"j","status":"pending"}"#).expect(1).create();
    let client = Client::builder(KEY).base_url(format!("{}/", server.url())).build().unwrap();
    assert_eq!(client.base_url(), server.url());
    client.get_job("j").unwrap();
    mock.assert();
    assert_all(&none);
}

#[test]
fn a_base_url_path_prefix_is_kept() {
    let mut server = mockito::Server::new();
    let none = nothing_else(&mut server);
    let mock = public_get(&mut server, "/proxy/rbv/v1/jobs")
        .match_query(Matcher::Exact("limit=20&offset=0".to_owned()))
        .with_body(r#"{"items":[]}"#)
        .expect(1)
        .create();
    let client = Client::builder(KEY).base_url(format!("{}/proxy/rbv/", server.url())).build().unwrap();
    assert_eq!(client.base_url(), format!("{}/proxy/rbv", server.url()));
    client.list_jobs(&ListJobs::new()).unwrap();
    mock.assert();
    assert_all(&none);
}

#[test]
fn the_user_agent_suffix_is_appended() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", "/health")
        .match_header("user-agent", Matcher::Regex(r"^removebgvideo-rust/\d+\.\d+\.\d+ my-service/1\.4$".to_owned()))
        .with_body("{}")
        .expect(1)
        .create();
    let client = Client::builder(KEY).base_url(server.url()).user_agent_suffix("my-service/1.4").build().unwrap();
    client.health().unwrap();
    mock.assert();
}

#[test]
fn ids_are_encoded_as_one_path_segment() {
    let cases = [
        ("a/b", "/v1/jobs/a%2Fb"),
        ("x?y=1", "/v1/jobs/x%3Fy%3D1"),
        ("#z", "/v1/jobs/%23z"),
        ("../admin/keys", "/v1/jobs/..%2Fadmin%2Fkeys"),
        ("%2e%2e", "/v1/jobs/%252e%252e"),
        ("job 1", "/v1/jobs/job%201"),
        ("é", "/v1/jobs/%C3%A9"),
        ("...", "/v1/jobs/..."),
    ];
    for (id, path) in cases {
        let mut server = mockito::Server::new();
        let none = nothing_else(&mut server);
        let mock = public_get(&mut server, path)
            .with_body(json!({"id": id, "status": "pending"}).to_string())
            .expect(1)
            .create();
        let job = client(&server).get_job(id).unwrap();
        assert_eq!(job.id, id);
        mock.assert();
        assert_all(&none);
    }
}

#[test]
fn ids_are_encoded_in_every_route_that_takes_one() {
    let mut server = mockito::Server::new();
    let none = nothing_else(&mut server);
    let start = public(&mut server, "POST", "/v1/jobs/..%2Fadmin%2Fkeys/start").with_body(SUBMITTED).expect(1).create();
    let download = public_get(&mut server, "/api/download/a%2F..%2Fb%3Fc")
        .with_body(r#"{"output_url":"https://cdn.example.com/o"}"#)
        .expect(1)
        .create();
    let client = client(&server);
    client.start_job("../admin/keys", &StartJob::new()).unwrap();
    client.download_link("a/../b?c").unwrap();
    start.assert();
    download.assert();
    assert_all(&none);
}

#[test]
fn empty_dot_and_over_long_ids_are_refused_without_a_request() {
    let mut server = mockito::Server::new();
    let none = nothing_else(&mut server);
    let client = client(&server);
    let over_long = "j".repeat(1025);
    let huge = "j".repeat(70 * 1024);
    for id in ["", "  ", ".", "..", &over_long, &huge] {
        let results = [
            client.get_job(id).map(drop),
            client.start_job(id, &StartJob::new()).map(drop),
            client.download_link(id).map(drop),
            client.wait_for_completion(id, removebgvideo::WaitOptions::default()).map(drop),
        ];
        for result in results {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::InvalidInput { field: "job_id", .. }), "{}: {err:?}", id.len());
        }
    }
    // 1 KiB is still sent.
    let at_limit = "j".repeat(1024);
    let mock = public_get(&mut server, &format!("/v1/jobs/{at_limit}"))
        .with_body(support::job(&at_limit, "pending", None))
        .create();
    client.get_job(&at_limit).unwrap();
    mock.assert();
    assert_all(&none);
}

#[test]
fn an_api_redirect_to_another_host_is_not_followed() {
    let mut server = mockito::Server::new();
    let mut elsewhere = mockito::Server::new();
    let redirect = public_get(&mut server, "/v1/jobs/j")
        .with_status(302)
        .with_header("location", &format!("{}/steal", elsewhere.url()))
        .expect(1)
        .create();
    let none = nothing_else(&mut elsewhere);
    let err = client(&server).get_job("j").unwrap_err();
    redirect.assert();
    assert_all(&none);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302), "{err:?}");
}

#[test]
fn an_api_redirect_on_the_same_host_is_followed_with_the_key() {
    let mut server = mockito::Server::new();
    let redirect = public_get(&mut server, "/v1/jobs/old")
        .with_status(301)
        .with_header("location", "/v1/jobs/new")
        .expect(1)
        .create();
    let target =
        public_get(&mut server, "/v1/jobs/new").with_body(r#"{"id":"new","status":"pending"}"#).expect(1).create();
    let job = client(&server).get_job("old").unwrap();
    redirect.assert();
    target.assert();
    assert_eq!(job.id, "new");
}

#[test]
fn upload_progress_reports_up_to_the_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let content = "x".repeat(100_000);
    let path = write_file(&dir, "big.mp4", content.as_bytes());
    let mut server = mockito::Server::new();
    let mock = public(&mut server, "POST", "/v1/uploads")
        .match_request(|request| request.body().is_ok_and(|body| body.len() > 100_000))
        .with_body(r#"{"video_url":"https://storage.example.com/big"}"#)
        .expect(1)
        .create();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    client(&server).upload(&path).progress(move |progress| sink.lock().unwrap().push(progress)).send().unwrap();
    mock.assert();
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|p| p.total == Some(100_000)), "{seen:?}");
    assert_eq!(seen.last().map(|p| p.done), Some(100_000));
}

fn page(ids: &[&str]) -> String {
    let items: Vec<_> = ids.iter().map(|id| json!({"id": id, "status": "completed"})).collect();
    json!({ "items": items }).to_string()
}

#[test]
fn list_all_jobs_reads_every_page_and_stops_at_a_short_or_empty_one() {
    let mut server = mockito::Server::new();
    let list = |server: &mut ServerGuard, offset: &str, body: String| {
        public_get(server, "/v1/jobs")
            .match_query(Matcher::AllOf(vec![
                Matcher::UrlEncoded("limit".into(), "2".into()),
                Matcher::UrlEncoded("offset".into(), offset.into()),
            ]))
            .with_body(body)
            .expect(1)
            .create()
    };
    let mocks = [
        list(&mut server, "0", page(&["a", "b"])),
        list(&mut server, "2", page(&["c", "d"])),
        list(&mut server, "4", page(&["e"])),
    ];
    let ids: Vec<String> =
        client(&server).list_all_jobs(&ListJobs::new().limit(2)).map(|job| job.unwrap().id).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_all(&mocks);

    let mut server = mockito::Server::new();
    let mocks = [list(&mut server, "0", page(&["a", "b"])), list(&mut server, "2", page(&[]))];
    assert_eq!(client(&server).list_all_jobs(&ListJobs::new().limit(2)).count(), 2);
    assert_all(&mocks);
}
