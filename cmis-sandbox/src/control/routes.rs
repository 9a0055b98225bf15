//! The control API's routes: JSON in and out, `{"error": "…"}` with a 4xx for bad requests.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Fakes, Platform, Shared, faults, published, seed};
use crate::clock::Clock;
use crate::http::{json as answer, parse_form};

/// A bad request: its status and what was wrong.
struct Refused(StatusCode, String);

impl From<String> for Refused {
    fn from(message: String) -> Self {
        Refused(StatusCode::BAD_REQUEST, message)
    }
}

type Answer = Result<Value, Refused>;

/// The answer `f` gives.
fn run(f: impl FnOnce() -> Answer) -> Response {
    respond(f())
}

fn respond(result: Answer) -> Response {
    match result {
        Ok(value) => answer(StatusCode::OK, value),
        Err(Refused(status, message)) => answer(status, json!({"error": message})),
    }
}

#[derive(Clone)]
struct Ctl {
    fakes: Fakes,
    shared: Arc<Shared>,
}

const ROUTES: &[&str] = &[
    "GET /",
    "GET /faults",
    "POST /faults",
    "DELETE /faults",
    "DELETE /faults/{platform}",
    "GET /published",
    "GET /published/{platform}",
    "GET /requests?platform=P",
    "POST /seed",
    "POST /tokens/expire",
    "POST /fail-next",
    "GET /clock",
    "POST /clock/advance",
    "POST /clock/freeze",
    "POST /clock/unfreeze",
    "POST /reset",
];

pub(crate) fn router(fakes: Fakes, shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { respond(Ok(json!({"routes": ROUTES}))) }),
        )
        .route(
            "/faults",
            get(|| async { respond(Ok(faults::catalog())) })
                .post(inject)
                .delete(clear_all),
        )
        .route("/faults/{platform}", axum::routing::delete(clear_one))
        .route("/published", get(published_all))
        .route("/published/{platform}", get(published_one))
        .route("/requests", get(requests))
        .route("/seed", post(seed_accounts))
        .route("/tokens/expire", post(expire_token))
        .route("/fail-next", post(fail_next))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/clock/freeze", post(freeze))
        .route("/clock/unfreeze", post(unfreeze))
        .route("/reset", post(reset))
        .fallback(|| async {
            respond(Err(Refused(
                StatusCode::NOT_FOUND,
                format!("no such route; routes: {}", ROUTES.join(", ")),
            )))
        })
        .method_not_allowed_fallback(|| async {
            respond(Err(Refused(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("wrong method for this route; routes: {}", ROUTES.join(", ")),
            )))
        })
        .with_state(Ctl { fakes, shared })
}

/// The platform called `name`, or a message naming the platforms.
pub(crate) fn platform(name: &str) -> Result<Platform, String> {
    Platform::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
        format!("no platform {name:?}; platforms: {}", names.join(", "))
    })
}

