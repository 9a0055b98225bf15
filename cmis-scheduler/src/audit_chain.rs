//! The audit trail's hash chain: every tenant's records are numbered 1, 2, 3, … and each one's
//! hash covers the previous hash, its number and its content, so that an edited, deleted,
//! inserted or reordered record breaks the chain. The newest number and hash of each tenant
//! (the *head*) are kept apart, so that a record deleted from the end shows too.
//!
//! Stores append through `extend` (inside the transaction that writes the records);
//! [`ScheduleStore::verify_audit`](crate::ScheduleStore::verify_audit) reads a tenant's trail
//! and its head and checks them with `verify`.

use std::fmt;

use sha2::{Digest, Sha256};

/// A hash of the chain (SHA-256).
pub(crate) type Hash = [u8; 32];

/// The hash before a tenant's first record.
pub(crate) const GENESIS: Hash = [0; 32];

/// One audit record as stored: the columns the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditRow {
    pub(crate) tenant: String,
    pub(crate) at: i64,
    pub(crate) action: String,
    pub(crate) platform: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) subject: Option<String>,
    pub(crate) detail: Option<String>,
}

impl AuditRow {
    /// A row about job `job` of `tenant` on (`platform`, `account`).
    pub(crate) fn job(
        tenant: impl Into<String>,
        at: i64,
        action: impl Into<String>,
        platform: impl Into<String>,
        account: impl Into<String>,
        job: i64,
        detail: String,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            at,
            action: action.into(),
            platform: Some(platform.into()),
            account: Some(account.into()),
            subject: Some(job.to_string()),
            detail: Some(detail),
        }
    }

    /// The row of `action` on `job`.
    pub(crate) fn for_job(job: &crate::Job, at: i64, action: &str, detail: String) -> Self {
        Self::job(
            job.tenant.as_str(),
            at,
            action,
            job.target.account.platform.as_str(),
            job.target.account.account.as_str(),
            job.id.get(),
            detail,
        )
    }

    /// The `job.claimed` rows of a claim (who holds each job, with which token, to do what).
    pub(crate) fn claimed(claimed: &[crate::ClaimedJob], at: i64) -> Vec<Self> {
        claimed
            .iter()
            .map(|c| {
                let detail = serde_json::json!({
                    "from": c.claimed_from.as_str(),
                    "owner": c.lease.owner,
                    "fencing_token": c.lease.token.to_string(),
                    "phase": c.phase.as_str(),
                });
                Self::for_job(&c.job, at, "job.claimed", detail.to_string())
            })
            .collect()
    }

    /// The job id a job's row is about (for ordering rows of one batch).
    pub(crate) fn subject_id(&self) -> Option<i64> {
        self.subject.as_deref().and_then(|s| s.parse().ok())
    }

    /// The row of a caller's record.
    pub(crate) fn from_record(record: &cmis_core::AuditRecord) -> cmis_core::Result<Self> {
        let detail = serde_json::to_string(&record.detail).map_err(|e| {
            cmis_core::Error::internal(format!("audit detail cannot be encoded: {e}"))
        })?;
        Ok(Self {
            tenant: record.tenant.as_str().to_owned(),
            at: crate::stored::micros(record.at),
            action: record.action.clone(),
            platform: record
                .account
                .as_ref()
                .map(|a| a.platform.as_str().to_owned()),
            account: record
                .account
                .as_ref()
                .map(|a| a.account.as_str().to_owned()),
            subject: record.subject.clone(),
            detail: Some(detail),
        })
    }
}

/// A stored record with its place in the chain (`None`: outside the chain).
pub(crate) type Stored = (AuditRow, Option<(i64, Hash)>);

/// An [`AuditRow`] with its place in the chain.
#[derive(Debug, Clone)]
pub(crate) struct Chained {
    pub(crate) row: AuditRow,
    pub(crate) seq: i64,
    pub(crate) hash: Hash,
}

