//! Fault injection by name: the endpoints of each fake and the kinds of [`Fault`].

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fakes, Platform};
use crate::bluesky::{BlueskyEndpoint, BlueskyVideoEndpoint};
use crate::fault::Fault;
use crate::linkedin::LinkedInEndpoint;
use crate::meta::MetaEndpoint;
use crate::threads::ThreadsEndpoint;
use crate::tiktok::TikTokEndpoint;
use crate::youtube::YouTubeEndpoint;

/// The most faults one request may queue.
const MAX_COUNT: u32 = 100_000;

macro_rules! table {
    ($ty:ident: $($v:ident),* $(,)?) => {
        &[$((stringify!($v), $ty::$v)),*]
    };
}

const TIKTOK: &[(&str, TikTokEndpoint)] = table!(TikTokEndpoint: Token, Revoke, CreatorInfo,
    VideoInit, InboxInit, ContentInit, Upload, Status, Cancel, VideoList, VideoQuery);
const META: &[(&str, MetaEndpoint)] = table!(MetaEndpoint: Feed, Photos, Uploads, Videos, Reels,
    Media, ContainerStatus, MediaPublish, Permalink, PublishingLimit, PublishedPosts, MediaList,
    VideoStatus, Tokens, Object, Insights);
const BLUESKY: &[(&str, BlueskyEndpoint)] = table!(BlueskyEndpoint: CreateSession,
    RefreshSession, CreateRecord, GetRecord, UploadBlob, ResolveHandle, GetServiceAuth,
    DescribeServer);
const BLUESKY_VIDEO: &[(&str, BlueskyVideoEndpoint)] =
    table!(BlueskyVideoEndpoint: UploadVideo, GetJobStatus, GetUploadLimits);
const THREADS: &[(&str, ThreadsEndpoint)] = table!(ThreadsEndpoint: ExchangeCode, ExchangeToken,
    RefreshToken, CreateContainer, ContainerStatus, Publish, PublishingLimit, ListThreads,
    GetMedia);
const LINKEDIN: &[(&str, LinkedInEndpoint)] = table!(LinkedInEndpoint: Token, CreatePost,
    GetPost, ListPosts, DeletePost, InitializeUpload, Upload, FinalizeVideo, MediaStatus);
const YOUTUBE: &[(&str, YouTubeEndpoint)] = table!(YouTubeEndpoint: Token, StartUpload,
    UploadChunk, ListVideos, ListChannels, ListPlaylistItems, SetThumbnail);

/// The fault kinds, and whether each needs `duration_ms`.
const KINDS: &[(&str, bool)] = &[
    ("ServerError", false),
    ("ServerErrorAfterAccept", false),
    ("RateLimited", false),
    ("ExpiredToken", false),
    ("Delay", true),
    ("DelayAfterAccept", true),
    ("DropConnection", false),
    ("DropAfterAccept", false),
    ("SlowProcessing", true),
];

/// A name compared ignoring case, `_` and `-`.
fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn lookup<E: Copy>(table: &[(&str, E)], platform: Platform, name: &str) -> Result<E, String> {
    let wanted = norm(name);
    table
        .iter()
        .find(|(n, _)| norm(n) == wanted)
        .map(|(_, e)| *e)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            format!(
                "{} has no endpoint {name:?}; its endpoints: {}",
                platform.name(),
                names.join(", ")
            )
        })
}

