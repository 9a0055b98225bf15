//! `com.atproto.repo.deleteRecord`, `putRecord` and `listRecords` (brief §3 "Delete", §7
//! "putRecord" and "listRecords"; lexicons `com/atproto/repo/deleteRecord.json`,
//! `putRecord.json`, `listRecords.json`; the reference PDS's handlers of the same names).
//!
//! - **deleteRecord** `{repo, collection, rkey, swapRecord?, swapCommit?}`: "Delete a repository
//!   record, or ensure it doesn't exist". One write point. A record that is there is removed and
//!   the answer is `{"commit": {cid, rev}}`; one that is not there is no write, answered `{}`.
//!   `swapRecord`/`swapCommit` that do not match are `400 InvalidSwap`.
//! - **putRecord** `{repo, collection, rkey, record, validate?, swapRecord?, swapCommit?}`: two
//!   write points. A record whose CID equals the stored one is a no-op answered with the stored
//!   `{uri, cid}` and no commit (`putRecord.ts`' no-op branch, brief §7); otherwise the record is
//!   written (created or replaced) with `createRecord`'s checks. `rkey` is required.
//! - **listRecords** `?repo&collection&limit&cursor&reverse` (no auth): records by record key,
//!   descending unless `reverse=true`; `limit` 1–100, default 50; the cursor is the last record
//!   key returned and is left out when no record is returned.
//!
//! Faults: deleteRecord and putRecord take those injected for [`BlueskyEndpoint::CreateRecord`]
//! (the repository writes), listRecords those for [`BlueskyEndpoint::GetRecord`].

use super::{
    BlueskyEndpoint, BlueskyState, HashMap, Inner, Reply, Value, XrpcError, invalid, json, param,
    rate_limited, record_cid, taken_down, xrpc,
};

const LIST_DEFAULT: usize = 50;
const LIST_MAX: usize = 100;

fn field<'a>(input: &'a Value, k: &str) -> Result<&'a str, XrpcError> {
    input
        .get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("Input must have the property \"{k}\"")))
}

/// The DID of `repo` when the authenticated `did` may write to it (as createRecord checks).
fn writable(inner: &Inner, did: &str, repo: &str) -> Result<String, XrpcError> {
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
    Ok(account.did.clone())
}

impl BlueskyState {
    /// Charges `points` write points to `did`, then runs `write` with the rate status attached to
    /// its answer either way.
    fn write_with_points(
        &self,
        did: &str,
        points: u32,
        write: impl FnOnce(&mut Inner) -> Result<Value, XrpcError>,
    ) -> Result<Reply, XrpcError> {
        let now = self.now_ms();
        let mut inner = self.lock();
        let rules = self.rules(BlueskyEndpoint::CreateRecord);
        let rate = inner
            .limiter
            .consume(now, did, &rules, points)
            .map_err(rate_limited)?;
        write(&mut inner)
            .map(|body| Reply {
                body,
                rate: Some(rate),
            })
            .map_err(|e| XrpcError {
                rate: Some(rate),
                ..e
            })
    }

    /// Checks `swapCommit` against the repository's head.
    fn check_swap_commit(inner: &Inner, did: &str, input: &Value) -> Result<(), XrpcError> {
        let head = inner.repo.heads.get(did);
        match input.get("swapCommit").and_then(Value::as_str) {
            Some(swap) if head.map(String::as_str) != Some(swap) => Err(xrpc(
                400,
                "InvalidSwap",
                format!("Commit was at {}", head.map_or("null", String::as_str)),
            )),
            _ => Ok(()),
        }
    }

    /// Checks `swapRecord` (a CID, or `null` for "must not exist") against the stored record.
    fn check_swap_record(input: &Value, current: Option<&str>) -> Result<(), XrpcError> {
        let Some(swap) = input.get("swapRecord") else {
            return Ok(());
        };
        if swap.as_str() == current {
            return Ok(());
        }
        Err(xrpc(
            400,
            "InvalidSwap",
            format!("Record was at {}", current.unwrap_or("null")),
        ))
    }

    /// A new commit on `did`'s repository: `{cid, rev}`.
    fn commit(&self, inner: &mut Inner, did: &str, what: &str) -> Value {
        let head = inner.repo.heads.get(did).cloned().unwrap_or_default();
        let rev = self.next_tid(inner);
        let commit = record_cid(format!("{did} {rev} {what} {head}").as_bytes());
        inner.repo.heads.insert(did.to_owned(), commit.clone());
        json!({"cid": commit, "rev": rev})
    }

    /// Removes the record at `key`, keeping the index in step.
    fn remove_record(inner: &mut Inner, key: &(String, String, String)) {
        if let Some(index) = inner.repo.by_key.remove(key) {
            inner.repo.records.remove(index);
            for i in inner.repo.by_key.values_mut() {
                if *i > index {
                    *i -= 1;
                }
            }
        }
    }

