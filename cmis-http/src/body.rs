//! Reading response bodies with a size cap, so that a server (or a proxy in front of it) that
//! answers with a huge or endless body costs an error instead of the process's memory.
//!
//! Every body is read through [`read_answer`], [`read_body`] or [`read_body_prefix`]: there is
//! no unbounded read. The caps are per purpose; media downloads have their own
//! ([`MediaFetcher`](crate::MediaFetcher)).

use cmis_core::{Error, ErrorKind};

use crate::{Call, classify};

/// The cap on a platform API's JSON answer (Meta Graph, TikTok v2): 8 MiB.
///
/// The largest answers cmis asks for are Graph list pages (at most 100 entries) and upload
/// sessions, all well under 1 MiB; the cap leaves room for an unusually rich page while keeping
/// a runaway body from costing more than a few MiB per concurrent call.
pub const MAX_API_RESPONSE_BYTES: usize = 8 << 20;

/// The cap on an OAuth token endpoint's answer: 64 KiB.
///
/// A token answer is a token, a refresh token, a lifetime, ids and a scope list: under 2 KiB.
/// The cap leaves room for long scope lists and signed tokens, no more.
pub const MAX_OAUTH_RESPONSE_BYTES: usize = 64 << 10;

/// The cap on an AI provider's answer: 2 MiB.
///
/// A completion is bounded by its output token budget: even 32 000 tokens of JSON-escaped text
/// with the provider's metadata stays under 256 KiB. A base URL pointing at something that is
/// not a completion endpoint (a streaming proxy, a file server) is stopped early.
pub const MAX_AI_RESPONSE_BYTES: usize = 2 << 20;

/// How much of an error answer (an HTTP status outside 2xx) is kept: 64 KiB.
///
/// Platforms' error JSON is well under 4 KiB. A longer error body (a proxy's HTML page) is
/// truncated rather than refused: the status alone still classifies it, and a rate limit or an
/// outage must not turn into a different error because its page was large.
pub const MAX_ERROR_BODY_BYTES: usize = 64 << 10;

/// Reads a response's body the way every connector does: a success answer (2xx) up to `max`
/// bytes, failing beyond it ([`read_body`]); any other answer up to [`MAX_ERROR_BODY_BYTES`],
/// truncated beyond it ([`read_body_prefix`]), since only the platform's error code is wanted.
///
/// `what` names the call in the error message (`"the TikTok call /v2/post/publish/video/init/"`);
/// it must hold no URL, query or token.
pub async fn read_answer(
    response: reqwest::Response,
    call: Call,
    what: &str,
    max: usize,
) -> Result<Vec<u8>, Error> {
    if response.status().is_success() {
        read_body(response, call, what, max).await
    } else {
        read_body_prefix(response, call, MAX_ERROR_BODY_BYTES).await
    }
}

/// Reads a response's body, failing as soon as it is longer than `max` bytes: at once when
/// `Content-Length` says so, otherwise while streaming, so that at most `max` bytes plus one
/// network chunk are ever held (the buffer itself never grows past `max`).
///
/// A transport failure is classified for `call` (a body cut off after a mutation was accepted is
/// an unknown outcome). A body over the cap is
/// [`Transient`](cmis_core::ErrorKind::Transient) after a read (nothing was done; a broken proxy
/// may recover) and [`UnknownOutcome`](cmis_core::ErrorKind::UnknownOutcome) after a mutation
/// (the platform answered, so it may have acted). `what` names the call in the message; it must
/// hold no URL, query or token.
pub async fn read_body(
    mut response: reqwest::Response,
    call: Call,
    what: &str,
    max: usize,
) -> Result<Vec<u8>, Error> {
    let announced = response.content_length();
    if announced.is_some_and(|len| len > as_u64(max)) {
        return Err(too_large(call, what, max));
    }
    // Trust the announced length for the first allocation only: it is already known to fit.
    let hint = announced.and_then(|len| usize::try_from(len).ok());
    let mut body = Vec::with_capacity(hint.unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, call))? {
        if chunk.len() > max.saturating_sub(body.len()) {
            return Err(too_large(call, what, max));
        }
        append(&mut body, &chunk, max);
    }
    Ok(body)
}

/// Reads at most the first `max` bytes of a response's body and stops there, dropping the rest
/// unread (the connection is closed rather than drained). For error answers, whose first bytes
/// are all that is parsed.
pub async fn read_body_prefix(
    mut response: reqwest::Response,
    call: Call,
    max: usize,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(e, call))? {
        let room = max.saturating_sub(body.len());
        append(&mut body, chunk.get(..room).unwrap_or(&chunk), max);
        if body.len() >= max {
            break;
        }
    }
    Ok(body)
}

/// Appends `bytes` (which fit under `max`), growing `body` by doubling as `Vec` would, but
/// never past `max`: a body just under the cap must not hold twice the cap.
fn append(body: &mut Vec<u8>, bytes: &[u8], max: usize) {
    let needed = body.len() + bytes.len();
    if needed > body.capacity() {
        let target = needed.max(body.capacity().saturating_mul(2)).min(max);
        body.reserve_exact(target.max(needed) - body.len());
    }
    body.extend_from_slice(bytes);
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn too_large(call: Call, what: &str, max: usize) -> Error {
    let message = format!("the response to {what} was larger than {max} bytes; it was not read");
    match call {
        Call::Read => Error::new(ErrorKind::Transient, message),
        Call::Mutation => Error::new(
            ErrorKind::UnknownOutcome,
            format!("{message}, and the platform may have acted on the request"),
        ),
    }
}
