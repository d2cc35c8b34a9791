//! The simulator through a plain HTTP client, as another language's SDK would call it: one
//! shared client, and a call that gives back the status and the JSON body.

use std::sync::OnceLock;

use removebgvideo::simulator::Simulator;
use serde_json::Value;

/// One blocking client for every test (no proxy: the simulator is on 127.0.0.1).
pub fn http() -> &'static reqwest::blocking::Client {
    static CLIENT: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    CLIENT.get_or_init(|| reqwest::blocking::Client::builder().no_proxy().build().expect("http client"))
}

/// `method path` on `sim`, with `X-Api-Key: key` when given and `body` as JSON: the status, and
/// the body as JSON (`Null` when it is not).
pub fn call(sim: &Simulator, method: &str, path: &str, key: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let mut request = http().request(method.parse().expect("method"), format!("{}{path}", sim.base_url()));
    if let Some(key) = key {
        request = request.header("X-Api-Key", key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let answer = request.send().expect("send");
    let status = answer.status().as_u16();
    (status, answer.json().unwrap_or(Value::Null))
}
