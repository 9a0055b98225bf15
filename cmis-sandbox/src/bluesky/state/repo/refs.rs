//! Strong refs (`{uri, cid}`) of a valid post, checked against the records of this PDS: a ref
//! to a record here must name one that exists, at the CID it has, and a reply's `root` must be the
//! thread's root. A real PDS checks none of this (the AppView later drops or detaches such
//! replies and quotes); the fake refuses them with `InvalidRequest` so a connector's mistakes in
//! building refs show at once. Refs to repositories this PDS does not host are not checked.
//!
//! The root rule is Bluesky's documented recipe (docs.bsky.app, "Posts", Replies): resolve the
//! parent and "copy whatever the root reply reference there is. If none exists, then the parent
//! record was a top-level post, so that parent reference can be reused as the root value".

use super::{Inner, StoredRecord, XrpcError, invalid};
use crate::bluesky::validate::{Checked, POST, StrongRef, parse_at_uri};

/// What a strong ref's URI names.
enum Target<'a> {
    /// A repository this PDS does not host, or no record path: nothing to check.
    Elsewhere,
    /// A record path in a repository here, with no record at it (the URI with the DID).
    Missing(String),
    /// A record here.
    Found(&'a StoredRecord),
}

fn refused(message: String) -> XrpcError {
    invalid(format!("Invalid {POST} record: {message}"))
}

/// The URI with a local account's handle replaced by its DID, so refs compare.
fn normalized(inner: &Inner, uri: &str) -> String {
    match parse_at_uri(uri) {
        Some(p) => {
            let did = inner
                .account(p.authority)
                .map_or(p.authority, |a| a.did.as_str());
            let mut out = format!("at://{did}");
            for part in [p.collection, p.rkey].into_iter().flatten() {
                out.push('/');
                out.push_str(part);
            }
            out
        }
        None => uri.to_owned(),
    }
}

fn target<'a>(inner: &'a Inner, r: &StrongRef) -> Target<'a> {
    let Some(p) = parse_at_uri(&r.uri) else {
        return Target::Elsewhere;
    };
    let (Some(account), Some(collection), Some(rkey)) =
        (inner.account(p.authority), p.collection, p.rkey)
    else {
        return Target::Elsewhere;
    };
    let key = (account.did.clone(), collection.to_owned(), rkey.to_owned());
    match inner.repo.by_key.get(&key) {
        Some(&i) => inner
            .repo
            .records
            .get(i)
            .map_or(Target::Elsewhere, Target::Found),
        None => Target::Missing(format!("at://{}/{collection}/{rkey}", account.did)),
    }
}

/// The record a ref names here, if any, after checking that it exists at the CID given.
fn resolve<'a>(inner: &'a Inner, r: &StrongRef) -> Result<Option<&'a StoredRecord>, XrpcError> {
    match target(inner, r) {
        Target::Elsewhere => Ok(None),
        Target::Missing(uri) => Err(refused(format!(
            "Could not locate record: {uri} at {}.uri",
            r.path
        ))),
        Target::Found(found) if found.cid != r.cid => Err(refused(format!(
            "CID mismatch: {} is at {}, not {} at {}.cid",
            r.uri, found.cid, r.cid, r.path
        ))),
        Target::Found(found) => Ok(Some(found)),
    }
}

/// The ref a stored post's `reply.root` holds, if it is a reply.
fn stored_root(parent: &StoredRecord) -> Option<(String, String)> {
    let root = parent.value.pointer("/reply/root")?;
    let field = |k: &str| root.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    Some((field("uri")?, field("cid")?))
}

/// Checks every strong ref of a valid post against this PDS's records.
pub(super) fn check(inner: &Inner, checked: &Checked) -> Result<(), XrpcError> {
    if let Some(reply) = &checked.reply {
        if let Some(parent) = resolve(inner, &reply.parent)? {
            let (expected_uri, expected_cid, why) = match stored_root(parent) {
                Some((uri, cid)) => (uri, cid, "the parent's own reply.root"),
                None => (
                    reply.parent.uri.clone(),
                    parent.cid.clone(),
                    "the parent itself, which is not a reply",
                ),
            };
            let root = &reply.root;
            if normalized(inner, &root.uri) != normalized(inner, &expected_uri)
                || root.cid != expected_cid
            {
                return Err(refused(format!(
                    "reply root must be {why} ({{uri: {expected_uri}, cid: {expected_cid}}}), \
                     got {{uri: {}, cid: {}}} at {}",
                    root.uri, root.cid, root.path
                )));
            }
        }
        resolve(inner, &reply.root)?;
    }
    for quoted in &checked.quotes {
        resolve(inner, quoted)?;
    }
    Ok(())
}
