//! Group commit: one writer thread, many writes per transaction.
//!
//! Every write is a job sent to the writer thread, which owns the only write connection. The
//! thread takes the first waiting job and then every job queued behind it (up to
//! [`MAX_BATCH`]), runs each inside its own SAVEPOINT within one transaction, commits once
//! (one WAL fsync, `synchronous=FULL`) and only then replies to each caller. A job that fails
//! rolls back to its savepoint and fails alone; a failed COMMIT fails every job in the batch.
//! Under load, the batch fills while the previous commit's fsync runs, so N concurrent small
//! PUTs cost about one fsync per batch instead of one each.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{StoreError, StoreResult};

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 256;
/// Jobs that may wait for the writer before callers are made to wait for space.
const QUEUE_DEPTH: usize = 4096;

/// Why a batch did not commit (cloned to every job of the batch).
#[derive(Clone)]
enum CommitFailure {
    Full,
    Other(String),
}

impl CommitFailure {
    fn of(e: &rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::Full,
            _ => Self::Other(e.to_string()),
        }
    }

    fn error(self) -> StoreError {
        match self {
            Self::Full => StoreError::StorageFull,
            Self::Other(m) => StoreError::Db(m),
        }
    }
}

type Finish = Box<dyn FnOnce(Result<(), CommitFailure>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Finish + Send>;

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::SyncSender<Job>,
}

impl Writer {
    /// Starts the writer thread over `conn`.
    pub fn start(conn: Connection) -> StoreResult<Self> {
        let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE_DEPTH);
        std::thread::Builder::new()
            .name("wharf-meta-writer".into())
            .spawn(move || run(&conn, &rx))?;
        Ok(Self { tx })
    }

    /// Runs `f` in the next batch and returns its result once the batch is durable.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let res = match conn.execute_batch("SAVEPOINT op") {
                Ok(()) => {
                    let res = f(conn);
                    let end = if res.is_ok() {
                        "RELEASE op"
                    } else {
                        "ROLLBACK TO op; RELEASE op"
                    };
                    match conn.execute_batch(end) {
                        Ok(()) => res,
                        Err(e) => Err(e.into()),
                    }
                }
                Err(e) => Err(e.into()),
            };
            Box::new(move |committed: Result<(), CommitFailure>| {
                let _ = reply.send(match committed {
                    Ok(()) => res,
                    Err(e) => Err(e.error()),
                });
            })
        });
        // The queue is bounded; waiting for space must not block the async runtime.
        let tx = self.tx.clone();
        match tx.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(job)) => {
                tokio::task::spawn_blocking(move || tx.send(job))
                    .await
                    .map_err(|_| StoreError::Closed)?
                    .map_err(|_| StoreError::Closed)?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(StoreError::Closed),
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(conn: &Connection, rx: &mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Nothing ran. Dropping a job drops its reply channel, so its caller gets
            // `StoreError::Closed` and nothing was written.
            tracing::error!(error = %e, jobs = jobs.len(), "metadata transaction could not start");
            drop(jobs);
            continue;
        }
        let finishers: Vec<Finish> = jobs.into_iter().map(|job| job(conn)).collect();
        let committed = conn
            .execute_batch("COMMIT")
            .map_err(|e| CommitFailure::of(&e));
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for finish in finishers {
            finish(committed.clone());
        }
    }
}
