//! Generate post copy with the AI providers whose keys are set, falling back to the offline
//! generator, and print one JSON line per generation.
//!
//! ```text
//! cargo run -q --example generate -- --platform instagram|facebook|tiktok --topic TEXT [--variants N] [--repeat N]
//! ```
//!
//! Providers, in this order, when their key is set: OpenAI (`OPENAI_API_KEY`, base URL
//! `CMIS_OPENAI_BASE_URL`), Anthropic (`ANTHROPIC_API_KEY`, `CMIS_ANTHROPIC_BASE_URL`), Gemini
//! (`GEMINI_API_KEY`, `CMIS_GEMINI_BASE_URL`); the offline generator always comes last, so the
//! example works with no key and no network. `--repeat N` asks the same thing N times in one
//! process: the second and later answers come from the cache (`"cached":true`).
//!
//! Bad arguments print a message on stderr and exit with code 2.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use cmis::ai::{AiGenerator, AnthropicClient, GeminiClient, OpenAiClient};
use cmis::{ContentGenerator, Error, GenerateRequest, GenerationTask, Platform};
use cmis_examples::cli::{env, env_secret, fail, usage_error};

const USAGE: &str =
    "usage: generate --platform instagram|facebook|tiktok --topic TEXT [--variants N] [--repeat N]";

struct Args {
    platform: Platform,
    topic: String,
    variants: u32,
    repeat: u32,
}

fn number(parser: &mut lexopt::Parser, what: &str, max: u32) -> Result<u32, Error> {
    let raw = parser
        .value()
        .map_err(|e| usage_error(e, USAGE))?
        .into_string()
        .map_err(|_| Error::invalid_input(format!("{what} must be a number\n{USAGE}")))?;
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(Error::invalid_input(format!(
            "{what} must be a whole number from 1 to {max}, not {raw:?}\n{USAGE}"
        ))),
    }
}

/// Parses the arguments; `Ok(None)` means `--help` was shown.
fn parse() -> Result<Option<Args>, Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let (mut platform, mut topic, mut variants, mut repeat) = (None, None, 1, 1);
    while let Some(arg) = parser.next().map_err(|e| usage_error(e, USAGE))? {
        match arg {
            Long("platform") => {
                let raw = parser.value().map_err(|e| usage_error(e, USAGE))?;
                let raw = raw.string().map_err(|e| usage_error(e, USAGE))?;
                platform = Some(raw.parse::<Platform>()?);
            }
            Long("topic") => {
                let raw = parser.value().map_err(|e| usage_error(e, USAGE))?;
                topic = Some(raw.string().map_err(|e| usage_error(e, USAGE))?);
            }
            Long("variants") => {
                variants = number(&mut parser, "--variants", cmis::ai::MAX_VARIANTS)?
            }
            Long("repeat") => repeat = number(&mut parser, "--repeat", 1000)?,
            Short('h') | Long("help") => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(usage_error(other.unexpected(), USAGE)),
        }
    }
    let platform =
        platform.ok_or_else(|| Error::invalid_input(format!("--platform is required\n{USAGE}")))?;
    let topic = topic
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Error::invalid_input(format!("--topic is required\n{USAGE}")))?;
    Ok(Some(Args {
        platform,
        topic,
        variants,
        repeat,
    }))
}

/// The chain from the environment: every provider whose key is set, in the documented order.
fn generator() -> Result<AiGenerator, Error> {
    let mut builder = AiGenerator::builder();
    if let Some(key) = env_secret("OPENAI_API_KEY") {
        let mut client = OpenAiClient::builder().api_key(key);
        if let Some(url) = env("CMIS_OPENAI_BASE_URL") {
            client = client.base_url(url);
        }
        builder = builder.provider(client.build()?);
    }
    if let Some(key) = env_secret("ANTHROPIC_API_KEY") {
        let mut client = AnthropicClient::builder(key);
        if let Some(url) = env("CMIS_ANTHROPIC_BASE_URL") {
            client = client.base_url(url);
        }
        builder = builder.provider(client.build()?);
    }
    if let Some(key) = env_secret("GEMINI_API_KEY") {
        let mut client = GeminiClient::builder(key);
        if let Some(url) = env("CMIS_GEMINI_BASE_URL") {
            client = client.base_url(url);
        }
        builder = builder.provider(client.build()?);
    }
    builder.build()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(err) => return fail(&err),
    };
    let generator = match generator() {
        Ok(g) => g,
        Err(err) => return fail(&err),
    };
    let task = if args.variants > 1 {
        GenerationTask::Variants
    } else {
        GenerationTask::Caption
    };
    let request = GenerateRequest::new(
        cmis::TenantId::new("example"),
        task,
        args.platform,
        args.topic,
    )
    .with_variants(args.variants);
    for _ in 0..args.repeat {
        match generator.generate(&request).await {
            Ok(out) => {
                let p = &out.provenance;
                let line = serde_json::json!({
                    "text": out.text,
                    "hashtags": out.hashtags,
                    "variants": out.variants,
                    "provider": p.provider,
                    "model": p.model,
                    "cached": p.cached,
                    "attempts": p.attempts,
                    "latency_ms": u64::try_from(p.latency.as_millis()).unwrap_or(u64::MAX),
                    "request_id": p.request_id,
                    "cost_usd": p.cost_usd,
                });
                println!("{line}");
            }
            Err(err) => return fail(&err),
        }
    }
    ExitCode::SUCCESS
}
