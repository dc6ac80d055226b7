//! Gathering records on the thread that serves their commands.
//!
//! A record is serialised at once into the batch this thread is filling
//! for its trail (a thread-local). The first record of a batch spawns
//! [`hand_over`], a task of its own that yields once, so that every command
//! the thread finishes in the same turn of its event loop joins the batch,
//! then sends the whole batch to the writer as one message and gets one
//! answer back. A request dropped meanwhile (its client went away) strands
//! nobody: the hand-over belongs to no request.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, Notify};

use super::record::write_fields;
use crate::domain::audit::{ActionRecord, AuditError};

/// Records serialised by one thread, waiting for the writer: their fields
/// without the enclosing braces, back to back in one buffer.
#[derive(Default)]
pub struct Batch {
    text: Vec<u8>,
    fields: Vec<Range<usize>>,
    /// Per record: it goes ahead unrecorded, so keep it in the fallback
    /// if the trail cannot take it.
    fallback: Vec<bool>,
}

impl Batch {
    fn push(&mut self, record: &ActionRecord) {
        let start = self.text.len();
        write_fields(&mut self.text, record);
        self.fields.push(start..self.text.len());
        self.fallback.push(record.action.goes_ahead_unrecorded());
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Each record's fields, with whether it falls back.
    pub fn records(&self) -> impl Iterator<Item = (&[u8], bool)> {
        self.fields.iter().zip(&self.fallback).map(|(r, fallback)| (&self.text[r.clone()], *fallback))
    }
}

/// What the writer thread is sent.
pub enum Message {
    Records(Handoff),
    /// Try to write again after a failure.
    Retry,
    /// Finish and release the trail.
    Close(oneshot::Sender<()>),
}

/// A batch on its way to the writer, and where its outcome goes.
pub struct Handoff {
    pub batch: Batch,
    pub done: oneshot::Sender<Result<(), AuditError>>,
}

/// The batch a thread is filling for one trail, and its outcome once written.
struct Gathering {
    trail: u64,
    /// `None` once handed to the writer: later records start a new one.
    batch: Mutex<Option<Batch>>,
    outcome: OnceLock<Result<(), AuditError>>,
    written: Notify,
}

impl Gathering {
    async fn outcome(&self) -> Result<(), AuditError> {
        loop {
            // Registered before the check, so the notice cannot slip between.
            let written = self.written.notified();
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            written.await;
        }
    }
}

thread_local! {
    /// Per trail, the gathering this thread is filling (or filled last).
    static GATHERING: RefCell<Vec<Arc<Gathering>>> = const { RefCell::new(Vec::new()) };
}

fn stopped() -> AuditError {
    AuditError("the audit writer has stopped".into())
}

/// Adds `records` to this thread's open gathering for `trail` (or opens
/// one) and resolves once the writer has answered for it.
pub fn submit(
    trail: u64,
    writer: &mpsc::Sender<Message>,
    records: &[ActionRecord<'_>],
) -> impl std::future::Future<Output = Result<(), AuditError>> + Send + 'static {
    let gathering = GATHERING.with(|open| {
        let mut open = open.borrow_mut();
        if let Some(gathering) = open.iter().find(|g| g.trail == trail) {
            if let Some(batch) = gathering.batch.lock().as_mut() {
                records.iter().for_each(|r| batch.push(r));
                return gathering.clone();
            }
        }
        let mut batch = Batch::default();
        records.iter().for_each(|r| batch.push(r));
        let gathering = Arc::new(Gathering {
            trail,
            batch: Mutex::new(Some(batch)),
            outcome: OnceLock::new(),
            written: Notify::new(),
        });
        open.retain(|g| g.trail != trail);
        open.push(gathering.clone());
        tokio::spawn(hand_over(gathering.clone(), writer.clone()));
        gathering
    });
    async move { gathering.outcome().await }
}

/// Hands a gathering to the writer once the tasks now ready on this thread
/// have added their records, and tells them all how it went.
async fn hand_over(gathering: Arc<Gathering>, writer: mpsc::Sender<Message>) {
    tokio::task::yield_now().await;
    let batch = gathering.batch.lock().take().unwrap_or_default();
    let (done, written) = oneshot::channel();
    let outcome = match writer.send(Message::Records(Handoff { batch, done })).await {
        Ok(()) => written.await.unwrap_or_else(|_| Err(stopped())),
        Err(_) => Err(stopped()),
    };
    let _ = gathering.outcome.set(outcome);
    gathering.written.notify_waiters();
}
