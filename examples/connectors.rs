//! The connectors the command-line examples use, configured from the environment.

use cmis::linkedin::LinkedInClient;
use cmis::meta::{MetaClient, ThreadsClient};
use cmis::tiktok::TikTokClient;
use cmis::youtube::YouTubeClient;
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

/// A Threads client: `CMIS_THREADS_URL` (`https://graph.threads.net` by default; the library
/// appends `/v1.0/…`) and the Threads app's credentials from
/// `CMIS_THREADS_APP_ID`/`CMIS_THREADS_APP_SECRET` (or `CMIS_CLIENT_ID`/`CMIS_CLIENT_SECRET`):
/// not the Facebook app's.
pub fn threads_client() -> Result<ThreadsClient> {
    let mut builder = ThreadsClient::builder();
    if let Some(url) = env("CMIS_THREADS_URL") {
        builder = builder.url(url);
    }
    let (app_id, app_secret) = app_credentials(Platform::Threads);
    if let Some(id) = app_id {
        builder = builder.app_id(id);
    }
    if let Some(secret) = app_secret {
        builder = builder.app_secret(secret);
    }
    builder.build()
}

/// A LinkedIn client: `CMIS_LINKEDIN_API_URL` (`https://api.linkedin.com` by default; the
/// library appends `/rest/…`), `CMIS_LINKEDIN_TOKEN_URL`
/// (`https://www.linkedin.com/oauth/v2/accessToken` by default), `CMIS_LINKEDIN_VERSION` (the
/// `LinkedIn-Version`, `YYYYMM`; the library's default when unset) and the app credentials from
/// `CMIS_LINKEDIN_CLIENT_ID`/`CMIS_LINKEDIN_CLIENT_SECRET` (or `CMIS_CLIENT_ID`/
/// `CMIS_CLIENT_SECRET`). The second value says whether both credentials are set (needed to
/// refresh).
pub fn linkedin_client() -> Result<(LinkedInClient, bool)> {
    let mut builder = LinkedInClient::builder();
    if let Some(url) = env("CMIS_LINKEDIN_API_URL") {
        builder = builder.api_url(url);
    }
    if let Some(url) = env("CMIS_LINKEDIN_TOKEN_URL") {
        builder = builder.token_url(url);
    }
    if let Some(version) = env("CMIS_LINKEDIN_VERSION") {
        builder = builder.version(version.parse()?);
    }
    let (id, secret) = app_credentials(Platform::LinkedIn);
    let both = id.is_some() && secret.is_some();
    if let Some(id) = id {
        builder = builder.client_id(id);
    }
    if let Some(secret) = secret {
        builder = builder.client_secret(secret);
    }
    let client = builder.build()?;
    if let Some(warning) = client
        .version()
        .sunset_warning(cmis::time::OffsetDateTime::now_utc())
    {
        eprintln!("warning: {warning}");
    }
    Ok((client, both))
}

