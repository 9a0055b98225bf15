//! Rest.li forms beyond create, get, finder and delete: `BATCH_GET` of posts and media
//! (`ids=List(…)`, Rest.li 2.0 encoding; posts-api "Batch Get Posts", images-api and videos-api
//! "Batch Get"), `PARTIAL_UPDATE` of a post (posts-api "Update Posts": `POST
//! /rest/posts/{encoded urn}`, `X-RestLi-Method: PARTIAL_UPDATE`, `{"patch":{"$set":{…}}}`,
//! 204), OpenID `GET /v2/userinfo` (brief §1) and `POST /oauth/v2/revoke` (brief §1).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::little_text;
use super::media::Kind;
use super::state::{
    Caller, LiError, LinkedInState, access_denied, input_error, invalid, not_found, oauth,
};

/// The properties a partial update may `$set` (posts-api "Update Posts"). Only `commentary`
/// changes what the fake stores; the others are sponsored-content settings.
const UPDATABLE: &[&str] = &[
    "commentary",
    "contentCallToActionLabel",
    "contentLandingPage",
    "lifecycleState",
    "adContext",
];

/// Percent-decodes one Rest.li element (`urn%3Ali%3Ashare%3A1` → `urn:li:share:1`).
fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The keys of `ids=List(a,b)` in a raw query string, each decoded: `None` without `ids`. The
/// list's own `(`, `,` and `)` may come literal (Rest.li 2.0, as LinkedIn's samples send
/// them) or percent-encoded (a client that encodes the whole value).
pub(crate) fn batch_ids(raw_query: Option<&str>) -> Option<Result<Vec<String>, LiError>> {
    let value = raw_query?.split('&').find_map(|p| p.strip_prefix("ids="))?;
    let bad = || {
        invalid(
            "ids",
            "ids must be a Rest.li 2.0 list, such as ids=List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Ashare%3A2)",
        )
    };
    let value = if value.starts_with("List(") {
        Some(value.to_owned())
    } else {
        decode(value)
    };
    let ids = value
        .as_deref()
        .and_then(|v| v.strip_prefix("List(")?.strip_suffix(')'))
        .map(|inner| {
            inner
                .split(',')
                .map(|e| decode(e.trim()).filter(|d| !d.is_empty()))
                .collect::<Option<Vec<String>>>()
        });
    Some(ids.flatten().ok_or_else(bad))
}

/// A Rest.li `BATCH_GET` answer: `results`, `statuses` and `errors`, keyed by id.
fn batch(items: Vec<(String, Result<Value, LiError>)>) -> Value {
    let (mut results, mut statuses, mut errors) = (Map::new(), Map::new(), Map::new());
    for (id, item) in items {
        match item {
            Ok(v) => {
                statuses.insert(id.clone(), json!(200));
                results.insert(id, v);
            }
            Err(e) => {
                statuses.insert(id.clone(), json!(e.status));
                errors.insert(id, e.body);
            }
        }
    }
    json!({"results": results, "statuses": statuses, "errors": errors})
}

impl LinkedInState {
    /// `GET /rest/posts?ids=List(…)`: each post as `GET /rest/posts/{urn}` would answer it.
    pub(crate) fn batch_get_posts(&self, caller: &Caller, ids: Vec<String>) -> Value {
        let inner = self.lock();
        let items = ids
            .into_iter()
            .map(|id| {
                let found = inner
                    .posts
                    .iter()
                    .find(|s| s.post.urn == id && !s.post.deleted);
                let item = match found {
                    None => Err(not_found()),
                    Some(s) if !Self::may_read(caller, &s.post.author) => {
                        Err(access_denied("partnerApiPostsExternal.BATCH_GET"))
                    }
                    Some(s) => Ok(Self::post_json(s)),
                };
                (id, item)
            })
            .collect();
        batch(items)
    }

    /// `GET /rest/{images|documents|videos}?ids=List(…)`: each medium as its single read
    /// would answer it (each counts as a read).
    pub(crate) fn batch_get_media(&self, caller: &Caller, kind: Kind, ids: Vec<String>) -> Value {
        let items = ids
            .into_iter()
            .map(|id| {
                let item = self.media_read(caller, kind, &id);
                (id, item)
            })
            .collect();
        batch(items)
    }

