//! The connectors the command-line examples use, configured from the environment.

use cmis::meta::MetaClient;
use cmis::tiktok::TikTokClient;
use cmis::{Platform, Result};

use crate::cli::{app_credentials, env};

/// A Meta client: `CMIS_META_GRAPH_URL` (Meta's host by default), `CMIS_META_GRAPH_VIDEO_URL`
/// and `CMIS_META_RUPLOAD_URL` (defaulting to the graph URL when it is set, else to Meta's
/// hosts), and the app credentials from `CMIS_META_APP_ID`/`CMIS_META_APP_SECRET` or
/// `CMIS_CLIENT_ID`/`CMIS_CLIENT_SECRET`.
pub fn meta_client() -> Result<MetaClient> {
    let mut builder = MetaClient::builder();
    if let Some(graph) = env("CMIS_META_GRAPH_URL") {
        builder = builder
            .graph_video_url(env("CMIS_META_GRAPH_VIDEO_URL").unwrap_or_else(|| graph.clone()))
            .rupload_url(env("CMIS_META_RUPLOAD_URL").unwrap_or_else(|| graph.clone()))
            .instagram_graph_url(graph.clone())
            .graph_url(graph);
    } else {
        if let Some(video) = env("CMIS_META_GRAPH_VIDEO_URL") {
            builder = builder.graph_video_url(video);
        }
        if let Some(rupload) = env("CMIS_META_RUPLOAD_URL") {
            builder = builder.rupload_url(rupload);
        }
    }
    let (app_id, app_secret) = app_credentials(Platform::Facebook);
    if let Some(id) = app_id {
        builder = builder.app_id(id);
    }
    if let Some(secret) = app_secret {
        builder = builder.app_secret(secret);
    }
    builder.build()
}

/// A TikTok client: `CMIS_TIKTOK_API_URL` (TikTok's host by default, for the token endpoint too)
/// and the client credentials from `CMIS_TIKTOK_CLIENT_KEY`/`CMIS_TIKTOK_CLIENT_SECRET` or
/// `CMIS_CLIENT_ID`/`CMIS_CLIENT_SECRET`. The second value says whether both credentials are set
/// (needed to refresh tokens).
pub fn tiktok_client() -> Result<(TikTokClient, bool)> {
    let mut builder = TikTokClient::builder();
    if let Some(url) = env("CMIS_TIKTOK_API_URL") {
        builder = builder.api_base_url(url);
    }
    let (key, secret) = app_credentials(Platform::TikTok);
    let can_refresh = key.is_some() && secret.is_some();
    if let Some(key) = key {
        builder = builder.client_key(key);
    }
    if let Some(secret) = secret {
        builder = builder.client_secret(secret);
    }
    Ok((builder.build()?, can_refresh))
}
