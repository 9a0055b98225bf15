//! Helpers shared by the fake Threads API's tests.

#![allow(dead_code)]

use std::time::Duration;

use cmis_core::ExposeSecret;
use cmis_sandbox::{Sandbox, ThreadsConfig};
use reqwest::StatusCode;
use serde_json::Value;

/// The user of Meta's examples (fixture `oauth_access_token.json`, `permalink.json`).
pub(crate) const USER: &str = "17841405793187218";
pub(crate) const USERNAME: &str = "threadsapitestuser";
pub(crate) const OTHER: &str = "17841400000000202";
/// A container becomes `FINISHED` 2 s after creation by default; this is past it.
pub(crate) const READY: Duration = Duration::from_secs(3);

pub(crate) fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

/// A sandbox with [`USER`] and [`OTHER`], and a long-lived token of [`USER`].
pub(crate) async fn sandbox_with(config: ThreadsConfig) -> (Sandbox, String) {
    let s = Sandbox::builder().threads(config).start().await.unwrap();
    let token = s.threads().add_user(USER, USERNAME);
    s.threads().add_user(OTHER, "someone_else");
    let token = token.expose_secret().to_owned();
    (s, token)
}

pub(crate) async fn sandbox() -> (Sandbox, String) {
    sandbox_with(ThreadsConfig::default()).await
}

#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) raw: String,
}

impl Answer {
    /// `(code, error_subcode, message, type)` of a Graph error envelope.
    pub(crate) fn error(&self) -> (i64, Option<i64>, &str, &str) {
        let e = &self.body["error"];
        assert!(
            e["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()),
            "the envelope has an fbtrace_id: {}",
            self.raw
        );
        (
            e["code"].as_i64().unwrap_or(-1),
            e["error_subcode"].as_i64(),
            e["message"].as_str().unwrap_or("-"),
            e["type"].as_str().unwrap_or("-"),
        )
    }

    /// The envelope without its random `fbtrace_id`.
    pub(crate) fn envelope(&self) -> Value {
        let mut body = self.body.clone();
        if let Some(e) = body["error"].as_object_mut() {
            e.remove("fbtrace_id");
        }
        body
    }

    pub(crate) fn id(&self) -> String {
        assert_eq!(self.status, StatusCode::OK, "{}", self.raw);
        self.body["id"].as_str().expect("a string id").to_owned()
    }
}

pub(crate) async fn answer(r: reqwest::RequestBuilder) -> Answer {
    let r = r.send().await.unwrap();
    let status = r.status();
    let raw = r.text().await.unwrap();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Answer { status, body, raw }
}

pub(crate) fn api(s: &Sandbox, path: &str) -> String {
    format!("{}/v1.0/{path}", s.threads().url())
}

/// `POST /v1.0/{USER}/threads` with a form body.
pub(crate) async fn create(s: &Sandbox, token: &str, form: &[(&str, &str)]) -> Answer {
    answer(
        http()
            .post(api(s, &format!("{USER}/threads")))
            .bearer_auth(token)
            .form(form),
    )
    .await
}

/// `GET /v1.0/{container}?fields=status,error_message`.
pub(crate) async fn status(s: &Sandbox, token: &str, container: &str) -> Answer {
    answer(
        http()
            .get(api(s, container))
            .bearer_auth(token)
            .query(&[("fields", "status,error_message")]),
    )
    .await
}

/// `POST /v1.0/{USER}/threads_publish` with `creation_id`.
pub(crate) async fn publish(s: &Sandbox, token: &str, container: &str) -> Answer {
    answer(
        http()
            .post(api(s, &format!("{USER}/threads_publish")))
            .bearer_auth(token)
            .form(&[("creation_id", container)]),
    )
    .await
}

/// Creates a text container, lets it finish and publishes it; returns the media id.
pub(crate) async fn post_text(s: &Sandbox, token: &str, text: &str) -> String {
    let container = create(s, token, &[("media_type", "TEXT"), ("text", text)])
        .await
        .id();
    s.threads().advance_clock(READY);
    publish(s, token, &container).await.id()
}

pub(crate) async fn get(s: &Sandbox, token: &str, path: &str, query: &[(&str, &str)]) -> Answer {
    answer(http().get(api(s, path)).bearer_auth(token).query(query)).await
}
