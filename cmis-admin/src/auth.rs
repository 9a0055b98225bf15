//! Who is asking: the [`Authorizer`], the [`Principal`] it resolves a request to, and the CSRF
//! token that every change must carry.

use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use cmis_core::TenantId;
use cmis_scheduler::admin::Scope;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::Shared;

/// Who a request comes from, and what they may see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Principal {
    /// Who they are, as written into the audit trail of their changes.
    pub actor: String,
    /// Whose jobs and accounts they see.
    pub scope: Scope,
    /// Whether they may change jobs (retry, cancel, reschedule).
    pub can_change: bool,
}

impl Principal {
    /// `actor`, seeing and steering one tenant's jobs.
    pub fn tenant(actor: impl Into<String>, tenant: TenantId) -> Self {
        Self {
            actor: actor.into(),
            scope: Scope::Tenant(tenant),
            can_change: true,
        }
    }

    /// `actor`, one of the operator's own staff, seeing every tenant: an explicit grant.
    pub fn all_tenants(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            scope: Scope::AllTenants,
            can_change: true,
        }
    }

    /// The same principal, allowed to look but not to change anything.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.can_change = false;
        self
    }
}

/// Resolves each request to a [`Principal`], or refuses it (`None`: the dashboard answers 401
/// and shows nothing). The embedding app knows who is signed in (its session cookie, a proxy's
/// header); the dashboard never guesses.
///
/// Any `Fn(&Parts) -> Option<Principal>` is an authorizer.
#[async_trait]
pub trait Authorizer: Send + Sync + 'static {
    /// Who sent `request`, if anyone the dashboard should serve.
    async fn authorize(&self, request: &Parts) -> Option<Principal>;
}

#[async_trait]
impl<F> Authorizer for F
where
    F: Fn(&Parts) -> Option<Principal> + Send + Sync + 'static,
{
    async fn authorize(&self, request: &Parts) -> Option<Principal> {
        self(request)
    }
}

/// A request from a known principal: who, the path the dashboard is mounted under, and the
/// CSRF token of their forms.
pub(crate) struct Viewer {
    pub(crate) principal: Principal,
    /// The mount path, without a trailing `/` (empty at the root).
    pub(crate) base: String,
    pub(crate) csrf: String,
    pub(crate) shared: Arc<Shared>,
}

impl Viewer {
    /// A link to `path` (which starts with `/`) of the dashboard.
    pub(crate) fn link(&self, path: &str) -> String {
        match path {
            // A nested router's root is its mount path itself (`/admin`, not `/admin/`).
            "/" if !self.base.is_empty() => self.base.clone(),
            _ => format!("{}{path}", self.base),
        }
    }

    /// Whether `token` is this viewer's CSRF token (compared in constant time).
    pub(crate) fn csrf_ok(&self, token: &str) -> bool {
        let mac = mac(&self.shared.csrf_key, &self.principal);
        let Ok(raw) = hex::decode(token) else {
            return false;
        };
        mac.verify_slice(&raw).is_ok()
    }
}

fn mac(key: &[u8; 32], p: &Principal) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(p.actor.as_bytes());
    mac.update(b"\0");
    match &p.scope {
        Scope::Tenant(t) => {
            mac.update(b"tenant\0");
            mac.update(t.as_str().as_bytes());
        }
        _ => mac.update(b"all"),
    }
    mac
}

/// The path the router is mounted under: the original path minus the path the router saw.
fn mount_base(parts: &Parts) -> String {
    let seen = parts.uri.path();
    let original = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(seen, |o| o.0.path());
    let base = if seen == "/" {
        // The root of a nested router: the whole original path is the mount path.
        original
    } else {
        original.strip_suffix(seen).unwrap_or("")
    };
    base.trim_end_matches('/').to_owned()
}

impl FromRequestParts<Arc<Shared>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        shared: &Arc<Shared>,
    ) -> Result<Self, Self::Rejection> {
        let Some(principal) = shared.authorizer.authorize(parts).await else {
            return Err((
                StatusCode::UNAUTHORIZED,
                crate::plain::bare("Not signed in", "Sign in to the application first."),
            )
                .into_response());
        };
        let csrf = hex::encode(mac(&shared.csrf_key, &principal).finalize().into_bytes());
        Ok(Self {
            principal,
            base: mount_base(parts),
            csrf,
            shared: shared.clone(),
        })
    }
}
