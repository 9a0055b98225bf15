//! Repositories: `createRecord` (in the reference PDS's order: write points, the account, `$type`
//! and record key, lexicon validation, `swapCommit`, the key's uniqueness, then the blobs),
//! `getRecord`, `uploadBlob`, `resolveHandle`, and what tests inspect; `deleteRecord`,
//! `putRecord` and `listRecords` are in `repo/manage.rs`. Strong refs to records of
//! this PDS are checked in `repo/refs.rs`.

mod manage;
mod refs;
mod video;

use super::*;
use crate::bluesky::ids::{blob_cid, is_record_key, is_tid, pretty_bytes, record_cid};
use crate::bluesky::validate::{self, BlobLimit, POST};
use crate::bluesky::{BlueskyBlob, BlueskyRecord};

#[derive(Debug)]
struct StoredRecord {
    did: String,
    collection: String,
    rkey: String,
    cid: String,
    value: Value,
}

#[derive(Debug)]
struct StoredBlob {
    did: String,
    cid: String,
    mime_type: String,
    size: u64,
    uploaded_ms: i64,
    referenced: bool,
}

/// Every account's records, blobs and head commit.
#[derive(Debug, Default)]
pub(super) struct Repos {
    records: Vec<StoredRecord>,
    by_key: HashMap<(String, String, String), usize>,
    blobs: Vec<StoredBlob>,
    heads: HashMap<String, String>,
}

/// An upload's body as the route read it.
#[derive(Debug)]
pub(crate) struct BlobUpload<'a> {
    pub(crate) mime_type: Option<&'a str>,
    pub(crate) bytes: &'a [u8],
}

/// Every blob ref (`{"$type":"blob","ref":{"$link"}}`) in a record, with its declared mime type
/// and size.
fn blob_refs(v: &Value, out: &mut Vec<(String, String, Option<u64>)>) {
    match v {
        Value::Object(o) => {
            if o.get("$type").and_then(Value::as_str) == Some("blob")
                && let Some(link) = v.pointer("/ref/$link").and_then(Value::as_str)
            {
                let mime = o.get("mimeType").and_then(Value::as_str).unwrap_or("");
                out.push((
                    link.to_owned(),
                    mime.to_owned(),
                    o.get("size").and_then(Value::as_u64),
                ));
                return;
            }
            o.values().for_each(|v| blob_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| blob_refs(v, out)),
        _ => {}
    }
}

fn param<'a>(params: &'a HashMap<String, String>, key: &str) -> Result<&'a str, XrpcError> {
    params
        .get(key)
        .map(String::as_str)
        .ok_or_else(|| invalid(format!("Params must have the property \"{key}\"")))
}

impl BlueskyState {
    /// Whether a blob is still kept: referenced, or younger than the unreferenced lifetime.
    fn blob_alive(&self, b: &StoredBlob, now: i64) -> bool {
        b.referenced
            || self
                .config
                .unreferenced_blob_lifetime
                .is_none_or(|l| b.uploaded_ms.saturating_add(millis(l)) > now)
    }

    /// `com.atproto.repo.createRecord` for the account `did` authenticated.
    pub(crate) fn create_record(&self, did: &str, input: &Value) -> Result<Reply, XrpcError> {
        let now = self.now_ms();
        let mut inner = self.lock();
        let rules = self.rules(BlueskyEndpoint::CreateRecord);
        let rate = inner
            .limiter
            .consume(now, did, &rules, 3)
            .map_err(rate_limited)?;
        self.create_record_locked(&mut inner, did, input, now)
            .map(|body| Reply {
                body,
                rate: Some(rate),
            })
            .map_err(|e| XrpcError {
                rate: Some(rate),
                ..e
            })
    }

