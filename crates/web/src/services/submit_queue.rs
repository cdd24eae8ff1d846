//! Group commit for service applications. A request checks its submission without the
//! database (`store::services::batch::check`); the checked ones waiting at the same moment are
//! read (one query for all their subjects' shared data and licenses), assembled and written
//! in one transaction, and so share one fsync. Every caller is answered only after that
//! commit, so an acknowledged submission is durable; a refused one is answered with its
//! reason and leaves nothing. Under load a batch forms by itself while the previous one
//! commits; a lone submission is written at once.
//!
//! The writer is a thread of its own with a direct SQLite connection (`store::direct`): on
//! the shared runtime each statement's completion waited behind the HTTP tasks for a worker,
//! and with the driver each statement also waited for the driver's thread; the writer is the
//! pipeline's bottleneck, so it runs its statements itself. Without a SQLite file (PostgreSQL)
//! the batch is written through the pool, driven from this thread on the server's runtime: a
//! pool connection is handed back by a task spawned on the runtime that used it, so a runtime
//! of the thread's own, idle between batches, kept it, and the pool never closed (a server on
//! PostgreSQL could not stop).

use crate::state::{AppState, Inner};
use std::collections::BTreeMap;
use std::sync::Weak;
use store::direct::DirectWriter;
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
    /// Starts the writer thread; it stops when the state is dropped.
    pub fn start(state: &AppState) -> SubmitQueue {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let runtime = tokio::runtime::Handle::current();
        let writer = match state.db.sqlite_file().map(|f| DirectWriter::open(&f)) {
            Some(Ok(w)) => Writer::Direct(w),
            Some(Err(e)) => {
                tracing::warn!("一键申报直写连接打开失败，改用连接池写入：{e}");
                Writer::Pool(runtime)
            }
            None => Writer::Pool(runtime),
        };
        let weak = state.downgrade();
        std::thread::Builder::new()
            .name("svc-writer".into())
            .spawn(move || run(weak, rx, writer))
            .expect("writer thread");
        SubmitQueue { tx }
    }

    /// Checks, submits and waits for the commit: the application's id, or why it was refused.
    pub async fn submit(&self, state: &AppState, s: Submission) -> Result<String, store::StoreError> {
        if let Some(why) = super::state(state).suspended(&s.item) {
            return Err(store::StoreError::invalid("item", format!("该事项暂停受理：{why}")));
        }
        let who = svc::Applicant { actor: &s.actor, subject: &s.subject, subject_name: &s.subject_name };
        let cfg = state.config();
        let mut p = batch::check(&cfg, &s.item, &who, s.typed, s.uploads, &s.ip)?;
        batch::sign_checked(&state.db, state.clock.now(), state.seal_key.as_deref(), &cfg, &mut p).await?;
        let (tx, rx) = oneshot::channel();
        self.tx.send((p, tx)).await.map_err(|_| store::StoreError::Other("服务正在停止，请稍后重试".into()))?;
        rx.await.map_err(|_| store::StoreError::Other("提交未完成，请稍后重试".into()))?
    }
}

enum Writer {
    Direct(DirectWriter),
    /// The pool, driven by a task on the server's runtime.
    Pool(tokio::runtime::Handle),
}

fn run(state: Weak<Inner>, mut rx: mpsc::Receiver<Job>, mut writer: Writer) {
    while let Some(first) = rx.blocking_recv() {
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
        match write(&state, &mut writer, checked) {
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
    }
}

/// One transaction for the batch: read, build, write. The timers a submission schedules are
/// due days later, so the job runner is not woken: its regular poll finds them.
fn write(
    state: &AppState,
    writer: &mut Writer,
    checked: Vec<batch::Checked>,
) -> Result<Vec<Result<String, store::StoreError>>, store::StoreError> {
    let cal = state.calendar();
    // One catalog version for the whole batch; a submission checked against an older one is
    // refused alone (`batch::prepare_many`).
    let cfg = state.config();
    let rt = Runtime { cfg: &cfg, cal: &cal };
    let now = state.clock.now();
    match writer {
        Writer::Direct(w) => w.run(async |tx| {
            let prepared = batch::prepare_many(tx, &cfg, now, checked).await?;
            let (rows, results) = batch::build(&rt, now, prepared);
            rows.write(tx).await?;
            Ok(results)
        }),
        // Driven from this thread on the server's runtime (its IO and the tasks that hand
        // connections back run there; on a test's single-thread runtime, its thread drives them
        // while it waits for the answer).
        Writer::Pool(runtime) => runtime.block_on(async {
            let mut tx = state.db.begin().await?;
            let prepared = batch::prepare_many(&mut tx, &cfg, now, checked).await?;
            let (rows, results) = batch::build(&rt, now, prepared);
            rows.write(&mut tx).await?;
            tx.commit().await?;
            Ok(results)
        }),
    }
}
