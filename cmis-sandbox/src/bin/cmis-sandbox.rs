//! Runs the sandbox platforms until interrupted, printing their URLs and a seeded TikTok
//! creator's tokens as one JSON line.

#![allow(clippy::print_stdout)]

use cmis_core::ExposeSecret;
use cmis_sandbox::{Creator, Sandbox};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let tiktok = sandbox.tiktok();
    tiktok.add_creator(Creator::public("sandbox-creator"));
    let tokens = tiktok.issue_tokens(
        "sandbox-creator",
        &["user.info.basic", "video.publish", "video.upload"],
    );
    println!(
        "{}",
        serde_json::json!({
            "tiktok_url": tiktok.url(),
            "tiktok_client_key": tiktok.client_key(),
            "tiktok_client_secret": tiktok.client_secret().expose_secret(),
            "tiktok_open_id": tokens.open_id,
            "tiktok_access_token": tokens.access_token.expose_secret(),
            "tiktok_refresh_token": tokens.refresh_token.expose_secret(),
        })
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
