//! Uploads a 1 GiB video through the whole Direct Post flow to a local server that discards the
//! bytes, and reports how much the process's peak resident memory grew. The uploader reads one
//! chunk at a time, so the growth must stay within a few chunks (10 MiB each), not the file size.
//!
//! Run with `cargo bench -p cmis-tiktok --bench upload_memory` (Linux: reads `VmHWM` from
//! `/proc/self/status`). It exits with an error if the growth exceeds 8 chunks.

use std::sync::Arc;
use std::time::Instant;

use cmis_core::{
    AccountRef, Credential, CredentialStore, Media, MemoryCredentialStore, Platform, Post,
    PrivacyLevel, PublishContext, Publisher, RefreshingTokenProvider, SecretString, Target,
    TikTokOptions,
};
use cmis_tiktok::{TikTokClient, TikTokPublisher};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const FILE_SIZE: u64 = 1 << 30;
const CHUNK: u64 = cmis_media::DEFAULT_CHUNK_SIZE;

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// One keep-alive connection of a minimal TikTok: answers creator info, init, chunk PUTs
/// (discarding the bytes) and status.
async fn serve(stream: TcpStream, base: String) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut sink = vec![0u8; 64 * 1024];
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let (mut length, mut range_end, mut total) = (0u64, 0u64, 0u64);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if let Some(v) = lower.strip_prefix("content-range: bytes ")
                && let Some((span, t)) = v.split_once('/')
                && let Some((_, end)) = span.split_once('-')
            {
                range_end = end.trim().parse().unwrap_or(0);
                total = t.trim().parse().unwrap_or(0);
            }
        }
        let mut left = length;
        while left > 0 {
            let want = usize::try_from(left.min(sink.len() as u64)).unwrap_or(sink.len());
            let n = reader.read(&mut sink[..want]).await?;
            if n == 0 {
                return Ok(());
            }
            left -= n as u64;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("");
        let (status, body) = if path.starts_with("/upload/") {
            if range_end + 1 == total {
                ("201 Created", String::new())
            } else {
                ("206 Partial Content", String::new())
            }
        } else if path.ends_with("/creator_info/query/") {
            ("200 OK", r#"{"data":{"creator_username":"bench","creator_nickname":"Bench","privacy_level_options":["SELF_ONLY"],"comment_disabled":false,"duet_disabled":false,"stitch_disabled":false,"max_video_post_duration_sec":600},"error":{"code":"ok","message":"","log_id":"b"}}"#.to_owned())
        } else if path.ends_with("/video/init/") {
            (
                "200 OK",
                format!(
                    r#"{{"data":{{"publish_id":"v_pub_file~bench","upload_url":"{base}/upload/?upload_id=1&upload_token=t"}},"error":{{"code":"ok","message":"","log_id":"b"}}}}"#
                ),
            )
        } else {
            ("200 OK", r#"{"data":{"status":"PUBLISH_COMPLETE","publicaly_available_post_id":[]},"error":{"code":"ok","message":"","log_id":"b"}}"#.to_owned())
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        reader.get_mut().write_all(response.as_bytes()).await?;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server_base = base.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, server_base.clone()));
        }
    });

    let dir = std::env::temp_dir().join(format!("cmis-tiktok-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("one-gib.mp4");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path)?;
        // ftyp, a moov whose mvhd says 10 s, then an mdat running to the end of the file.
        f.write_all(b"\0\0\0\x18ftypisom\0\0\x02\0isommp41")?;
        let mut mvhd = [0u8; 100];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        f.write_all(&116u32.to_be_bytes())?;
        f.write_all(b"moov")?;
        f.write_all(&108u32.to_be_bytes())?;
        f.write_all(b"mvhd")?;
        f.write_all(&mvhd)?;
        f.write_all(b"\0\0\0\0mdat")?;
        // Sparse: the bytes are read from disk like any file, without writing 1 GiB first.
        f.set_len(FILE_SIZE)?;
    }

    let account = AccountRef::new(
        cmis_core::TenantId::new("bench"),
        Platform::TikTok,
        "open-id",
    );
    let store = Arc::new(MemoryCredentialStore::new());
    store
        .put_credential(Credential::new(
            account.clone(),
            SecretString::from("act.bench"),
        ))
        .await?;
    let ctx = PublishContext::new(Arc::new(RefreshingTokenProvider::builder(store).build()));
    let publisher = TikTokPublisher::new(TikTokClient::builder().api_base_url(&base).build()?);
    let post = Post::new()
        .with_media(Media::path(&path))
        .with_tiktok(TikTokOptions::new().with_privacy_level(PrivacyLevel::SelfOnly));

    let before = peak_rss_bytes();
    let started = Instant::now();
    let outcome = publisher
        .publish(&Target::feed(account), &post, &ctx)
        .await?;
    let elapsed = started.elapsed();
    let growth = peak_rss_bytes().saturating_sub(before);
    std::fs::remove_dir_all(&dir)?;

    eprintln!(
        "uploaded {FILE_SIZE} bytes in {:.2} s ({outcome:?}); peak RSS grew by {:.1} MiB \
         (chunk size {:.1} MiB)",
        elapsed.as_secs_f64(),
        growth as f64 / 1048576.0,
        CHUNK as f64 / 1048576.0,
    );
    if growth > 8 * CHUNK {
        return Err(format!("peak memory grew by {growth} bytes, more than 8 chunks").into());
    }
    Ok(())
}