fn endpoint_names(platform: Platform) -> Vec<&'static str> {
    fn names<E>(t: &[(&'static str, E)]) -> Vec<&'static str> {
        t.iter().map(|(n, _)| *n).collect()
    }
    match platform {
        Platform::TikTok => names(TIKTOK),
        Platform::Meta => names(META),
        Platform::Bluesky => names(BLUESKY),
        Platform::BlueskyVideo => names(BLUESKY_VIDEO),
        Platform::Threads => names(THREADS),
        Platform::LinkedIn => names(LINKEDIN),
        Platform::YouTube => names(YOUTUBE),
    }
}

/// `GET /faults`: what can be injected where.
pub(crate) fn catalog() -> Value {
    let platforms: serde_json::Map<String, Value> = Platform::ALL
        .into_iter()
        .map(|p| (p.name().to_owned(), json!(endpoint_names(p))))
        .collect();
    let kinds: Vec<Value> = KINDS
        .iter()
        .map(|(k, d)| json!({"fault": k, "needs_duration_ms": d}))
        .collect();
    json!({"platforms": platforms, "faults": kinds})
}

/// The body of `POST /faults`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultRequest {
    platform: String,
    endpoint: Option<String>,
    fault: Option<String>,
    count: Option<u32>,
    rate: Option<f64>,
    faults: Option<Vec<String>>,
    endpoints: Option<Vec<String>>,
    seed: Option<u64>,
    duration_ms: Option<u64>,
}

/// The fault called `name`, with `duration_ms` where it takes one.
fn fault(name: &str, duration_ms: Option<u64>) -> Result<Fault, String> {
    let wanted = norm(name);
    let Some((kind, needs)) = KINDS.iter().find(|(k, _)| norm(k) == wanted) else {
        let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        return Err(format!("no fault {name:?}; faults: {}", names.join(", ")));
    };
    let d = match (needs, duration_ms) {
        (true, Some(ms)) => Duration::from_millis(ms),
        (true, None) => return Err(format!("fault {kind} needs \"duration_ms\"")),
        (false, _) => Duration::ZERO,
    };
    Ok(match *kind {
        "ServerError" => Fault::ServerError,
        "ServerErrorAfterAccept" => Fault::ServerErrorAfterAccept,
        "RateLimited" => Fault::RateLimited,
        "ExpiredToken" => Fault::ExpiredToken,
        "Delay" => Fault::Delay(d),
        "DelayAfterAccept" => Fault::DelayAfterAccept(d),
        "DropConnection" => Fault::DropConnection,
        "DropAfterAccept" => Fault::DropAfterAccept,
        _ => Fault::SlowProcessing(d),
    })
}

/// Queues `fault` `count` times on one endpoint, or sets a random fault rate.
pub(crate) fn inject(fakes: &Fakes, req: FaultRequest) -> Result<Value, String> {
    let platform = super::routes::platform(&req.platform)?;
    let Some(rate) = req.rate else {
        let (Some(endpoint), Some(name)) = (&req.endpoint, &req.fault) else {
            return Err("give \"endpoint\" and \"fault\" (or \"rate\" and \"faults\")".into());
        };
        if req.faults.is_some() || req.endpoints.is_some() || req.seed.is_some() {
            return Err("\"faults\", \"endpoints\" and \"seed\" go with \"rate\"".into());
        }
        let count = req.count.unwrap_or(1);
        if count == 0 || count > MAX_COUNT {
            return Err(format!("\"count\" must be 1 to {MAX_COUNT}"));
        }
        let fault = fault(name, req.duration_ms)?;
        let endpoint = queue(fakes, platform, endpoint, fault, count)?;
        return Ok(json!({
            "platform": platform.name(), "endpoint": endpoint, "fault": format!("{fault:?}"),
            "count": count,
        }));
    };
    if req.endpoint.is_some() || req.fault.is_some() || req.count.is_some() {
        return Err(
            "\"endpoint\", \"fault\" and \"count\" do not go with \"rate\": give \
                    \"endpoints\" and \"faults\""
                .into(),
        );
    }
    if !(0.0..=1.0).contains(&rate) {
        return Err("\"rate\" must be between 0 and 1".into());
    }
    let faults = req
        .faults
        .unwrap_or_default()
        .iter()
        .map(|f| fault(f, req.duration_ms))
        .collect::<Result<Vec<_>, _>>()?;
    if faults.is_empty() && rate > 0.0 {
        return Err("a \"rate\" needs a non-empty \"faults\" list".into());
    }
    let endpoints = req.endpoints.unwrap_or_else(|| {
        endpoint_names(platform)
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    });
    let seed = req.seed.unwrap_or(0);
    let names = set_rate(fakes, platform, rate, seed, faults.clone(), &endpoints)?;
    let faults: Vec<String> = faults.iter().map(|f| format!("{f:?}")).collect();
    Ok(json!({
        "platform": platform.name(), "rate": rate, "seed": seed, "faults": faults,
        "endpoints": names,
    }))
}

fn queue(
    fakes: &Fakes,
    platform: Platform,
    name: &str,
    fault: Fault,
    count: u32,
) -> Result<String, String> {
    match platform {
        Platform::TikTok => fakes
            .tiktok
            .inject(lookup(TIKTOK, platform, name)?, fault, count),
        Platform::Meta => fakes
            .meta
            .inject(lookup(META, platform, name)?, fault, count),
        Platform::Bluesky => fakes
            .bluesky
            .inject(lookup(BLUESKY, platform, name)?, fault, count),
        Platform::BlueskyVideo => {
            let e = lookup(BLUESKY_VIDEO, platform, name)?;
            fakes.bluesky_video.inject(e, fault, count);
        }
        Platform::Threads => fakes
            .threads
            .inject(lookup(THREADS, platform, name)?, fault, count),
        Platform::LinkedIn => {
            let e = lookup(LINKEDIN, platform, name)?;
            fakes.linkedin.inject(e, fault, count);
        }
        Platform::YouTube => fakes
            .youtube
            .inject(lookup(YOUTUBE, platform, name)?, fault, count),
    }
    Ok(canonical(platform, name))
}

/// The table's spelling of an endpoint name that was found.
fn canonical(platform: Platform, name: &str) -> String {
    let wanted = norm(name);
    endpoint_names(platform)
        .into_iter()
        .find(|n| norm(n) == wanted)
        .unwrap_or(name)
        .to_owned()
}

fn set_rate(
    fakes: &Fakes,
    platform: Platform,
    rate: f64,
    seed: u64,
    faults: Vec<Fault>,
    names: &[String],
) -> Result<Vec<String>, String> {
    fn all<E: Copy>(t: &[(&str, E)], p: Platform, names: &[String]) -> Result<Vec<E>, String> {
        names.iter().map(|n| lookup(t, p, n)).collect()
    }
    let p = platform;
    match platform {
        Platform::TikTok => fakes
            .tiktok
            .set_fault_rate(rate, seed, faults, all(TIKTOK, p, names)?),
        Platform::Meta => fakes
            .meta
            .set_fault_rate(rate, seed, faults, all(META, p, names)?),
        Platform::Bluesky => {
            let e = all(BLUESKY, p, names)?;
            fakes.bluesky.set_fault_rate(rate, seed, faults, e);
        }
        Platform::BlueskyVideo => {
            let e = all(BLUESKY_VIDEO, p, names)?;
            fakes.bluesky_video.set_fault_rate(rate, seed, faults, e);
        }
        Platform::Threads => {
            let e = all(THREADS, p, names)?;
            fakes.threads.set_fault_rate(rate, seed, faults, e);
        }
        Platform::LinkedIn => {
            let e = all(LINKEDIN, p, names)?;
            fakes.linkedin.set_fault_rate(rate, seed, faults, e);
        }
        Platform::YouTube => {
            let e = all(YOUTUBE, p, names)?;
            fakes.youtube.set_fault_rate(rate, seed, faults, e);
        }
    }
    Ok(names.iter().map(|n| canonical(platform, n)).collect())
}

/// Removes every queued and random fault of `platform`.
pub(crate) fn clear(fakes: &Fakes, platform: Platform) {
    match platform {
        Platform::TikTok => fakes.tiktok.clear_faults(),
        Platform::Meta => fakes.meta.clear_faults(),
        Platform::Bluesky => fakes.bluesky.clear_faults(),
        Platform::BlueskyVideo => fakes.bluesky_video.clear_faults(),
        Platform::Threads => fakes.threads.clear_faults(),
        Platform::LinkedIn => fakes.linkedin.clear_faults(),
        Platform::YouTube => fakes.youtube.clear_faults(),
    }
}
