//! The fake Bluesky video service and the PDS methods it needs: `describeServer`,
//! `getServiceAuth`, `app.bsky.video.uploadVideo`, `getJobStatus` and `getUploadLimits`
//! (docs/bluesky-api.md §5.3, the atproto lexicons, docs.bsky.app "Uploading Video"), driven with
//! a plain HTTP client: no connector is involved.

mod bluesky_common;

use std::time::Duration;

use bluesky_common::*;
use cmis_sandbox::{
    BlueskyAccount, BlueskyVideoConfig, BlueskyVideoEndpoint, BlueskyVideoFailure, Fault, Sandbox,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const UPLOAD_BLOB: &str = "com.atproto.repo.uploadBlob";
const LIMITS: &str = "app.bsky.video.getUploadLimits";

async fn video_sandbox(config: BlueskyVideoConfig) -> Sandbox {
    let s = Sandbox::builder()
        .bluesky_video(config)
        .start()
        .await
        .unwrap();
    s.bluesky()
        .add_account(BlueskyAccount::new(HANDLE, DID, APP_PASSWORD));
    s.bluesky().add_account(BlueskyAccount::new(
        "bob.example.com",
        BOB_DID,
        "bbbb-bbbb-bbbb-bbbb",
    ));
    s
}

/// A small MP4-shaped file: an `ftyp` box, then an `mdat` box of `len` bytes of `fill`.
fn mp4(fill: u8, len: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    v.extend_from_slice(&u32::try_from(len + 8).unwrap().to_be_bytes());
    v.extend_from_slice(b"mdat");
    v.extend(std::iter::repeat_n(fill, len));
    v
}

/// `getServiceAuth` as `who`, with these parameters.
async fn service_auth(s: &Sandbox, who: &str, params: &[(&str, String)]) -> Answer {
    let token = access(s, who);
    answer(
        http()
            .get(format!(
                "{}/xrpc/com.atproto.server.getServiceAuth",
                s.bluesky().url()
            ))
            .bearer_auth(token)
            .query(params),
    )
    .await
}

/// A service token of `who` for `aud` and `lxm`, valid 30 minutes (the tutorial's choice).
async fn service_token(s: &Sandbox, who: &str, aud: &str, lxm: &str) -> String {
    let exp = (s.bluesky().unix_time() + 1800).to_string();
    let a = service_auth(
        s,
        who,
        &[("aud", aud.into()), ("lxm", lxm.into()), ("exp", exp)],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["token"].as_str().unwrap().to_owned()
}

/// The tutorial's upload token: audience the PDS, scope `uploadBlob`.
async fn upload_token(s: &Sandbox, who: &str) -> String {
    service_token(s, who, &s.bluesky().service_did(), UPLOAD_BLOB).await
}

async fn upload_video(
    s: &Sandbox,
    token: Option<&str>,
    did: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> Answer {
    let mut r = http()
        .post(format!(
            "{}/xrpc/app.bsky.video.uploadVideo",
            s.bluesky_video().url()
        ))
        .query(&[("did", did), ("name", "clip.mp4")])
        .header("content-type", mime)
        .body(bytes);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    answer(r).await
}

async fn job_status(s: &Sandbox, job_id: &str) -> Answer {
    answer(
        http()
            .get(format!(
                "{}/xrpc/app.bsky.video.getJobStatus",
                s.bluesky_video().url()
            ))
            .query(&[("jobId", job_id)]),
    )
    .await
}

async fn upload_limits(s: &Sandbox, token: &str) -> Answer {
    answer(
        http()
            .get(format!(
                "{}/xrpc/app.bsky.video.getUploadLimits",
                s.bluesky_video().url()
            ))
            .bearer_auth(token),
    )
    .await
}

/// Uploads `bytes` as `DID` and lets processing finish; returns the finished `jobStatus`.
async fn processed(s: &Sandbox, bytes: Vec<u8>) -> Value {
    let token = upload_token(s, DID).await;
    let up = upload_video(s, Some(&token), DID, "video/mp4", bytes).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    s.bluesky_video().advance_clock(Duration::from_secs(3));
    let id = up.body["jobStatus"]["jobId"].as_str().unwrap();
    job_status(s, id).await.body["jobStatus"].clone()
}

fn refused(a: &Answer, status: StatusCode, error: &str) {
    assert_eq!((a.status, a.error().0), (status, error), "{}", a.body);
}

#[tokio::test]
async fn describe_server_names_the_pds_did_and_its_handle_domains() {
    let s = sandbox().await;
    let a = query(&s, "com.atproto.server.describeServer", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["did"], s.bluesky().service_did());
    assert_eq!(a.body["availableUserDomains"], json!([".bsky.social"]));
}

#[tokio::test]
async fn service_tokens_carry_the_requested_claims_and_bounded_expiry() {
    let s = sandbox().await;
    let pds_did = s.bluesky().service_did();
    let now = s.bluesky().unix_time();
    let exp = now + 1800;
    let a = service_auth(
        &s,
        DID,
        &[
            ("aud", pds_did.clone()),
            ("lxm", UPLOAD_BLOB.into()),
            ("exp", exp.to_string()),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let (header, payload) = claims(a.body["token"].as_str().unwrap());
    assert_eq!(header["typ"], "JWT");
    assert_eq!(payload["iss"], DID);
    assert_eq!(payload["aud"], pds_did);
    assert_eq!(payload["lxm"], UPLOAD_BLOB);
    assert_eq!(payload["exp"], exp);
    // Without `exp`, 60 seconds.
    let a = service_auth(&s, DID, &[("aud", pds_did.clone()), ("lxm", LIMITS.into())]).await;
    let exp = claims(a.body["token"].as_str().unwrap()).1["exp"]
        .as_i64()
        .unwrap();
    assert!((now + 59..=now + 61).contains(&exp), "{exp} vs {now}");

    // Bounds: not in the past, at most an hour, a minute without a method.
    for (exp, lxm) in [
        (now - 5, Some(UPLOAD_BLOB)),
        (now + 7200, Some(UPLOAD_BLOB)),
        (now + 600, None),
    ] {
        let mut params = vec![("aud", pds_did.clone()), ("exp", exp.to_string())];
        if let Some(l) = lxm {
            params.push(("lxm", l.into()));
        }
        refused(
            &service_auth(&s, DID, &params).await,
            StatusCode::BAD_REQUEST,
            "BadExpiration",
        );
    }
    refused(
        &service_auth(&s, DID, &[("lxm", UPLOAD_BLOB.into())]).await,
        StatusCode::BAD_REQUEST,
        "InvalidRequest",
    );
    // The access JWT is required.
    let a = answer(http().get(format!(
        "{}/xrpc/com.atproto.server.getServiceAuth?aud={pds_did}",
        s.bluesky().url()
    )))
    .await;
    refused(&a, StatusCode::UNAUTHORIZED, "AuthMissing");
}

#[tokio::test]
async fn an_uploaded_video_is_processed_into_a_blob_a_post_can_embed() {
    let s = sandbox().await;
    let token = upload_token(&s, DID).await;
    let bytes = mp4(7, 4000);
    let size = bytes.len();
    let up = upload_video(&s, Some(&token), DID, "video/mp4", bytes).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    // The lexicon's shape: the job status is wrapped in `jobStatus`.
    let status = &up.body["jobStatus"];
    assert_eq!(status["state"], "JOB_STATE_CREATED");
    assert_eq!(status["did"], DID);
    assert!(status.get("blob").is_none());
    let id = status["jobId"].as_str().unwrap().to_owned();

    let video = s.bluesky_video();
    video.advance_clock(Duration::from_secs(1));
    let encoding = job_status(&s, &id).await.body["jobStatus"].clone();
    assert_eq!(encoding["state"], "JOB_STATE_ENCODING", "{encoding}");
    let progress = encoding["progress"].as_u64().unwrap();
    assert!((40..=60).contains(&progress), "{progress}");
    assert!(s.bluesky().blobs(DID).is_empty(), "not on the PDS yet");

    video.advance_clock(Duration::from_secs(2));
    let done = job_status(&s, &id).await;
    assert_eq!(done.status, StatusCode::OK);
    let done = &done.body["jobStatus"];
    assert_eq!(done["state"], "JOB_STATE_COMPLETED", "{done}");
    let blob = done["blob"].clone();
    assert_eq!(blob["$type"], "blob");
    assert_eq!(blob["mimeType"], "video/mp4");
    assert_eq!(blob["size"], size);
    let cid = blob["ref"]["$link"].as_str().unwrap();
    assert!(cid.starts_with("bafkrei"), "{cid}");

    let stored = s.bluesky().blobs(DID);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].cid.as_str(), stored[0].mime_type.as_str()),
        (cid, "video/mp4")
    );
    let jobs = video.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id, id);
    assert_eq!(jobs[0].state, "JOB_STATE_COMPLETED");
    assert_eq!(jobs[0].blob_cid.as_deref(), Some(cid));
    assert_eq!(jobs[0].name.as_deref(), Some("clip.mp4"));
    assert_eq!(jobs[0].size, u64::try_from(size).unwrap());

    let mut record = post_record("a clip");
    record["embed"] = json!({"$type": "app.bsky.embed.video", "video": blob, "alt": "a clip",
                             "aspectRatio": {"width": 16, "height": 9}});
    let created = create(&s, &access(&s, DID), None, record).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(s.bluesky().blobs(DID)[0].referenced);
    let posts = s.bluesky().posts(DID);
    assert_eq!(
        posts[0].embed_type().as_deref(),
        Some("app.bsky.embed.video")
    );
}

#[tokio::test]
async fn uploads_need_the_pds_token_of_the_uploader_bound_to_upload_blob() {
    let s = sandbox().await;
    let pds_did = s.bluesky().service_did();
    let video_did = s.bluesky_video().service_did();
    let up = |token: Option<String>, did: &'static str| {
        let s = &s;
        async move { upload_video(s, token.as_deref(), did, "video/mp4", mp4(1, 100)).await }
    };
    refused(
        &up(None, DID).await,
        StatusCode::UNAUTHORIZED,
        "AuthMissing",
    );
    // The session's access JWT is not a service token.
    let session = access(&s, DID);
    refused(
        &up(Some(session), DID).await,
        StatusCode::UNAUTHORIZED,
        "BadJwtSignature",
    );
    let wrong_aud = service_token(&s, DID, &video_did, UPLOAD_BLOB).await;
    refused(
        &up(Some(wrong_aud), DID).await,
        StatusCode::UNAUTHORIZED,
        "BadJwtAudience",
    );
    let wrong_lxm = service_token(&s, DID, &pds_did, LIMITS).await;
    refused(
        &up(Some(wrong_lxm), DID).await,
        StatusCode::UNAUTHORIZED,
        "BadJwtLexiconMethod",
    );
    // Bob's token does not upload for Alice.
    let bobs = upload_token(&s, BOB_DID).await;
    refused(
        &up(Some(bobs), DID).await,
        StatusCode::UNAUTHORIZED,
        "BadJwtIssuer",
    );
    // A 60-second token expires.
    let a = service_auth(&s, DID, &[("aud", pds_did), ("lxm", UPLOAD_BLOB.into())]).await;
    let short = a.body["token"].as_str().unwrap().to_owned();
    s.bluesky().advance_clock(Duration::from_secs(61));
    refused(
        &up(Some(short), DID).await,
        StatusCode::UNAUTHORIZED,
        "JwtExpired",
    );
    assert!(s.bluesky_video().jobs().is_empty());
}

