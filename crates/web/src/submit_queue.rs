//! Group commit for service applications. A request checks its submission without the
//! database (`store::services::batch::check`); the checked ones waiting at the same moment are
//! read (one query for all their subjects' shared data and licenses), assembled and written
//! by one task in one transaction with a few multi-row statements, and so share one fsync.
//! Every caller is answered only after that commit, so an acknowledged submission is durable;
//! a refused one is answered with its reason and leaves nothing. Under load a batch forms by
//! itself while the previous one commits; a lone submission is written at once.

use crate::state::{AppState, Inner};
use std::collections::BTreeMap;
use std::sync::Weak;
use store::services::{self as svc, Upload, batch};
use store::workflow::Runtime;
use tokio::sync::{mpsc, oneshot};

/// Most submissions in one transaction; bounds the wait of the last one.
const MAX_BATCH: usize = 256;

pub struct Submission {
    pub item: String,
    pub actor: domain::workflow::Actor,
    pub subject: String,
    pub subject_name: String,
    pub typed: BTreeMap<String, String>,
    pub uploads: Vec<Upload>,
    pub ip: String,
}

type Job = (batch::Checked, oneshot::Sender<Result<String, store::StoreError>>);

#[derive(Clone)]
pub struct SubmitQueue {
    tx: mpsc::Sender<Job>,
}

impl SubmitQueue {
    /// Starts the writer task; it stops when the state is dropped.
    pub fn start(state: &AppState) -> SubmitQueue {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(state.downgrade(), rx));
        SubmitQueue { tx }
    }

    /// Checks, submits and waits for the commit: the application's id, or why it was refused.
    pub async fn submit(&self, state: &AppState, s: Submission) -> Result<String, store::StoreError> {
        if let Some(why) = state.suspended(&s.item) {
            return Err(store::StoreError::invalid("item", format!("该事项暂停受理：{why}")));
        }
        let who = svc::Applicant { actor: &s.actor, subject: &s.subject, subject_name: &s.subject_name };
        let p = batch::check(&state.config, &s.item, &who, s.typed, s.uploads, &s.ip)?;
        let (tx, rx) = oneshot::channel();
        self.tx.send((p, tx)).await.map_err(|_| store::StoreError::Other("服务正在停止，请稍后重试".into()))?;
        rx.await.map_err(|_| store::StoreError::Other("提交未完成，请稍后重试".into()))?
    }
}

async fn run(state: Weak<Inner>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let Some(inner) = state.upgrade() else { return };
        let state = AppState::from_inner(inner);
        let (checked, replies): (Vec<batch::Checked>, Vec<_>) = jobs.into_iter().unzip();
        let results = write(&state, checked).await;
        let woke = results.as_ref().map(|r| r.iter().any(|x| x.is_ok())).unwrap_or(false);
        match results {
            Ok(rs) => {
                for (reply, r) in replies.into_iter().zip(rs) {
                    let _ = reply.send(r);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(store::StoreError::Other(msg.clone())));
                }
            }
        }
        if woke && let Some(w) = &state.job_waker {
            w.notify_one();
        }
    }
}

/// One transaction for the batch: read, assemble, write.
async fn write(
    state: &AppState,
    checked: Vec<batch::Checked>,
) -> Result<Vec<Result<String, store::StoreError>>, store::StoreError> {
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config, cal: &cal };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let prepared = batch::prepare_many(&mut tx, &state.config, now, checked).await?;
    let ok: Vec<&batch::Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
    let written = batch::write_many(&mut tx, &rt, now, &ok).await?;
    tx.commit().await?;
    let mut written = written.into_iter();
    Ok(prepared
        .into_iter()
        .map(|p| match p {
            Ok(p) => written.next().unwrap_or(Ok(())).map(|_| p.id),
            Err(e) => Err(e),
        })
        .collect())
}