/// The body as `T`; an empty body as `T`'s `{}` when `empty_ok`.
fn body<T: DeserializeOwned>(bytes: &[u8], empty_ok: bool) -> Result<T, String> {
    let bytes: &[u8] = if empty_ok && bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON body: {e}"))?;
    if !value.is_object() {
        return Err("the body must be a JSON object".to_owned());
    }
    serde_json::from_value(value).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn inject(State(ctl): State<Ctl>, bytes: Bytes) -> Response {
    run(|| Ok(faults::inject(&ctl.fakes, body(&bytes, false)?)?))
}

async fn clear_all(State(ctl): State<Ctl>) -> Response {
    for p in Platform::ALL {
        faults::clear(&ctl.fakes, p);
    }
    let names: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
    respond(Ok(json!({"cleared": names})))
}

async fn clear_one(State(ctl): State<Ctl>, Path(name): Path<String>) -> Response {
    run(|| {
        let p = platform(&name)?;
        faults::clear(&ctl.fakes, p);
        Ok(json!({"cleared": [p.name()]}))
    })
}

async fn published_all(State(ctl): State<Ctl>) -> Response {
    let log = ctl.shared.log.entries(None);
    let all: serde_json::Map<String, Value> = Platform::ALL
        .into_iter()
        .map(|p| {
            let listing = published::listing(&ctl.fakes, p, &log);
            (p.name().to_owned(), listing)
        })
        .collect();
    respond(Ok(Value::Object(all)))
}

async fn published_one(State(ctl): State<Ctl>, Path(name): Path<String>) -> Response {
    run(|| {
        let p = platform(&name)?;
        let log = ctl.shared.log.entries(Some(p));
        Ok(published::listing(&ctl.fakes, p, &log))
    })
}

async fn requests(State(ctl): State<Ctl>, RawQuery(query): RawQuery) -> Response {
    run(|| {
        let params = parse_form(query.unwrap_or_default().as_bytes())
            .ok_or_else(|| "the query string is not valid form encoding".to_owned())?;
        if let Some(other) = params.keys().find(|k| *k != "platform") {
            return Err(format!("unknown query parameter {other:?}; only \"platform\"").into());
        }
        let p = params.get("platform").map(|n| platform(n)).transpose()?;
        let entries: Vec<Value> = ctl
            .shared
            .log
            .entries(p)
            .iter()
            .map(super::log::Entry::to_json)
            .collect();
        Ok(json!({"count": entries.len(), "requests": entries}))
    })
}

async fn seed_accounts(State(ctl): State<Ctl>, bytes: Bytes) -> Response {
    respond(seed(&ctl.fakes, &bytes).map_err(Refused::from))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expire {
    platform: String,
    token: String,
}

async fn expire_token(State(ctl): State<Ctl>, bytes: Bytes) -> Response {
    run(|| {
        let req: Expire = body(&bytes, false)?;
        let f = &ctl.fakes;
        match platform(&req.platform)? {
            Platform::TikTok => f.tiktok.expire_access_token(&req.token),
            Platform::Bluesky | Platform::BlueskyVideo => f.bluesky.expire_token(&req.token),
            Platform::Threads => f.threads.expire_token(&req.token),
            Platform::LinkedIn => f.linkedin.expire_token(&req.token),
            Platform::YouTube => f.youtube.expire_token(&req.token),
            Platform::Meta => {
                return Err("the fake Meta cannot expire a token by name: inject the \
                            \"ExpiredToken\" fault on the endpoint instead"
                    .to_owned()
                    .into());
            }
        }
        Ok(json!({"expired": true}))
    })
}

/// What `POST /fail-next` takes: the platform's own failure for its next object.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNext {
    platform: String,
    /// Meta: the subcode the next Instagram container ends in `ERROR` with (e.g. 2207026).
    #[serde(default)]
    subcode: Option<u32>,
    /// TikTok: the `fail_reason` the next publish ends `FAILED` with (e.g.
    /// `duration_check_failed`).
    #[serde(default)]
    reason: Option<String>,
}

/// Makes the next object fail the way the platform says media fail after it accepted them:
/// the fakes never decode media, so this is how a test reaches those outcomes.
async fn fail_next(State(ctl): State<Ctl>, bytes: Bytes) -> Response {
    run(|| {
        let req: FailNext = body(&bytes, false)?;
        match (platform(&req.platform)?, req.subcode, req.reason) {
            (Platform::Meta, Some(subcode), None) => {
                ctl.fakes.meta.fail_next_container(subcode);
                Ok(json!({"platform": "meta", "next_container": "ERROR", "subcode": subcode}))
            }
            (Platform::TikTok, None, Some(reason)) if !reason.trim().is_empty() => {
                ctl.fakes.tiktok.fail_next_publish(&reason);
                Ok(json!({"platform": "tiktok", "next_publish": "FAILED", "fail_reason": reason}))
            }
            (Platform::Meta, ..) => Err("meta takes {\"subcode\": N} (the next container's \
                                         ERROR subcode)"
                .to_owned()
                .into()),
            (Platform::TikTok, ..) => Err("tiktok takes {\"reason\": \"...\"} (the next \
                                           publish's fail_reason)"
                .to_owned()
                .into()),
            (other, ..) => Err(format!(
                "{} has no next-failure hook: inject a fault with POST /faults",
                other.name()
            )
            .into()),
        }
    })
}

/// The platforms with a movable clock, and their clocks.
fn clocks(fakes: &Fakes) -> [(Platform, &Clock); 4] {
    [
        (Platform::Bluesky, fakes.bluesky.state.clock()),
        (Platform::Threads, fakes.threads.state.clock()),
        (Platform::LinkedIn, fakes.linkedin.state.clock()),
        (Platform::YouTube, fakes.youtube.state.clock()),
    ]
}

/// The clocks `platform` names (all when `None`), or why none.
fn chosen<'a>(fakes: &'a Fakes, platform_name: Option<&str>) -> Result<Vec<&'a Clock>, String> {
    let Some(name) = platform_name else {
        return Ok(clocks(fakes).into_iter().map(|(_, c)| c).collect());
    };
    let wanted = match platform(name)? {
        Platform::BlueskyVideo => Platform::Bluesky,
        p => p,
    };
    let found: Vec<&'a Clock> = clocks(fakes)
        .into_iter()
        .filter(|(p, _)| *p == wanted)
        .map(|(_, c)| c)
        .collect();
    if found.is_empty() {
        return Err(format!(
            "the fake {name} has no movable clock: it follows real time"
        ));
    }
    Ok(found)
}