#[tokio::test]
async fn only_mp4s_within_the_size_limit_are_accepted() {
    let mut config = BlueskyVideoConfig::default();
    config.max_video_bytes = 10_000;
    let s = video_sandbox(config).await;
    let token = upload_token(&s, DID).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let a = upload_video(&s, Some(&token), DID, "video/mp4", png.clone()).await;
    refused(&a, StatusCode::BAD_REQUEST, "InvalidRequest");
    assert!(a.error().1.contains("MP4"), "{}", a.body);
    let a = upload_video(&s, Some(&token), DID, "image/png", png).await;
    refused(&a, StatusCode::BAD_REQUEST, "InvalidRequest");
    let a = upload_video(&s, Some(&token), DID, "video/mp4", mp4(2, 20_000)).await;
    refused(&a, StatusCode::BAD_REQUEST, "VideoTooLarge");
    assert!(s.bluesky_video().jobs().is_empty());
    let a = upload_video(&s, Some(&token), DID, "video/mp4", mp4(2, 9_000)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn the_same_video_again_is_already_exists_with_the_earlier_blob() {
    let s = sandbox().await;
    let first = processed(&s, mp4(3, 500)).await;
    assert_eq!(first["state"], "JOB_STATE_COMPLETED");
    let token = upload_token(&s, DID).await;
    let again = upload_video(&s, Some(&token), DID, "video/mp4", mp4(3, 500)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let status = &again.body["jobStatus"];
    // As the tutorial warns: an error, `already_exists`, and the blob all the same.
    assert_eq!(status["state"], "JOB_STATE_FAILED");
    assert_eq!(status["error"], "already_exists");
    assert_eq!(status["blob"], first["blob"]);
    let polled = job_status(&s, status["jobId"].as_str().unwrap()).await;
    assert_eq!(polled.body["jobStatus"]["blob"], first["blob"]);
    assert_eq!(polled.body["jobStatus"]["error"], "already_exists");
    assert_eq!(s.bluesky().blobs(DID).len(), 1);
    // The blob is usable.
    let mut record = post_record("again");
    record["embed"] = json!({"$type": "app.bsky.embed.video", "video": status["blob"]});
    assert_eq!(
        create(&s, &access(&s, DID), None, record).await.status,
        StatusCode::OK
    );
    // Another account's upload of the same bytes is processed on its own.
    let bobs = upload_token(&s, BOB_DID).await;
    let b = upload_video(&s, Some(&bobs), BOB_DID, "video/mp4", mp4(3, 500)).await;
    assert_eq!(b.body["jobStatus"]["state"], "JOB_STATE_CREATED");
}

#[tokio::test]
async fn a_failed_job_has_the_failure_code_and_no_blob() {
    let s = sandbox().await;
    s.bluesky_video()
        .fail_next_video(BlueskyVideoFailure::Encoding);
    let failed = processed(&s, mp4(4, 500)).await;
    assert_eq!(failed["state"], "JOB_STATE_FAILED", "{failed}");
    assert_eq!(failed["error"], "encoding_failure");
    assert_eq!(failed["failureCode"], "encoding_failure");
    assert!(failed.get("blob").is_none());
    assert!(s.bluesky().blobs(DID).is_empty());
    let job = s
        .bluesky_video()
        .job(failed["jobId"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        (job.error.as_deref(), job.blob_cid),
        (Some("encoding_failure"), None)
    );
    // The same bytes after a failure are processed again, and the queue is used up.
    let retried = processed(&s, mp4(4, 500)).await;
    assert_eq!(retried["state"], "JOB_STATE_COMPLETED", "{retried}");
    // An unknown job.
    refused(
        &job_status(&s, "nope").await,
        StatusCode::BAD_REQUEST,
        "InvalidRequest",
    );
}

#[tokio::test]
async fn upload_limits_count_the_days_videos_and_bytes() {
    let mut config = BlueskyVideoConfig::default();
    config.daily_videos = 2;
    let s = video_sandbox(config).await;
    let video_did = s.bluesky_video().service_did();
    let limits_token = service_token(&s, DID, &video_did, LIMITS).await;
    let a = upload_limits(&s, &limits_token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.body,
        json!({"canUpload": true, "remainingDailyVideos": 2, "remainingDailyBytes": 10_000_000_000u64})
    );
    let bytes = mp4(5, 1000);
    let size = u64::try_from(bytes.len()).unwrap();
    processed(&s, bytes).await;
    let a = upload_limits(&s, &limits_token).await;
    assert_eq!(a.body["remainingDailyVideos"], 1);
    assert_eq!(a.body["remainingDailyBytes"], 10_000_000_000 - size);
    processed(&s, mp4(6, 1000)).await;
    let a = upload_limits(&s, &limits_token).await;
    assert_eq!(
        (
            a.body["canUpload"].clone(),
            a.body["remainingDailyVideos"].clone()
        ),
        (json!(false), json!(0))
    );
    let token = upload_token(&s, DID).await;
    let a = upload_video(&s, Some(&token), DID, "video/mp4", mp4(8, 10)).await;
    refused(&a, StatusCode::BAD_REQUEST, "DailyLimitExceeded");
    // A day later the caps are back.
    s.bluesky().advance_clock(Duration::from_secs(86_400));
    let fresh = service_token(&s, DID, &video_did, LIMITS).await;
    assert_eq!(
        upload_limits(&s, &fresh).await.body["remainingDailyVideos"],
        2
    );
    // A token for the PDS is not one for the video service.
    let pds_token = service_token(&s, DID, &s.bluesky().service_did(), LIMITS).await;
    refused(
        &upload_limits(&s, &pds_token).await,
        StatusCode::UNAUTHORIZED,
        "BadJwtAudience",
    );
}

#[tokio::test]
async fn injected_faults_on_the_video_service() {
    let s = sandbox().await;
    let video = s.bluesky_video();
    let token = upload_token(&s, DID).await;
    // A 500 after the job was created: the upload happened.
    video.inject(
        BlueskyVideoEndpoint::UploadVideo,
        Fault::ServerErrorAfterAccept,
        1,
    );
    let a = upload_video(&s, Some(&token), DID, "video/mp4", mp4(9, 100)).await;
    refused(&a, StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError");
    let jobs = video.jobs();
    assert_eq!(jobs.len(), 1);
    // Polling fails once, then answers.
    video.inject(BlueskyVideoEndpoint::GetJobStatus, Fault::ServerError, 1);
    assert_eq!(
        job_status(&s, &jobs[0].job_id).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(job_status(&s, &jobs[0].job_id).await.status, StatusCode::OK);
    // Slow processing keeps a job encoding past the usual time.
    video.inject(
        BlueskyVideoEndpoint::UploadVideo,
        Fault::SlowProcessing(Duration::from_secs(10)),
        1,
    );
    let a = upload_video(&s, Some(&token), DID, "video/mp4", mp4(10, 100)).await;
    let id = a.body["jobStatus"]["jobId"].as_str().unwrap().to_owned();
    video.advance_clock(Duration::from_secs(3));
    assert_eq!(
        job_status(&s, &id).await.body["jobStatus"]["state"],
        "JOB_STATE_ENCODING"
    );
    video.advance_clock(Duration::from_secs(10));
    assert_eq!(
        job_status(&s, &id).await.body["jobStatus"]["state"],
        "JOB_STATE_COMPLETED"
    );
    // An expired token stays expired.
    video.inject(BlueskyVideoEndpoint::UploadVideo, Fault::ExpiredToken, 1);
    for _ in 0..2 {
        let a = upload_video(&s, Some(&token), DID, "video/mp4", mp4(11, 100)).await;
        refused(&a, StatusCode::UNAUTHORIZED, "JwtExpired");
    }
    assert_eq!(BlueskyVideoEndpoint::ALL.len(), 3);
    video.set_fault_rate(
        1.0,
        7,
        vec![Fault::RateLimited],
        vec![BlueskyVideoEndpoint::GetJobStatus],
    );
    refused(
        &job_status(&s, &id).await,
        StatusCode::TOO_MANY_REQUESTS,
        "RateLimitExceeded",
    );
    video.clear_faults();
    assert_eq!(job_status(&s, &id).await.status, StatusCode::OK);
}
