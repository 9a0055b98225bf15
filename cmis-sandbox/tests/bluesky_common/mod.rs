//! Helpers shared by the fake Bluesky PDS's tests.

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cmis_core::ExposeSecret;
use cmis_sandbox::{BlueskyAccount, BlueskyConfig, Sandbox};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub(crate) const HANDLE: &str = "alice.bsky.social";
pub(crate) const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
pub(crate) const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";
pub(crate) const BOB_DID: &str = "did:plc:z72i7hdynmk6r22z27h6tvur";
pub(crate) const POST: &str = "app.bsky.feed.post";

pub(crate) fn http() -> reqwest::Client {
    cmis_http::client_builder().unwrap().build().unwrap()
}

pub(crate) async fn sandbox_with(config: BlueskyConfig) -> Sandbox {
    let s = Sandbox::builder().bluesky(config).start().await.unwrap();
    s.bluesky()
        .add_account(BlueskyAccount::new(HANDLE, DID, APP_PASSWORD));
    s.bluesky().add_account(BlueskyAccount::new(
        "bob.example.com",
        BOB_DID,
        "bbbb-bbbb-bbbb-bbbb",
    ));
    s
}

pub(crate) async fn sandbox() -> Sandbox {
    sandbox_with(BlueskyConfig::default()).await
}

pub(crate) fn access(s: &Sandbox, who: &str) -> String {
    let session = s.bluesky().issue_session(who).unwrap();
    session.access_jwt.expose_secret().to_owned()
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) fn error(&self) -> (&str, &str) {
        (
            self.body["error"].as_str().unwrap_or("-"),
            self.body["message"].as_str().unwrap_or("-"),
        )
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }
}

pub(crate) async fn answer(r: reqwest::RequestBuilder) -> Answer {
    let r = r.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let body = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

pub(crate) async fn procedure(
    s: &Sandbox,
    nsid: &str,
    token: Option<&str>,
    input: Option<Value>,
) -> Answer {
    let mut r = http().post(format!("{}/xrpc/{nsid}", s.bluesky().url()));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(input) = input {
        r = r.json(&input);
    }
    answer(r).await
}

pub(crate) async fn query(s: &Sandbox, nsid: &str, params: &[(&str, &str)]) -> Answer {
    answer(
        http()
            .get(format!("{}/xrpc/{nsid}", s.bluesky().url()))
            .query(params),
    )
    .await
}

pub(crate) async fn login(s: &Sandbox, identifier: &str, password: &str) -> Answer {
    let input = json!({"identifier": identifier, "password": password});
    procedure(s, "com.atproto.server.createSession", None, Some(input)).await
}

pub(crate) async fn refresh(s: &Sandbox, token: &str) -> Answer {
    procedure(s, "com.atproto.server.refreshSession", Some(token), None).await
}

pub(crate) fn post_record(text: &str) -> Value {
    json!({"$type": POST, "text": text, "createdAt": "2026-11-03T10:15:00.000Z", "langs": ["en"]})
}

pub(crate) async fn create(s: &Sandbox, token: &str, rkey: Option<&str>, record: Value) -> Answer {
    let mut input = json!({"repo": DID, "collection": POST, "record": record});
    if let Some(k) = rkey {
        input["rkey"] = json!(k);
    }
    procedure(s, "com.atproto.repo.createRecord", Some(token), Some(input)).await
}

pub(crate) async fn upload(s: &Sandbox, token: &str, mime: &str, bytes: Vec<u8>) -> Answer {
    answer(
        http()
            .post(format!(
                "{}/xrpc/com.atproto.repo.uploadBlob",
                s.bluesky().url()
            ))
            .bearer_auth(token)
            .header("content-type", mime)
            .body(bytes),
    )
    .await
}

/// The header and payload of a JWT.
pub(crate) fn claims(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "header.payload.signature: {jwt}");
    let decode = |p: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    (decode(parts[0]), decode(parts[1]))
}

pub(crate) fn tid_shaped(rkey: &str) -> bool {
    const ALPHABET: &str = "234567abcdefghijklmnopqrstuvwxyz";
    rkey.len() == 13
        && ALPHABET[..16].contains(&rkey[..1])
        && rkey.chars().all(|c| ALPHABET.contains(c))
}

pub(crate) fn images(blobs: &[&Value]) -> Value {
    let images: Vec<Value> = blobs
        .iter()
        .map(|b| json!({"image": b, "alt": ""}))
        .collect();
    let mut r = post_record("pictures");
    r["embed"] = json!({"$type": "app.bsky.embed.images", "images": images});
    r
}
