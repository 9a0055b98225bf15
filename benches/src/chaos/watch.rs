//! Early publishing: every worker writes down, on the true clock, when it started each publish
//! call (by the post's marker), whatever its own clock says; the parent reads these logs after
//! the run and compares them with each job's scheduled time. A skewed clock must never make a
//! post go out before its time.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use cmis_core::time::OffsetDateTime;
use cmis_core::{
    Capabilities, Checkpoint, Error, Outcome, Platform, Post, PublishContext, Publisher,
    Reconciliation, Result, Target,
};

use super::world::marker_of;

/// A publisher that writes `"{marker} {unix_ms}\n"` to a log before each publish call.
#[derive(Debug)]
pub(crate) struct Watched {
    inner: Arc<dyn Publisher>,
    log: Arc<Mutex<File>>,
}

/// The log of one worker process, shared by its publishers.
pub(crate) fn open_log(dir: &Path, worker: &str) -> Result<Arc<Mutex<File>>> {
    let path = dir.join(format!("{worker}.publishes"));
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::internal(format!("cannot open {}: {e}", path.display())))?;
    Ok(Arc::new(Mutex::new(file)))
}

impl Watched {
    pub(crate) fn new(inner: Arc<dyn Publisher>, log: Arc<Mutex<File>>) -> Self {
        Self { inner, log }
    }
}

#[async_trait]
impl Publisher for Watched {
    fn platform(&self) -> Platform {
        self.inner.platform()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn validate(&self, target: &Target, post: &Post) -> Result<()> {
        self.inner.validate(target, post).await
    }

    async fn publish(&self, target: &Target, post: &Post, ctx: &PublishContext) -> Result<Outcome> {
        if let Some(i) = post.text.as_deref().and_then(marker_of) {
            let ms = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
            // Unbuffered, one write per line: a SIGKILL loses nothing already started.
            let mut f = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = f.write_all(format!("{i} {ms}\n").as_bytes());
        }
        self.inner.publish(target, post, ctx).await
    }

    async fn resume(
        &self,
        target: &Target,
        checkpoint: &Checkpoint,
        ctx: &PublishContext,
    ) -> Result<Outcome> {
        self.inner.resume(target, checkpoint, ctx).await
    }

    async fn reconcile(
        &self,
        target: &Target,
        post: &Post,
        checkpoint: Option<&Checkpoint>,
        ctx: &PublishContext,
    ) -> Result<Reconciliation> {
        self.inner.reconcile(target, post, checkpoint, ctx).await
    }
}

/// The earliest publish start of each post (Unix milliseconds), from every log in `dir`.
pub(crate) fn first_starts(dir: &Path) -> HashMap<usize, i128> {
    let mut first: HashMap<usize, i128> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return first;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("publishes") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines() {
            let mut parts = line.split(' ');
            let (Some(Ok(i)), Some(Ok(ms))) = (
                parts.next().map(str::parse::<usize>),
                parts.next().map(str::parse::<i128>),
            ) else {
                continue;
            };
            let e = first.entry(i).or_insert(ms);
            *e = (*e).min(ms);
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_start_of_each_post_is_read_from_every_log() {
        let dir = std::env::temp_dir().join(format!(
            "cmis-chaos-watch-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.publishes"), "1 500\n2 900\n1 400\ntorn").unwrap();
        std::fs::write(dir.join("b.publishes"), "1 450\n3 10\n").unwrap();
        std::fs::write(dir.join("c.log"), "1 1\n").unwrap();
        let first = first_starts(&dir);
        assert_eq!(first.get(&1), Some(&400));
        assert_eq!(first.get(&2), Some(&900));
        assert_eq!(first.get(&3), Some(&10));
        assert_eq!(first.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
