//! Tokens: the long-lived exchange, Page tokens, debug_token and Instagram refresh.

use super::*;

impl MetaState {
    /// `GET /oauth/access_token?grant_type=fb_exchange_token`. An unknown `client_id` is code
    /// 101 ("Error validating application"); the right app with a wrong `client_secret` is
    /// code 1, "Error validating client secret." (Graph's answers; code 1 is not transient here).
    pub(crate) fn exchange(&self, p: &Params) -> Result<Value, GraphError> {
        if p.get("client_id") != Some(&self.config.app_id) {
            return Err(graph_error(
                400,
                101,
                None,
                "Error validating application. Invalid application ID.",
            ));
        }
        if p.get("client_secret") != Some(&self.config.app_secret) {
            let mut e = graph_error(400, 1, None, "Error validating client secret.");
            e.is_transient = Some(false);
            return Err(e);
        }
        if p.get("grant_type").map(String::as_str) != Some("fb_exchange_token") {
            return Err(invalid_param("grant_type must be fb_exchange_token"));
        }
        let mut inner = self.lock();
        let presented = p.get("fb_exchange_token").map(String::as_str);
        let Subject::User(user) = self.subject(&inner, presented)? else {
            return Err(invalid_param("Only user tokens can be exchanged"));
        };
        let lifetime = self.config.long_lived_lifetime;
        let t = Self::insert_token(
            &mut inner,
            Subject::User(user),
            &[
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
            ],
            Some(lifetime),
        );
        Ok(json!({ "access_token": t, "token_type": "bearer", "expires_in": lifetime.as_secs() }))
    }

    pub(crate) fn me_accounts(&self, t: Option<&str>) -> Result<Value, GraphError> {
        let mut inner = self.lock();
        let Subject::User(_) = self.subject(&inner, t)? else {
            return Err(invalid_param("/me/accounts needs a user token"));
        };
        let pages: Vec<(String, String)> = inner
            .pages
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut data = Vec::new();
        for (id, name) in pages {
            let page_token = Self::insert_token(
                &mut inner,
                Subject::Page(id.clone()),
                &[
                    "pages_show_list",
                    "pages_read_engagement",
                    "pages_manage_posts",
                    "read_insights",
                ],
                None,
            );
            data.push(json!({ "id": id, "name": name, "access_token": page_token, "tasks": ["CREATE_CONTENT", "MANAGE", "MODERATE"] }));
        }
        Ok(json!({ "data": data }))
    }

    /// `GET /debug_token?input_token=`: the `access_token` is "an app access token, or a user
    /// access token of a developer of the app" (debug_token reference); here the app token or
    /// any valid token the sandbox's one app issued (a Page or Instagram token inspecting itself
    /// works, as Meta's SDKs do it to find their app id). `fields` selects within `data`.
    pub(crate) fn debug_token(&self, t: Option<&str>, p: &Params) -> Result<Value, GraphError> {
        let app_token = format!("{}|{}", self.config.app_id, self.config.app_secret);
        if t != Some(app_token.as_str()) {
            let inner = self.lock();
            if t.is_some_and(|t| t.starts_with(&format!("{}|", self.config.app_id))) {
                return Err(graph_error(
                    400,
                    190,
                    None,
                    "Invalid OAuth access token signature.",
                ));
            }
            self.subject(&inner, t)?;
        }
        let fields = p.get("fields").map(|raw| parse_fields(raw)).transpose()?;
        let data = self.token_data(p);
        Ok(match fields {
            Some(fields) => json!({ "data": project(&data, &fields) }),
            None => json!({ "data": data }),
        })
    }

    fn token_data(&self, p: &Params) -> Value {
        let inner = self.lock();
        let input = p.get("input_token").cloned().unwrap_or_default();
        let Some(tok) = inner.tokens.get(&input) else {
            return json!({ "is_valid": false, "error": { "code": 190, "message": "Invalid OAuth access token." } });
        };
        let now = Instant::now();
        let (kind, user_id) = match &tok.subject {
            Subject::User(u) => ("USER", u.clone()),
            Subject::Page(p) => ("PAGE", p.clone()),
            Subject::Instagram(i, _) => ("USER", i.clone()),
        };
        json!({
            "app_id": self.config.app_id,
            "type": kind,
            "application": "cmis sandbox",
            "expires_at": tok.expires_at.map_or(0, to_unix),
            "data_access_expires_at": to_unix(tok.issued_at + Duration::from_secs(90 * 86_400)),
            "is_valid": tok.expires_at.is_none_or(|e| e > now),
            "issued_at": to_unix(tok.issued_at),
            "scopes": tok.scopes,
            "user_id": user_id,
        })
    }

    pub(crate) fn ig_refresh(&self, p: &Params) -> Result<Value, GraphError> {
        if p.get("grant_type").map(String::as_str) != Some("ig_refresh_token") {
            return Err(invalid_param("grant_type must be ig_refresh_token"));
        }
        let mut inner = self.lock();
        let presented = p.get("access_token").map(String::as_str);
        let subject = self.subject(&inner, presented)?;
        let Subject::Instagram(_, InstagramLogin::Instagram) = &subject else {
            return Err(invalid_param(
                "Only Instagram Login user tokens can be refreshed",
            ));
        };
        let tok = presented
            .and_then(|t| inner.tokens.get(t))
            .ok_or_else(|| invalid_param("unknown token"))?;
        if Instant::now().duration_since(tok.issued_at) < Duration::from_secs(24 * 3600) {
            return Err(invalid_param(
                "The access token must be at least 24 hours old to be refreshed",
            ));
        }
        let scopes: Vec<String> = tok.scopes.iter().cloned().collect();
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let lifetime = self.config.long_lived_lifetime;
        let t = Self::insert_token(&mut inner, subject, &scopes, Some(lifetime));
        Ok(json!({ "access_token": t, "token_type": "bearer", "expires_in": lifetime.as_secs() }))
    }
}
