//! Seeding accounts from a state document (`POST /seed`, the program's `--state FILE`).

use cmis_core::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Fakes;
use crate::bluesky::BlueskyAccount;
use crate::meta::InstagramLogin;
use crate::tiktok::Creator;

/// TikTok scopes given when a creator's `scopes` are left out.
const DEFAULT_TIKTOK_SCOPES: [&str; 4] = [
    "user.info.basic",
    "video.publish",
    "video.upload",
    "video.list",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    #[serde(default)]
    tiktok_creators: Vec<TikTokCreator>,
    #[serde(default)]
    facebook_pages: Vec<Page>,
    #[serde(default)]
    instagram_accounts: Vec<Instagram>,
    #[serde(default)]
    bluesky_accounts: Vec<Bluesky>,
    #[serde(default)]
    threads_users: Vec<ThreadsUser>,
    #[serde(default)]
    linkedin_members: Vec<Member>,
    #[serde(default)]
    linkedin_organizations: Vec<Organization>,
    #[serde(default)]
    youtube_channels: Vec<Channel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TikTokCreator {
    open_id: String,
    #[serde(default)]
    private: bool,
    username: Option<String>,
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    id: String,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Instagram {
    id: String,
    login: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Bluesky {
    handle: String,
    did: String,
    app_password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadsUser {
    id: String,
    username: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Member {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Organization {
    id: String,
    admin: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Channel {
    id: String,
    title: Option<String>,
}

/// An error unless `value` (the `what` of entry `i` of `list`) is non-blank.
fn present(list: &str, i: usize, what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{list}[{i}].{what} is empty"));
    }
    Ok(())
}

fn login(name: Option<&str>) -> Result<InstagramLogin, String> {
    match name {
        None | Some("facebook") => Ok(InstagramLogin::Facebook),
        Some("instagram") => Ok(InstagramLogin::Instagram),
        Some(other) => Err(format!(
            "instagram login {other:?} is neither \"facebook\" nor \"instagram\""
        )),
    }
}

fn validate(s: &State) -> Result<(), String> {
    for (i, c) in s.tiktok_creators.iter().enumerate() {
        present("tiktok_creators", i, "open_id", &c.open_id)?;
    }
    for (i, p) in s.facebook_pages.iter().enumerate() {
        present("facebook_pages", i, "id", &p.id)?;
    }
    for (i, a) in s.instagram_accounts.iter().enumerate() {
        present("instagram_accounts", i, "id", &a.id)?;
        login(a.login.as_deref())?;
    }
    for (i, a) in s.bluesky_accounts.iter().enumerate() {
        present("bluesky_accounts", i, "handle", &a.handle)?;
        present("bluesky_accounts", i, "app_password", &a.app_password)?;
        if !a.did.starts_with("did:") {
            return Err(format!(
                "bluesky_accounts[{i}].did {:?} is not a DID",
                a.did
            ));
        }
    }
    for (i, u) in s.threads_users.iter().enumerate() {
        present("threads_users", i, "id", &u.id)?;
        present("threads_users", i, "username", &u.username)?;
    }
    for (i, m) in s.linkedin_members.iter().enumerate() {
        present("linkedin_members", i, "id", &m.id)?;
    }
    for (i, o) in s.linkedin_organizations.iter().enumerate() {
        present("linkedin_organizations", i, "id", &o.id)?;
        present("linkedin_organizations", i, "admin", &o.admin)?;
    }
    for (i, c) in s.youtube_channels.iter().enumerate() {
        present("youtube_channels", i, "id", &c.id)?;
    }
    Ok(())
}

/// Adds the accounts of the state document `text` (the format in the [control API's
/// docs](super)), answering their tokens; nothing is added when the document is invalid.
pub(crate) fn seed(fakes: &Fakes, text: &[u8]) -> Result<Value, String> {
    let state: State = if text.iter().all(u8::is_ascii_whitespace) {
        State::default()
    } else {
        let value: Value =
            serde_json::from_slice(text).map_err(|e| format!("invalid state document: {e}"))?;
        if !value.is_object() {
            return Err("a state document is a JSON object".to_owned());
        }
        serde_json::from_value(value).map_err(|e| format!("invalid state document: {e}"))?
    };
    validate(&state)?;
    let tiktok: Vec<Value> = state
        .tiktok_creators
        .iter()
        .map(|c| {
            let mut creator = if c.private {
                Creator::private(c.open_id.clone())
            } else {
                Creator::public(c.open_id.clone())
            };
            if let Some(username) = &c.username {
                creator.username.clone_from(username);
            }
            fakes.tiktok.add_creator(creator);
            let scopes: Vec<&str> = match &c.scopes {
                Some(s) => s.iter().map(String::as_str).collect(),
                None => DEFAULT_TIKTOK_SCOPES.to_vec(),
            };
            let t = fakes.tiktok.issue_tokens(&c.open_id, &scopes);
            json!({"open_id": t.open_id, "access_token": t.access_token.expose_secret(),
                   "refresh_token": t.refresh_token.expose_secret()})
        })
        .collect();
    let pages: Vec<Value> = state
        .facebook_pages
        .iter()
        .map(|p| {
            let token = fakes
                .meta
                .add_page(&p.id, p.name.as_deref().unwrap_or(&p.id));
            json!({"id": p.id, "token": token.expose_secret()})
        })
        .collect();
    let mut instagram = Vec::new();
    for a in &state.instagram_accounts {
        let token = fakes
            .meta
            .add_instagram_account(&a.id, login(a.login.as_deref())?);
        instagram.push(json!({"id": a.id, "token": token.expose_secret()}));
    }
    let mut bluesky = Vec::new();
    for a in &state.bluesky_accounts {
        fakes
            .bluesky
            .add_account(BlueskyAccount::new(&a.handle, &a.did, &a.app_password));
        let s = fakes
            .bluesky
            .issue_session(&a.did)
            .ok_or_else(|| format!("the Bluesky account {} could not sign in", a.did))?;
        bluesky.push(json!({"did": s.did, "handle": s.handle,
            "access_jwt": s.access_jwt.expose_secret(), "refresh_jwt": s.refresh_jwt.expose_secret()}));
    }
    let threads: Vec<Value> = state
        .threads_users
        .iter()
        .map(|u| {
            let token = fakes.threads.add_user(&u.id, &u.username);
            json!({"id": u.id, "token": token.expose_secret()})
        })
        .collect();
    let members: Vec<Value> = state
        .linkedin_members
        .iter()
        .map(|m| {
            let t = fakes.linkedin.add_member(&m.id);
            json!({"person_urn": t.person, "access_token": t.access_token.expose_secret(),
                   "refresh_token": t.refresh_token.as_ref().map(|r| r.expose_secret().to_owned())})
        })
        .collect();
    let organizations: Vec<Value> = state
        .linkedin_organizations
        .iter()
        .map(|o| {
            fakes.linkedin.add_organization(&o.id, &o.admin);
            let urn = if o.id.starts_with("urn:li:organization:") {
                o.id.clone()
            } else {
                format!("urn:li:organization:{}", o.id)
            };
            json!({"organization_urn": urn, "admin": o.admin})
        })
        .collect();
    let channels: Vec<Value> = state
        .youtube_channels
        .iter()
        .map(|c| {
            let t = fakes
                .youtube
                .add_channel(&c.id, c.title.as_deref().unwrap_or(&c.id));
            json!({"id": t.channel_id, "access_token": t.access_token.expose_secret(),
                   "refresh_token": t.refresh_token.expose_secret()})
        })
        .collect();
    Ok(json!({
        "tiktok_creators": tiktok,
        "facebook_pages": pages,
        "instagram_accounts": instagram,
        "bluesky_accounts": bluesky,
        "threads_users": threads,
        "linkedin_members": members,
        "linkedin_organizations": organizations,
        "youtube_channels": channels,
    }))
}