    fn create_record_locked(
        &self,
        inner: &mut Inner,
        did: &str,
        input: &Value,
        now: i64,
    ) -> Result<Value, XrpcError> {
        let field = |k: &str| {
            input
                .get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("Input must have the property \"{k}\"")))
        };
        let repo = field("repo")?;
        let collection = field("collection")?.to_owned();
        let mut record = input
            .get("record")
            .filter(|r| r.is_object())
            .cloned()
            .ok_or_else(|| invalid("Input must have the property \"record\""))?;
        let rkey = input.get("rkey").and_then(Value::as_str).map(str::to_owned);
        let validate = input.get("validate").and_then(Value::as_bool);
        let swap_commit = input.get("swapCommit").and_then(Value::as_str);

        let account = inner
            .account(repo)
            .ok_or_else(|| xrpc(403, "AccountNotFound", "Account not found"))?;
        if account.taken_down {
            return Err(taken_down());
        }
        if account.did != did {
            return Err(xrpc(
                401,
                "AuthenticationRequired",
                "Authentication Required",
            ));
        }
        // `$type` may be left out (the PDS fills in the collection), but not contradict it.
        match record.get("$type") {
            None => record["$type"] = Value::from(collection.clone()),
            Some(t) if t.as_str() == Some(collection.as_str()) => {}
            Some(t) => {
                return Err(invalid(format!(
                    "Invalid $type: expected {collection}, got {}",
                    t.as_str().map_or_else(|| t.to_string(), str::to_owned)
                )));
            }
        }
        if let Some(k) = &rkey
            && !is_record_key(k)
        {
            return Err(invalid(format!("Invalid record key: {k}")));
        }
        let (status, checked) = match validate {
            Some(false) => (None, None),
            _ if collection == POST => {
                if let Some(k) = rkey.as_deref().filter(|k| !is_tid(k)) {
                    return Err(invalid(format!(
                        "Invalid record key for {POST}: Invalid TID string (got \"{k}\") at $"
                    )));
                }
                let checked = validate::post(&record)
                    .map_err(|issue| invalid(format!("Invalid {POST} record: {issue}")))?;
                refs::check(inner, &checked)?;
                (Some("valid"), Some(checked))
            }
            Some(true) => return Err(invalid(format!("Unknown lexicon type: {collection}"))),
            None => (Some("unknown"), None),
        };
        let head = inner.repo.heads.get(did).cloned();
        if let Some(swap) = swap_commit
            && head.as_deref() != Some(swap)
        {
            return Err(xrpc(
                400,
                "InvalidSwap",
                format!("Commit was at {}", head.as_deref().unwrap_or("null")),
            ));
        }
        let rkey = match rkey {
            Some(k) => k,
            None => self.next_tid(inner),
        };
        let key = (did.to_owned(), collection.clone(), rkey.clone());
        if inner.repo.by_key.contains_key(&key) {
            // The MST refuses a second leaf at a key with a plain `Error`, which XRPC hides
            // behind a generic 500.
            return Err(xrpc(500, "InternalServerError", "Internal Server Error"));
        }
        let limits = checked.as_ref().map(|c| c.blob_limits.as_slice());
        self.check_blobs(inner, did, &record, limits, now)?;

        let cid = record_cid(record.to_string().as_bytes());
        let rev = self.next_tid(inner);
        let commit =
            record_cid(format!("{did} {rev} {cid} {}", head.unwrap_or_default()).as_bytes());
        let mut refs = Vec::new();
        blob_refs(&record, &mut refs);
        for (link, _, _) in &refs {
            for b in inner.repo.blobs.iter_mut() {
                if b.did == did && &b.cid == link {
                    b.referenced = true;
                }
            }
        }
        let uri = format!("at://{did}/{collection}/{rkey}");
        let index = inner.repo.records.len();
        inner.repo.records.push(StoredRecord {
            did: did.to_owned(),
            collection,
            rkey,
            cid: cid.clone(),
            value: record,
        });
        inner.repo.by_key.insert(key, index);
        inner.repo.heads.insert(did.to_owned(), commit.clone());
        let mut body = json!({"uri": uri, "cid": cid, "commit": {"cid": commit, "rev": rev}});
        if let Some(status) = status {
            body["validationStatus"] = Value::from(status);
        }
        Ok(body)
    }

    /// The blobs a record references must be this account's uploads, as declared. In a validated
    /// post (`limits` given) each blob may not exceed its place's `maxSize`, and an image found
    /// elsewhere [`BlueskyConfig::image_max_bytes`].
    fn check_blobs(
        &self,
        inner: &Inner,
        did: &str,
        record: &Value,
        limits: Option<&[(String, BlobLimit)]>,
        now: i64,
    ) -> Result<(), XrpcError> {
        let mut refs = Vec::new();
        blob_refs(record, &mut refs);
        for (link, mime, size) in refs {
            let Some(found) = inner
                .repo
                .blobs
                .iter()
                .find(|b| b.did == did && b.cid == link && self.blob_alive(b, now))
            else {
                return Err(xrpc(
                    400,
                    "BlobNotFound",
                    format!("Could not find blob: {link}"),
                ));
            };
            if found.mime_type != mime {
                return Err(xrpc(
                    400,
                    "InvalidMimeType",
                    format!(
                        "Referenced Mimetype does not match stored blob. Expected: {}, Got: {mime}",
                        found.mime_type
                    ),
                ));
            }
            if size.is_some_and(|s| s != found.size) {
                return Err(xrpc(
                    400,
                    "InvalidSize",
                    format!(
                        "Referenced Size does not match stored blob. Expected: {}, Got: {}",
                        found.size,
                        size.unwrap_or_default()
                    ),
                ));
            }
            let Some(limits) = limits else { continue };
            let image_max = self.config.image_max_bytes;
            let max = limits
                .iter()
                .filter(|(cid, _)| *cid == link)
                .map(|(_, limit)| match limit {
                    BlobLimit::Image => image_max,
                    BlobLimit::Bytes(n) => *n,
                })
                .min()
                .or_else(|| mime.starts_with("image/").then_some(image_max));
            if let Some(max) = max.filter(|&max| found.size > max) {
                return Err(xrpc(
                    400,
                    "BlobTooLarge",
                    format!(
                        "This file is too large. It is {} but the maximum size is {}.",
                        pretty_bytes(found.size),
                        pretty_bytes(max)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `com.atproto.repo.getRecord`.
    pub(crate) fn get_record(&self, params: &HashMap<String, String>) -> Result<Value, XrpcError> {
        let repo = param(params, "repo")?;
        let collection = param(params, "collection")?;
        let rkey = param(params, "rkey")?;
        let inner = self.lock();
        let Some(account) = inner.account(repo) else {
            return Err(invalid(format!("Could not find repo: {repo}")));
        };
        let uri = format!("at://{}/{collection}/{rkey}", account.did);
        let key = (account.did.clone(), collection.to_owned(), rkey.to_owned());
        let found = inner
            .repo
            .by_key
            .get(&key)
            .map(|&i| &inner.repo.records[i])
            .filter(|r| params.get("cid").is_none_or(|c| *c == r.cid));
        match found {
            Some(r) => Ok(json!({"uri": uri, "cid": r.cid, "value": r.value})),
            None => Err(xrpc(
                400,
                "RecordNotFound",
                format!("Could not locate record: {uri}"),
            )),
        }
    }

    /// `com.atproto.repo.uploadBlob` for the account `did` authenticated. The size cap is the
    /// route's (it stops reading).
    pub(crate) fn upload_blob(
        &self,
        did: &str,
        upload: BlobUpload<'_>,
    ) -> Result<Value, XrpcError> {
        let now = self.now_ms();
        let mut inner = self.lock();
        if inner.account(did).is_some_and(|a| a.taken_down) {
            return Err(taken_down());
        }
        let Some(mime) = upload.mime_type.filter(|m| m.contains('/')) else {
            return Err(invalid(
                "Request encoding (Content-Type) required but not provided",
            ));
        };
        let cid = blob_cid(upload.bytes);
        let size = u64::try_from(upload.bytes.len()).unwrap_or(u64::MAX);
        let alive: Vec<bool> = inner
            .repo
            .blobs
            .iter()
            .map(|b| self.blob_alive(b, now))
            .collect();
        let mut keep = alive.into_iter();
        inner.repo.blobs.retain(|_| keep.next().unwrap_or(true));
        match inner
            .repo
            .blobs
            .iter_mut()
            .find(|b| b.did == did && b.cid == cid)
        {
            Some(b) => b.uploaded_ms = now,
            None => inner.repo.blobs.push(StoredBlob {
                did: did.to_owned(),
                cid: cid.clone(),
                mime_type: mime.to_owned(),
                size,
                uploaded_ms: now,
                referenced: false,
            }),
        }
        Ok(
            json!({"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": size}}),
        )
    }

    /// `com.atproto.identity.resolveHandle`.
    pub(crate) fn resolve_handle(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<Value, XrpcError> {
        let handle = param(params, "handle")?.to_ascii_lowercase();
        let inner = self.lock();
        if let Some(account) = inner
            .account(&handle)
            .filter(|_| !handle.starts_with("did:"))
        {
            return Ok(json!({"did": account.did}));
        }
        let ours = self
            .config
            .handle_domains
            .iter()
            .any(|d| handle.ends_with(d.as_str()) || Some(handle.as_str()) == d.get(1..));
        Err(xrpc(
            400,
            if ours {
                "HandleNotFound"
            } else {
                "InvalidRequest"
            },
            "Unable to resolve handle",
        ))
    }

    pub(crate) fn records(&self, identifier: &str) -> Vec<BlueskyRecord> {
        let inner = self.lock();
        let did = inner.did_of(identifier);
        inner
            .repo
            .records
            .iter()
            .filter(|r| r.did == did)
            .map(|r| BlueskyRecord {
                uri: format!("at://{}/{}/{}", r.did, r.collection, r.rkey),
                cid: r.cid.clone(),
                did: r.did.clone(),
                collection: r.collection.clone(),
                rkey: r.rkey.clone(),
                record: r.value.to_string(),
            })
            .collect()
    }

    pub(crate) fn blobs(&self, identifier: &str) -> Vec<BlueskyBlob> {
        let now = self.now_ms();
        let inner = self.lock();
        let did = inner.did_of(identifier);
        inner
            .repo
            .blobs
            .iter()
            .filter(|b| b.did == did && self.blob_alive(b, now))
            .map(|b| BlueskyBlob {
                did: b.did.clone(),
                cid: b.cid.clone(),
                mime_type: b.mime_type.clone(),
                size: b.size,
                referenced: b.referenced,
            })
            .collect()
    }
}