    /// `POST /rest/posts/{urn}` with `X-RestLi-Method: PARTIAL_UPDATE`: `$set` of the
    /// updatable properties. The new commentary is little text, cut as a create's is; the post
    /// then reads `lifecycleStateInfo.isEditedByAuthor: true` and a new `lastModifiedAt`.
    /// Another method, another body shape or another property gets 400 (constructed); a post
    /// the caller may not write for, 403; an unknown or deleted post, 404.
    pub(crate) fn update_post(
        &self,
        caller: &Caller,
        urn: &str,
        method: Option<&str>,
        body: &Value,
    ) -> Result<(), LiError> {
        if !method.is_some_and(|m| m.trim().eq_ignore_ascii_case("PARTIAL_UPDATE")) {
            return Err(invalid(
                "X-RestLi-Method",
                "POST /rest/posts/{urn} is a partial update: send X-RestLi-Method: PARTIAL_UPDATE",
            ));
        }
        let set = body
            .pointer("/patch/$set")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("patch", "The body must be {\"patch\":{\"$set\":{…}}}"))?;
        if let Some(k) = set.keys().find(|k| !UPDATABLE.contains(&k.as_str())) {
            return Err(invalid(k, &format!("{k} cannot be updated")));
        }
        let commentary = match set.get("commentary") {
            None => None,
            Some(Value::String(c)) => Some(c.clone()),
            Some(_) => return Err(invalid("commentary", "commentary must be a string")),
        };
        if commentary
            .as_ref()
            .is_some_and(|c| c.encode_utf16().count() > self.config().max_commentary_len)
        {
            return Err(input_error(
                400,
                "commentary length exceeds the allowed maximum",
                Some("commentary"),
                "FIELD_LENGTH_TOO_LONG",
            ));
        }
        let now = self.now_ms();
        let mut inner = self.lock();
        let i = inner
            .posts
            .iter()
            .position(|s| s.post.urn == urn && !s.post.deleted)
            .ok_or_else(not_found)?;
        let author = inner.posts[i].post.author.clone();
        let scope = if author.starts_with("urn:li:person:") {
            "w_member_social"
        } else {
            "w_organization_social"
        };
        if !caller.has(scope) || !Self::may_act_as(&inner, &caller.person, &author) {
            return Err(access_denied("partnerApiPostsExternal.PARTIAL_UPDATE"));
        }
        let s = &mut inner.posts[i];
        if let Some(c) = commentary {
            let parsed = little_text::parse(&c);
            s.post.commentary = parsed.kept;
            s.post.text = parsed.rendered;
            s.post.truncated = parsed.cut_at.is_some();
            s.post.sent_commentary = c;
        }
        s.edited_at = Some(now.max(s.post.created_at + 32));
        Ok(())
    }

    /// `GET /v2/userinfo` (OpenID Connect, brief §1): `sub` (the id in `urn:li:person:{sub}`),
    /// with `profile` the names and picture, with `email` the address. Without `openid`, 403
    /// `ACCESS_DENIED` (constructed message). Names and address are constructed.
    pub(crate) fn userinfo(&self, bearer: Option<&str>) -> Result<Value, LiError> {
        let c = self.caller(bearer, 0)?;
        if !c.has("openid") {
            return Err(access_denied("userinfo.GET.NO_VERSION"));
        }
        let sub = c.person.strip_prefix("urn:li:person:").unwrap_or(&c.person);
        let mut v = json!({ "sub": sub });
        if c.has("profile") {
            v["name"] = json!(format!("Sandbox Member {sub}"));
            v["given_name"] = json!("Sandbox");
            v["family_name"] = json!(format!("Member {sub}"));
            v["locale"] = json!({"country": "US", "language": "en"});
            v["picture"] = json!(format!("{}/dms/image/{sub}/profile", self.base_url()));
        }
        if c.has("email") {
            v["email"] = json!(format!("member-{sub}@sandbox.invalid"));
            v["email_verified"] = json!(true);
        }
        Ok(v)
    }

    /// `POST /oauth/v2/revoke`, form `client_id`, `client_secret`, `token`: the token stops
    /// working (its next use gets `token_revoked`), 200 with an empty body. A wrong client gets
    /// 401 `invalid_client`, a missing token 400 `invalid_request` (both constructed); an
    /// unknown token is accepted, as RFC 7009 asks.
    pub(crate) fn revoke(&self, form: &HashMap<String, String>) -> Result<(), LiError> {
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("client_id") != self.config().client_id
            || field("client_secret")
                != cmis_core::ExposeSecret::expose_secret(&self.config().client_secret)
        {
            return Err(oauth(401, "invalid_client", "Client authentication failed"));
        }
        if field("token").is_empty() {
            return Err(oauth(
                400,
                "invalid_request",
                "A required parameter \"token\" is missing",
            ));
        }
        self.revoke_token(field("token"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_li_lists_decode_in_both_encodings() {
        let ids = |q: &str| batch_ids(Some(q)).map(|r| r.ok());
        let want = Some(Some(vec![
            "urn:li:share:1".to_owned(),
            "urn:li:ugcPost:2".to_owned(),
        ]));
        assert_eq!(
            ids("ids=List(urn%3Ali%3Ashare%3A1,urn%3Ali%3AugcPost%3A2)"),
            want
        );
        assert_eq!(
            ids("x=1&ids=List%28urn%3Ali%3Ashare%3A1%2Curn%3Ali%3AugcPost%3A2%29"),
            want
        );
        assert_eq!(ids("ids=List(urn:li:share:1,urn:li:ugcPost:2)"), want);
        assert_eq!(ids("ids=urn%3Ali%3Ashare%3A1"), Some(None));
        assert_eq!(ids("q=author"), None);
    }
}