/// The hash of record `seq` with content `row`, after `prev`.
pub(crate) fn link(prev: &Hash, seq: i64, row: &AuditRow) -> Hash {
    let mut h = Sha256::new();
    h.update(b"cmis-audit-v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    let field = |h: &mut Sha256, v: Option<&str>| match v {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    };
    field(&mut h, Some(&row.tenant));
    h.update(row.at.to_be_bytes());
    field(&mut h, Some(&row.action));
    field(&mut h, row.platform.as_deref());
    field(&mut h, row.account.as_deref());
    field(&mut h, row.subject.as_deref());
    field(&mut h, row.detail.as_deref());
    h.finalize().into()
}

/// Links rows onto the heads of their tenants, in order. Heads of tenants not given start at
/// the genesis. Returns the chained rows and the new heads.
pub(crate) fn extend(
    heads: &mut std::collections::BTreeMap<String, (i64, Hash)>,
    rows: Vec<AuditRow>,
) -> Vec<Chained> {
    rows.into_iter()
        .map(|row| {
            let head = heads.entry(row.tenant.clone()).or_insert((0, GENESIS));
            let seq = head.0 + 1;
            let hash = link(&head.1, seq, &row);
            *head = (seq, hash);
            Chained { row, seq, hash }
        })
        .collect()
}

/// Converts a stored hash; a wrong length never matches.
pub(crate) fn hash_from(bytes: &[u8]) -> Hash {
    bytes.try_into().unwrap_or([0xff; 32])
}

/// What [`ScheduleStore::verify_audit`](crate::ScheduleStore::verify_audit) found wrong at one
/// place in a tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditProblem {
    /// The record numbered `seq` does not match its hash: its content (or hash) was edited.
    Edited {
        /// The record's number in the tenant's chain.
        seq: i64,
    },
    /// Records are missing before the record numbered `seq` (it expected `expected`).
    Missing {
        /// The number of the record found.
        seq: i64,
        /// The number expected there.
        expected: i64,
    },
    /// The record numbered `seq` was stored out of order (a record with a higher number was
    /// stored before it).
    Reordered {
        /// The record's number in the tenant's chain.
        seq: i64,
    },
    /// The trail ends before the tenant's head: records were deleted from the end, or the
    /// head disagrees with the last record.
    HeadMismatch {
        /// The last record's number (0 when there is none).
        last_seq: i64,
        /// The head's number.
        head_seq: i64,
    },
    /// A record carries no place in the chain (written outside the store).
    Unchained {
        /// How many such records.
        count: u64,
    },
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Edited { seq } => write!(f, "record {seq} was edited"),
            Self::Missing { seq, expected } => {
                write!(f, "records {expected} to {} are missing", seq - 1)
            }
            Self::Reordered { seq } => write!(f, "record {seq} is out of order"),
            Self::HeadMismatch { last_seq, head_seq } => write!(
                f,
                "the trail ends at record {last_seq} but its head is record {head_seq}"
            ),
            Self::Unchained { count } => write!(f, "{count} records are outside the chain"),
        }
    }
}

/// The result of checking one tenant's audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditVerification {
    /// Records checked.
    pub records: u64,
    /// Everything found wrong; empty when the trail is intact.
    pub problems: Vec<AuditProblem>,
}

impl AuditVerification {
    /// Whether the trail is intact: every record in place, unedited, up to the head.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a tenant's records (in the order they were stored, each with its number and hash,
/// `None` for a record outside the chain) against the chain and the tenant's head.
#[cfg(test)]
pub(crate) fn verify(stored: &[Stored], head: Option<(i64, Hash)>) -> AuditVerification {
    let mut walk = ChainWalk::default();
    for (row, place) in stored {
        walk.push(row.clone(), *place);
    }
    walk.finish(head)
}

/// Rows a [`ChainWalk`] holds at most while it waits for a number that came late.
const REORDER_WINDOW: usize = 4_096;

/// Checks a tenant's trail fed in stored order, page by page, in bounded memory: the chain is
/// walked by number, with records that arrive ahead of a gap held back (up to
/// [`REORDER_WINDOW`]) until the gap is filled or given up. A trail read in pages gets the
/// verdict a walk of the whole trail sorted by number gets, with the same findings unless a
/// record comes after one numbered higher (it is reported out of order either way, and walked
/// where it comes when its turn has passed).
#[derive(Debug, Default)]
pub(crate) struct ChainWalk {
    records: u64,
    unchained: u64,
    /// The highest number seen so far, in stored order.
    highest: i64,
    reordered: Vec<AuditProblem>,
    walked: Vec<AuditProblem>,
    /// Records waiting for their turn, by (number, stored position).
    waiting: std::collections::BTreeMap<(i64, u64), (AuditRow, Hash)>,
    prev_seq: i64,
    /// The last walked record's hash; [`GENESIS`] (all zeros, the default) before the first.
    prev_hash: Hash,
}

impl ChainWalk {
    /// The next record in stored order.
    pub(crate) fn push(&mut self, row: AuditRow, place: Option<(i64, Hash)>) {
        let pos = self.records;
        self.records += 1;
        let Some((seq, hash)) = place else {
            self.unchained += 1;
            return;
        };
        // Stored order must follow the numbers.
        if seq < self.highest {
            self.reordered.push(AuditProblem::Reordered { seq });
        }
        self.highest = self.highest.max(seq);
        self.waiting.insert((seq, pos), (row, hash));
        self.advance(false);
    }

