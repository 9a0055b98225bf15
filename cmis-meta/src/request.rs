//! The request model: hosts, auth schemes, bodies, and the Graph id helpers.

use bytes::Bytes;
use cmis_core::{AccountRef, Error, Result, TokenSession};
use cmis_http::Call;
use serde::Deserialize;
use serde_json::Value;

/// Checks that `id` is safe as one path segment (Graph ids are digits; upload sessions are
/// `upload:…`), so that an id can never change the path or add a query.
pub(crate) fn segment<'a>(id: &'a str, what: &str) -> Result<&'a str> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '='));
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid_input(format!(
            "{what} {id:?} is not a valid Graph id"
        )))
    }
}

/// Which host a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    Graph,
    GraphVideo,
    Rupload,
    InstagramGraph,
}

/// How the access token is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthScheme {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: OAuth <token>`, which the upload endpoints require.
    OAuth,
}

/// A request body. No `Debug`: forms can hold secrets (token exchange).
#[derive(Clone)]
pub(crate) enum Body {
    Empty,
    Form(Vec<(String, String)>),
    Raw { content_type: String, bytes: Bytes },
}

/// One Graph request, cheap to clone so that reads can be retried. No `Debug`: its query can
/// hold secrets (token exchange, `debug_token`).
#[derive(Clone)]
pub(crate) struct ApiRequest {
    pub(crate) method: reqwest::Method,
    pub(crate) url: String,
    pub(crate) call: Call,
    pub(crate) auth: AuthScheme,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Body,
    /// The largest success answer read; see [`token_endpoint`](Self::token_endpoint).
    pub(crate) max_answer: usize,
}

impl ApiRequest {
    pub(crate) fn get(url: String) -> Self {
        Self {
            method: reqwest::Method::GET,
            url,
            call: Call::Read,
            auth: AuthScheme::Bearer,
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            max_answer: cmis_http::MAX_API_RESPONSE_BYTES,
        }
    }

    pub(crate) fn post(url: String) -> Self {
        Self {
            method: reqwest::Method::POST,
            call: Call::Mutation,
            ..Self::get(url)
        }
    }

    pub(crate) fn query(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_owned(), v.into()));
        self
    }

    pub(crate) fn form(mut self, fields: Vec<(String, String)>) -> Self {
        self.body = Body::Form(fields);
        self
    }

    pub(crate) fn raw(mut self, content_type: impl Into<String>, bytes: Bytes) -> Self {
        self.body = Body::Raw {
            content_type: content_type.into(),
            bytes,
        };
        self
    }

    pub(crate) fn header(mut self, name: &'static str, v: impl Into<String>) -> Self {
        self.headers.push((name, v.into()));
        self
    }

    pub(crate) fn oauth(mut self) -> Self {
        self.auth = AuthScheme::OAuth;
        self
    }

    /// Reads the answer with the OAuth cap: a token endpoint answers with a token, not a page.
    pub(crate) fn token_endpoint(mut self) -> Self {
        self.max_answer = cmis_http::MAX_OAUTH_RESPONSE_BYTES;
        self
    }

    /// Marks a write that is safe to repeat (re-sending upload bytes at an offset).
    pub(crate) fn idempotent(mut self) -> Self {
        self.call = Call::Read;
        self
    }
}

/// Who a call is made for: the account's tokens, which follow the [`TokenSession`] rule on a
/// rejected token, and through them the account (for throttling).
#[derive(Clone, Copy)]
pub(crate) struct Session<'a> {
    pub(crate) tokens: &'a TokenSession<'a>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(tokens: &'a TokenSession<'a>) -> Self {
        Self { tokens }
    }

    pub(crate) fn account(&self) -> &'a AccountRef {
        self.tokens.account()
    }
}

/// Deserialises a Graph id that may come as a string or a number into a string, keeping every
/// digit (ids exceed 2^53).
pub(crate) fn de_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

/// [`de_id`] for optional ids.
pub(crate) fn de_opt_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

/// `{"id": "…"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct IdResponse {
    #[serde(deserialize_with = "de_id")]
    pub(crate) id: String,
}