/// A YouTube client: `CMIS_YOUTUBE_API_URL` (`https://www.googleapis.com` by default, for
/// `/youtube/v3/…` and `/upload/youtube/v3/…`), `CMIS_GOOGLE_TOKEN_URL`
/// (`https://oauth2.googleapis.com/token` by default) and the app credentials from
/// `CMIS_GOOGLE_CLIENT_ID`/`CMIS_GOOGLE_CLIENT_SECRET` (or `CMIS_CLIENT_ID`/
/// `CMIS_CLIENT_SECRET`). The second value says whether both credentials are set (needed to
/// refresh).
pub fn youtube_client() -> Result<(YouTubeClient, bool)> {
    let mut builder = YouTubeClient::builder();
    if let Some(url) = env("CMIS_YOUTUBE_API_URL") {
        builder = builder.api_url(url);
    }
    if let Some(url) = env("CMIS_GOOGLE_TOKEN_URL") {
        builder = builder.token_url(url);
    }
    let (id, secret) = app_credentials(Platform::YouTube);
    let both = id.is_some() && secret.is_some();
    if let Some(id) = id {
        builder = builder.client_id(id);
    }
    if let Some(secret) = secret {
        builder = builder.client_secret(secret);
    }
    Ok((builder.build()?, both))
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

/// A Bluesky account ready to publish as: the client on its PDS, its DID (or the handle when
/// the DID is not known), and its credential.
#[derive(Debug)]
pub struct BlueskyAccount {
    /// The client, on the account's PDS.
    pub client: cmis::bluesky::BlueskyClient,
    /// The repository to write to: the DID, else the handle as given.
    pub repo: String,
    /// The session's tokens.
    pub credential: cmis::Credential,
    /// The refresher for those tokens.
    pub refresher: cmis::bluesky::BlueskyRefresher,
}

/// Signs in to Bluesky as `account` (a handle or DID). The PDS is `CMIS_BLUESKY_PDS_URL` when
/// set (used as is, and as the entryway that resolves handles), else found from the handle or
/// DID. With `CMIS_BLUESKY_APP_PASSWORD` a session is created (and made again if its refresh
/// token is refused); else `CMIS_ACCESS_TOKEN` and `CMIS_REFRESH_TOKEN` (accessJwt, refreshJwt)
/// are used as they are.
pub async fn bluesky_account(tenant: &cmis::TenantId, account: &str) -> Result<BlueskyAccount> {
    use cmis::bluesky::{BlueskyClient, BlueskyPublisher, BlueskyRefresher, IdentityResolver};
    use cmis::{AccountRef, Credential, Error};

    use crate::cli::env_secret;

    let account = account.trim().trim_start_matches('@');
    let video = env("CMIS_BLUESKY_VIDEO_URL")
        .unwrap_or_else(|| cmis::bluesky::DEFAULT_VIDEO_SERVICE_URL.to_owned());
    let (client, did) = match env("CMIS_BLUESKY_PDS_URL") {
        Some(pds) => {
            let client = BlueskyClient::builder()
                .pds_url(pds)
                .video_service_url(video)
                .build()?;
            let did = if account.starts_with("did:") {
                Some(account.to_owned())
            } else {
                BlueskyPublisher::new(client.clone())
                    .resolve_handle(account)
                    .await?
            };
            (client, did)
        }
        None => {
            let resolver = IdentityResolver::builder().build()?;
            let identity = resolver.resolve(account).await?;
            // The PDS came from a document anyone can write: connect to public hosts only.
            let client = BlueskyClient::builder()
                .pds_url(identity.pds.as_str())
                .video_service_url(video)
                .url_policy(resolver.url_policy().clone())
                .build()?;
            (client, Some(identity.did))
        }
    };
    if let Some(password) = env_secret("CMIS_BLUESKY_APP_PASSWORD") {
        let session = client
            .create_session(did.as_deref().unwrap_or(account), &password)
            .await?;
        return Ok(BlueskyAccount {
            repo: session.did.clone(),
            credential: session.credential(tenant),
            refresher: BlueskyRefresher::new(client.clone()).with_app_password(password),
            client,
        });
    }
    let access = env_secret("CMIS_ACCESS_TOKEN").ok_or_else(|| {
        Error::invalid_input(
            "set CMIS_BLUESKY_APP_PASSWORD (an app password), or CMIS_ACCESS_TOKEN and \
             CMIS_REFRESH_TOKEN (a session's accessJwt and refreshJwt)",
        )
    })?;
    let repo = did.unwrap_or_else(|| account.to_owned());
    let mut credential = Credential::new(
        AccountRef::new(tenant.clone(), Platform::Bluesky, repo.as_str()),
        access,
    );
    if let Some(refresh) = env_secret("CMIS_REFRESH_TOKEN") {
        credential = credential.with_refresh_token(refresh);
    }
    Ok(BlueskyAccount {
        refresher: BlueskyRefresher::new(client.clone()),
        client,
        repo,
        credential,
    })
}

/// A Bluesky client on `CMIS_BLUESKY_PDS_URL`, or on `https://bsky.social`, the entryway that
/// serves the accounts Bluesky hosts; videos go to `CMIS_BLUESKY_VIDEO_URL` (Bluesky's video
/// service by default).
pub fn bluesky_client() -> Result<cmis::bluesky::BlueskyClient> {
    let mut builder = cmis::bluesky::BlueskyClient::builder();
    if let Some(pds) = env("CMIS_BLUESKY_PDS_URL") {
        builder = builder.pds_url(pds);
    }
    if let Some(video) = env("CMIS_BLUESKY_VIDEO_URL") {
        builder = builder.video_service_url(video);
    }
    builder.build()
}
