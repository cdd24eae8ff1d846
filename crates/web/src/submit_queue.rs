//! Group commit for service applications. A submission is read and checked on a reader
//! connection by its own request (`store::services::batch::prepare`); the prepared ones
//! waiting at the same moment are written by one task in one transaction with a few
//! multi-row statements, and so share one fsync. Every caller is answered only after that
//! commit, so an acknowledged submission is durable; a refused one is refused before it
//! reaches the batch. Under load a batch forms by itself while the previous one commits; a
//! lone submission is written at once.

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

type Job = (batch::Prepared, oneshot::Sender<Result<String, store::StoreError>>);

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
        let mut conn = state.db.reader().acquire().await?;
        let who = svc::Applicant { actor: &s.actor, subject: &s.subject, subject_name: &s.subject_name };
        let p = batch::prepare(&mut conn, &state.config, state.clock.now(), &s.item, &who, &s.typed, s.uploads, &s.ip)
            .await?;
        drop(conn);
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
        let results = write(&state, &jobs).await;
        let woke = results.as_ref().map(|r| r.iter().any(|x| x.is_ok())).unwrap_or(false);
        match results {
            Ok(rs) => {
                for ((_, reply), r) in jobs.into_iter().zip(rs) {
                    let _ = reply.send(r);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (_, reply) in jobs {
                    let _ = reply.send(Err(store::StoreError::Other(msg.clone())));
                }
            }
        }
        if woke && let Some(w) = &state.job_waker {
            w.notify_one();
        }
    }
}

/// One transaction for the batch.
async fn write(state: &AppState, jobs: &[Job]) -> Result<Vec<Result<String, store::StoreError>>, store::StoreError> {
    let cal = state.calendar();
    let rt = Runtime { cfg: &state.config, cal: &cal };
    let now = state.clock.now();
    let batch: Vec<&batch::Prepared> = jobs.iter().map(|j| &j.0).collect();
    let mut tx = state.db.begin().await?;
    let results = batch::write_many(&mut tx, &rt, now, &batch).await?;
    tx.commit().await?;
    Ok(results.into_iter().zip(batch).map(|(r, p)| r.map(|_| p.id.clone())).collect())
}
