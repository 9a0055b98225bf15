//! The blob the video service writes into an account's repository when a job completes
//! (docs.bsky.app, "Uploading Video": the service "saves an optimised version of the video to
//! your PDS on your behalf using the service token"). The fake stores the source's CID and size:
//! it does not re-encode.

use super::{BlueskyState, StoredBlob, XrpcError, json, taken_down, xrpc};
use serde_json::Value;

/// The mime type of a processed video.
const MP4: &str = "video/mp4";

impl BlueskyState {
    /// Stores (or refreshes) the video blob `cid` of `size` bytes for `did`, as uploaded at
    /// `at_ms`; returns its blob ref as `uploadBlob` answers it.
    pub(crate) fn store_video_blob(
        &self,
        did: &str,
        cid: &str,
        size: u64,
        at_ms: i64,
    ) -> Result<Value, XrpcError> {
        let mut inner = self.lock();
        match inner.account(did) {
            None => return Err(xrpc(400, "InvalidRequest", "Could not find repo")),
            Some(a) if a.taken_down => return Err(taken_down()),
            Some(_) => {}
        }
        // The same bytes uploaded earlier keep the mime type they were stored with.
        let mime = match inner
            .repo
            .blobs
            .iter_mut()
            .find(|b| b.did == did && b.cid == cid)
        {
            Some(b) => {
                b.uploaded_ms = b.uploaded_ms.max(at_ms);
                b.mime_type.clone()
            }
            None => {
                inner.repo.blobs.push(StoredBlob {
                    did: did.to_owned(),
                    cid: cid.to_owned(),
                    mime_type: MP4.to_owned(),
                    size,
                    uploaded_ms: at_ms,
                    referenced: false,
                });
                MP4.to_owned()
            }
        };
        Ok(json!({"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": size}))
    }
}