    /// Walks the waiting records whose turn has come: the next number (or a lower one: a
    /// repeat), or, when the window is full or the trail has ended, the lowest waiting.
    fn advance(&mut self, all: bool) {
        while let Some((&(seq, _), _)) = self.waiting.first_key_value() {
            let due = seq <= self.prev_seq + 1 || all || self.waiting.len() > REORDER_WINDOW;
            if !due {
                break;
            }
            let Some((_, (row, hash))) = self.waiting.pop_first() else {
                break;
            };
            if seq != self.prev_seq + 1 {
                self.walked.push(AuditProblem::Missing {
                    seq,
                    expected: self.prev_seq + 1,
                });
            }
            if link(&self.prev_hash, seq, &row) != hash {
                self.walked.push(AuditProblem::Edited { seq });
            }
            (self.prev_seq, self.prev_hash) = (seq, hash);
        }
    }

    /// The verdict, once every record was pushed, against the tenant's head.
    pub(crate) fn finish(mut self, head: Option<(i64, Hash)>) -> AuditVerification {
        self.advance(true);
        let mut problems = self.reordered;
        problems.append(&mut self.walked);
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS));
        if head_seq != self.prev_seq || head_hash != self.prev_hash {
            problems.push(AuditProblem::HeadMismatch {
                last_seq: self.prev_seq,
                head_seq,
            });
        }
        if self.unchained > 0 {
            problems.push(AuditProblem::Unchained {
                count: self.unchained,
            });
        }
        AuditVerification {
            records: self.records,
            problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn row(tenant: &str, n: i64) -> AuditRow {
        AuditRow {
            tenant: tenant.into(),
            at: n,
            action: "job.published".into(),
            platform: Some("facebook".into()),
            account: Some("page".into()),
            subject: Some(n.to_string()),
            detail: Some(format!("{{\"n\":\"{n}\"}}")),
        }
    }

    fn chain(n: i64) -> (Vec<Stored>, Option<(i64, Hash)>) {
        let mut heads = BTreeMap::new();
        let rows = extend(&mut heads, (1..=n).map(|i| row("a", i)).collect());
        let stored = rows
            .into_iter()
            .map(|c| (c.row, Some((c.seq, c.hash))))
            .collect();
        (stored, heads.get("a").copied())
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        let (stored, head) = chain(5);
        let v = verify(&stored, head);
        assert!(v.is_intact(), "{:?}", v.problems);
        assert_eq!(v.records, 5);
        assert!(verify(&[], None).is_intact());
    }

    #[test]
    fn an_edit_a_deletion_a_swap_and_a_truncation_are_found() {
        let (mut stored, head) = chain(5);
        stored[2].0.detail = Some("{}".into());
        assert_eq!(
            verify(&stored, head).problems,
            [AuditProblem::Edited { seq: 3 }]
        );

        let (mut stored, head) = chain(5);
        stored.remove(1);
        assert_eq!(
            verify(&stored, head).problems,
            [
                AuditProblem::Missing {
                    seq: 3,
                    expected: 2
                },
                AuditProblem::Edited { seq: 3 }
            ]
        );

        let (mut stored, head) = chain(5);
        stored.swap(1, 2);
        assert_eq!(
            verify(&stored, head).problems,
            [AuditProblem::Reordered { seq: 2 }]
        );

        let (mut stored, head) = chain(5);
        stored.pop();
        assert_eq!(
            verify(&stored, head).problems,
            [AuditProblem::HeadMismatch {
                last_seq: 4,
                head_seq: 5
            }]
        );
    }

    /// The whole-trail walk the pages replaced: sort every chained record by number.
    fn sorted_reference(stored: &[Stored], head: Option<(i64, Hash)>) -> Vec<AuditProblem> {
        let mut problems = Vec::new();
        let mut chained: Vec<(&AuditRow, i64, Hash, usize)> = Vec::new();
        let mut unchained = 0;
        for (pos, (row, place)) in stored.iter().enumerate() {
            match place {
                Some((seq, hash)) => chained.push((row, *seq, *hash, pos)),
                None => unchained += 1,
            }
        }
        let mut highest = 0;
        for (_, seq, _, _) in &chained {
            if *seq < highest {
                problems.push(AuditProblem::Reordered { seq: *seq });
            }
            highest = highest.max(*seq);
        }
        chained.sort_by_key(|c| (c.1, c.3));
        let (mut prev_seq, mut prev_hash) = (0, GENESIS);
        for (row, seq, hash, _) in &chained {
            if *seq != prev_seq + 1 {
                problems.push(AuditProblem::Missing {
                    seq: *seq,
                    expected: prev_seq + 1,
                });
            }
            if link(&prev_hash, *seq, row) != *hash {
                problems.push(AuditProblem::Edited { seq: *seq });
            }
            (prev_seq, prev_hash) = (*seq, *hash);
        }
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS));
        if head_seq != prev_seq || head_hash != prev_hash {
            problems.push(AuditProblem::HeadMismatch {
                last_seq: prev_seq,
                head_seq,
            });
        }
        if unchained > 0 {
            problems.push(AuditProblem::Unchained { count: unchained });
        }
        problems
    }

    /// Review N16: the paged walk (bounded memory) finds what sorting the whole trail found,
    /// for tampering of every kind: edits, deletions, repeats, swaps near and far (within the
    /// reorder window), records outside the chain, a lost head.
    #[test]
    fn the_paged_walk_agrees_with_sorting_the_whole_trail() {
        let mut rng = fastrand::Rng::with_seed(16);
        for case in 0..2_000 {
            let n = rng.i64(0..60);
            let (mut stored, mut head) = chain(n);
            for _ in 0..rng.usize(0..4) {
                if stored.is_empty() {
                    break;
                }
                let i = rng.usize(0..stored.len());
                match rng.u8(0..7) {
                    0 => stored[i].0.detail = Some("{}".into()),
                    1 => {
                        stored.remove(i);
                    }
                    2 => {
                        let j = rng.usize(0..stored.len());
                        stored.swap(i, j);
                    }
                    3 => stored.push(stored[i].clone()),
                    4 => stored[i].1 = None,
                    5 => head = None,
                    _ => {
                        if let Some((seq, _)) = &mut stored[i].1 {
                            *seq += rng.i64(-3..4);
                        }
                    }
                }
            }
            let (walked, sorted) = (
                verify(&stored, head).problems,
                sorted_reference(&stored, head),
            );
            let reordered = |p: &[AuditProblem]| -> Vec<AuditProblem> {
                p.iter()
                    .filter(|p| matches!(p, AuditProblem::Reordered { .. }))
                    .cloned()
                    .collect()
            };
            // The same verdict and the same records out of order, always; the same findings
            // exactly when no record comes after one numbered higher (a late record is
            // walked when it comes, not where a sort would put it).
            assert_eq!(walked.is_empty(), sorted.is_empty(), "case {case}");
            assert_eq!(reordered(&walked), reordered(&sorted), "case {case}");
            if reordered(&sorted).is_empty() {
                assert_eq!(walked, sorted, "case {case}");
            }
        }
        // Far beyond the window the answer may differ, but stays bounded and still reports
        // the reordering.
        let (mut stored, head) = chain(REORDER_WINDOW as i64 + 10);
        let first = stored.remove(0);
        stored.push(first);
        let v = verify(&stored, head);
        assert!(v.problems.contains(&AuditProblem::Reordered { seq: 1 }));
    }

    #[test]
    fn tenants_have_separate_chains() {
        let mut heads = BTreeMap::new();
        let rows = extend(&mut heads, vec![row("a", 1), row("b", 1), row("a", 2)]);
        assert_eq!(
            rows.iter().map(|c| c.seq).collect::<Vec<_>>(),
            [1, 1, 2],
            "numbered per tenant"
        );
        assert_ne!(rows[0].hash, rows[1].hash, "the tenant is part of the hash");
    }
}
