//! The control API's reset: everything but the Pages, Instagram accounts and their tokens goes.

use super::{Inner, MetaState};

impl MetaState {
    /// Forgets posts, uploads, containers, quotas and faults; keeps accounts, tokens and the id
    /// counter (so no id is handed out twice).
    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        let old = std::mem::take(&mut *inner);
        *inner = Inner {
            tokens: old.tokens,
            pages: old.pages,
            instagram: old.instagram,
            next_id: old.next_id,
            ..Inner::default()
        };
        drop(inner);
        self.faults.clear();
    }
}
