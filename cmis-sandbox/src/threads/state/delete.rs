//! `DELETE /v1.0/{threads-media-id}` (delete-posts page, brief §2.4): the token's own published
//! post, answered `{"success": true, "deleted_id": "…"}`, at most 100 deletes per account per
//! day. The post is gone from every read afterwards.
//!
//! Undocumented, so constructed: a post of another user gets the code 10 permission error the
//! fake gives for another user's edges; an id that is no post gets Graph's "does not exist"
//! (code 100, subcode 33), as a container id does (a container is no post); the 101st delete in
//! 24 hours gets code 9 (the code of the content-publishing limit) with a message naming the
//! delete limit. Scopes are not modelled, so `threads_delete` is not checked.

use serde_json::{Value, json};

use super::publish::{DELETE_QUOTA, QUOTA_WINDOW_SECS};
use super::{Inner, ThreadsError, ThreadsState, error, no_such_object};

impl ThreadsState {
    /// How many posts `user` deleted in the last 24 hours.
    pub(super) fn delete_usage(&self, inner: &Inner, user: &str) -> u32 {
        let since = self.now_ms() - QUOTA_WINDOW_SECS * 1000;
        let n = inner
            .deletes
            .get(user)
            .map_or(0, |list| list.iter().filter(|&&at| at > since).count());
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// `DELETE /v1.0/{id}`.
    pub(crate) fn delete_media(&self, t: Option<&str>, id: &str) -> Result<Value, ThreadsError> {
        let mut inner = self.lock();
        let user = self.user_of(&inner, t)?;
        let Some(index) = inner.posts.iter().position(|p| p.post.id == id) else {
            return Err(no_such_object(id));
        };
        if inner.posts[index].post.user_id != user {
            return Err(error(
                10,
                None,
                "THApiException",
                "(#10) Application does not have permission for this action",
            ));
        }
        if self.delete_usage(&inner, &user) >= DELETE_QUOTA {
            return Err(error(
                9,
                None,
                "OAuthException",
                format!(
                    "You reached the maximum number of deletes ({DELETE_QUOTA} per 24 hours) \
                     allowed for this account."
                ),
            ));
        }
        let now = self.now_ms();
        inner.posts.remove(index);
        inner.deletes.entry(user).or_default().push(now);
        Ok(json!({ "success": true, "deleted_id": id }))
    }
}