    /// `com.atproto.repo.deleteRecord` for the account `did` authenticated.
    pub(crate) fn delete_record(&self, did: &str, input: &Value) -> Result<Reply, XrpcError> {
        self.write_with_points(did, 1, |inner| {
            let repo = writable(inner, did, field(input, "repo")?)?;
            let collection = field(input, "collection")?;
            let rkey = field(input, "rkey")?;
            let key = (repo.clone(), collection.to_owned(), rkey.to_owned());
            let current = inner
                .repo
                .by_key
                .get(&key)
                .map(|&i| inner.repo.records[i].cid.clone());
            Self::check_swap_commit(inner, &repo, input)?;
            Self::check_swap_record(input, current.as_deref())?;
            if current.is_none() {
                return Ok(json!({}));
            }
            Self::remove_record(inner, &key);
            let commit = self.commit(inner, &repo, &format!("delete {collection}/{rkey}"));
            Ok(json!({"commit": commit}))
        })
    }

    /// `com.atproto.repo.putRecord` for the account `did` authenticated.
    pub(crate) fn put_record(&self, did: &str, input: &Value) -> Result<Reply, XrpcError> {
        self.write_with_points(did, 2, |inner| {
            let repo = writable(inner, did, field(input, "repo")?)?;
            let collection = field(input, "collection")?;
            let rkey = field(input, "rkey")?;
            let key = (repo.clone(), collection.to_owned(), rkey.to_owned());
            let current = inner
                .repo
                .by_key
                .get(&key)
                .map(|&i| inner.repo.records[i].cid.clone());
            Self::check_swap_commit(inner, &repo, input)?;
            Self::check_swap_record(input, current.as_deref())?;
            // The record as createRecord would store it (`$type` filled in when left out).
            let mut record = input.get("record").cloned().unwrap_or(Value::Null);
            if record.is_object() && record.get("$type").is_none() {
                record["$type"] = Value::from(collection);
            }
            if let Some(cid) = current {
                if record_cid(record.to_string().as_bytes()) == cid {
                    let uri = format!("at://{repo}/{collection}/{rkey}");
                    return Ok(json!({"uri": uri, "cid": cid}));
                }
                // Replaced: checked and written as a create at the freed key. A refusal leaves
                // the stored record as it was.
                let index = inner.repo.by_key[&key];
                let old = inner.repo.records[index].value.clone();
                Self::remove_record(inner, &key);
                let now = self.now_ms();
                return self
                    .create_record_locked(inner, did, input, now)
                    .inspect_err(|_| self.restore(inner, key, old));
            }
            let now = self.now_ms();
            self.create_record_locked(inner, did, input, now)
        })
    }

    /// Puts back a record that a refused replacement removed.
    fn restore(&self, inner: &mut Inner, key: (String, String, String), value: Value) {
        let cid = record_cid(value.to_string().as_bytes());
        let index = inner.repo.records.len();
        inner.repo.records.push(super::StoredRecord {
            did: key.0.clone(),
            collection: key.1.clone(),
            rkey: key.2.clone(),
            cid,
            value,
        });
        inner.repo.by_key.insert(key, index);
    }

    /// `com.atproto.repo.listRecords`.
    pub(crate) fn list_records(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<Value, XrpcError> {
        let repo = param(params, "repo")?;
        let collection = param(params, "collection")?;
        let limit = match params.get("limit") {
            None => LIST_DEFAULT,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if n < 1 => return Err(invalid("limit can not be less than 1")),
                Ok(n) if n > 100 => {
                    return Err(invalid(format!("limit can not be greater than {LIST_MAX}")));
                }
                Ok(n) => usize::try_from(n).unwrap_or(LIST_DEFAULT),
                Err(_) => return Err(invalid("limit must be an integer")),
            },
        };
        let reverse = match params.get("reverse").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(invalid("reverse must be a boolean")),
        };
        let cursor = params.get("cursor").map(String::as_str);
        let inner = self.lock();
        let Some(account) = inner.account(repo) else {
            return Err(invalid(format!("Could not find repo: {repo}")));
        };
        let mut records: Vec<_> = inner
            .repo
            .records
            .iter()
            .filter(|r| r.did == account.did && r.collection == collection)
            .filter(|r| {
                cursor.is_none_or(|c| {
                    if reverse {
                        r.rkey.as_str() > c
                    } else {
                        r.rkey.as_str() < c
                    }
                })
            })
            .collect();
        records.sort_by_key(|r| r.rkey.clone());
        if !reverse {
            records.reverse();
        }
        records.truncate(limit);
        let out: Vec<Value> = records
            .iter()
            .map(|r| {
                json!({
                    "uri": format!("at://{}/{}/{}", r.did, r.collection, r.rkey),
                    "cid": r.cid,
                    "value": r.value,
                })
            })
            .collect();
        let mut body = json!({"records": out});
        if let Some(last) = records.last() {
            body["cursor"] = Value::from(last.rkey.clone());
        }
        Ok(body)
    }
}
