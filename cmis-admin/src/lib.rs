//! An embeddable dashboard for cmis's scheduler: an [`axum::Router`] that an app mounts under
//! any path, showing every post and token and steering them.
//!
//! - **Overview**: jobs by state and platform, publishes and lateness over the last day, the
//!   accounts a person must re-authorise soon.
//! - **Jobs**: filters (state, platform, account, error kind, error text, post), newest first,
//!   keyset pages; a job's page with its timeline, receipt and permalink, its last error and what
//!   to do about it; retry, cancel and reschedule; bulk actions by filter.
//! - **Accounts**: token health ("re-authorise within 5 days"), holds, recent failures.
//! - **Audit**: the trail, page by page, with the result of its hash-chain check.
//!
//! Secure by default: the builder needs an [`Authorizer`] (there is no open default); every
//! request resolves to one tenant or an explicit all-tenants scope; another tenant's job answers
//! 404; every change needs the page's CSRF token; pages carry a strict Content-Security-Policy
//! and no script; no token or secret is ever rendered; the stylesheet is embedded.
//!
//! ```no_run
//! use std::sync::Arc;
//! use cmis_admin::{AdminRouter, Principal};
//! use cmis_core::TenantId;
//! use cmis_scheduler::admin::Admin;
//! use cmis_scheduler::SqliteStore;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(SqliteStore::builder().path("cmis.db").build().await?);
//! let admin = Admin::new(store.clone()).with_credentials(store);
//! // Your app decides who is signed in (a session cookie, a proxy's header, ...).
//! let dashboard = AdminRouter::builder(admin)
//!     .authorizer(|request: &axum::http::request::Parts| {
//!         let user = request.headers.get("x-user")?.to_str().ok()?;
//!         Some(Principal::tenant(user, TenantId::new("acme")))
//!     })
//!     .build()?;
//! let app = axum::Router::new().nest("/admin", dashboard);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod actions;
mod auth;
mod html;
mod pages;
mod plain;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use cmis_core::{Clock, Error, Result, SystemClock};
use cmis_scheduler::admin::Admin;

pub use auth::{Authorizer, Principal};

/// Shared by every handler.
pub(crate) struct Shared {
    pub(crate) admin: Admin,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) csrf_key: [u8; 32],
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) title: String,
}

/// Builds the dashboard's [`Router`]: [`AdminRouter::builder`].
#[derive(Debug)]
pub struct AdminRouter;

impl AdminRouter {
    /// A builder for the dashboard of `admin`. [`build`](AdminRouterBuilder::build) refuses to
    /// make a router until an [`Authorizer`] is set.
    pub fn builder(admin: Admin) -> AdminRouterBuilder {
        AdminRouterBuilder {
            admin,
            authorizer: None,
            clock: Arc::new(SystemClock),
            title: "cmis".to_owned(),
        }
    }
}

/// Settings of the dashboard ([`AdminRouter::builder`]).
pub struct AdminRouterBuilder {
    admin: Admin,
    authorizer: Option<Arc<dyn Authorizer>>,
    clock: Arc<dyn Clock>,
    title: String,
}

impl std::fmt::Debug for AdminRouterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminRouterBuilder")
            .field("admin", &self.admin)
            .field("authorizer", &self.authorizer.is_some())
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

impl AdminRouterBuilder {
    /// Who may see what: every request is resolved to a [`Principal`] (one tenant, or all
    /// tenants) or refused. Required.
    #[must_use]
    pub fn authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// The clock "now" is read from (the system clock by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The product name in the pages' header ("cmis" by default).
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The router, to mount anywhere (`Router::nest("/admin", router)`): links follow the
    /// path it is mounted under.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](cmis_core::ErrorKind::InvalidInput) without an
    /// [`Authorizer`]: a dashboard is never open by default.
    pub fn build(self) -> Result<Router> {
        let authorizer = self.authorizer.ok_or_else(|| {
            Error::invalid_input(
                "the dashboard needs an Authorizer (AdminRouterBuilder::authorizer): it is never \
                 open by default",
            )
        })?;
        let mut csrf_key = [0u8; 32];
        getrandom::fill(&mut csrf_key)
            .map_err(|e| Error::internal(format!("no randomness for the CSRF key: {e}")))?;
        let shared = Arc::new(Shared {
            admin: self.admin,
            authorizer,
            csrf_key,
            clock: self.clock,
            title: self.title,
        });
        Ok(Router::new()
            .route("/", get(pages::overview::page))
            .route("/jobs", get(pages::jobs::page))
            .route("/jobs/{id}", get(pages::job::page))
            .route("/jobs/{id}/retry", post(actions::retry))
            .route("/jobs/{id}/cancel", post(actions::cancel))
            .route("/jobs/{id}/reschedule", post(actions::reschedule))
            .route("/bulk", post(actions::bulk))
            .route("/accounts", get(pages::accounts::page))
            .route("/audit", get(pages::audit::page))
            .route("/assets/admin.css", get(html::stylesheet))
            .fallback(html::not_found)
            .layer(axum::middleware::from_fn(html::security_headers))
            .with_state(shared))
    }
}