fn clock_state(fakes: &Fakes) -> Value {
    let mut map = serde_json::Map::new();
    for (p, c) in clocks(fakes) {
        let state = json!({"unix_ms": c.now_ms(), "frozen": c.is_frozen()});
        if p == Platform::Bluesky {
            map.insert(Platform::BlueskyVideo.name().into(), state.clone());
        }
        map.insert(p.name().into(), state);
    }
    json!({"clocks": map, "real_time_only": ["meta", "tiktok"]})
}

async fn clock(State(ctl): State<Ctl>) -> Response {
    respond(Ok(clock_state(&ctl.fakes)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
    platform: Option<String>,
}

async fn advance(State(ctl): State<Ctl>, bytes: Bytes) -> Response {
    run(|| {
        let req: Advance = body(&bytes, false)?;
        if !req.seconds.is_finite() || req.seconds < 0.0 || req.seconds > 1e10 {
            return Err(
                "\"seconds\" must be between 0 and 1e10: clocks only move forward"
                    .to_owned()
                    .into(),
            );
        }
        let by = Duration::from_secs_f64(req.seconds);
        for c in chosen(&ctl.fakes, req.platform.as_deref())? {
            c.advance(by);
        }
        Ok(clock_state(&ctl.fakes))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Which {
    platform: Option<String>,
}

async fn freeze(State(ctl): State<Ctl>, bytes: Bytes) -> Response {
    run(|| {
        let req: Which = body(&bytes, true)?;
        for c in chosen(&ctl.fakes, req.platform.as_deref())? {
            c.freeze();
        }
        Ok(clock_state(&ctl.fakes))
    })
}

async fn unfreeze(State(ctl): State<Ctl>, bytes: Bytes) -> Response {
    run(|| {
        let req: Which = body(&bytes, true)?;
        for c in chosen(&ctl.fakes, req.platform.as_deref())? {
            c.unfreeze();
        }
        Ok(clock_state(&ctl.fakes))
    })
}

async fn reset(State(ctl): State<Ctl>) -> Response {
    ctl.fakes.reset();
    ctl.shared.log.clear();
    respond(Ok(json!({"reset": true})))
}
