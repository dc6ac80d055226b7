//! A logger that never makes a request wait: lines are formatted on the
//! calling thread and handed to one writer thread through a bounded queue.
//! When the queue is full a line is counted and dropped rather than
//! blocking a worker; the count is reported by the writer.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::OnceLock;

use env_filter::{Builder, Filter};
use log::{Log, Metadata, Record};

const QUEUE_LINES: usize = 65_536;
/// How long the writer lets lines gather once woken.
const BATCH_WAIT: std::time::Duration = std::time::Duration::from_millis(5);

enum Message {
    Line(String),
    Flush(SyncSender<()>),
}

struct AsyncLogger {
    filter: Filter,
    sender: SyncSender<Message>,
    dropped: AtomicU64,
}

static LOGGER: OnceLock<&'static AsyncLogger> = OnceLock::new();

/// Installs the logger with an env_logger-style filter (e.g. `info`,
/// `agentgateway=debug`). A second call does nothing.
pub fn init(filter: &str) -> Result<(), String> {
    if LOGGER.get().is_some() {
        return Ok(());
    }
    let filter = Builder::new().parse(filter).build();
    let (sender, receiver) = sync_channel(QUEUE_LINES);
    std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_lines(receiver))
        .map_err(|e| e.to_string())?;
    let level = filter.filter();
    let logger: &'static AsyncLogger = Box::leak(Box::new(AsyncLogger { filter, sender, dropped: AtomicU64::new(0) }));
    log::set_logger(logger).map_err(|e| e.to_string())?;
    log::set_max_level(level);
    let _ = LOGGER.set(logger);
    Ok(())
}

/// Waits until every line logged so far is written.
pub fn flush() {
    if let Some(logger) = LOGGER.get() {
        let (done, wait) = sync_channel(1);
        if logger.sender.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

fn write_lines(receiver: Receiver<Message>) {
    // Not `stderr().lock()`: holding the lock for the thread's life would
    // block any other writer to stderr (e.g. a start-up error message).
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    while let Ok(first) = receiver.recv() {
        // Let a burst gather before writing. While the writer sleeps or
        // writes it is not parked on the queue, so a request that logs a line
        // does not pay for waking it (a futex wake and a context switch, per
        // line, measured at a fifth of the gateway's CPU under load). Lines
        // reach the log at most BATCH_WAIT later.
        if matches!(first, Message::Line(_)) {
            std::thread::sleep(BATCH_WAIT);
        }
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Line(line) => {
                    let _ = out.write_all(line.as_bytes());
                }
                Message::Flush(done) => {
                    let _ = out.flush();
                    let _ = done.send(());
                }
            }
            next = receiver.try_recv().ok();
        }
        if let Some(logger) = LOGGER.get() {
            let dropped = logger.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                let _ = writeln!(
                    out,
                    "{} WARN  agentgateway::logging: {dropped} log lines dropped (writer behind)",
                    timestamp()
                );
            }
        }
        let _ = out.flush();
    }
}

impl Log for AsyncLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.filter.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.filter.matches(record) {
            return;
        }
        let line = format!("{} {:<5} {}: {}\n", timestamp(), record.level(), record.target(), record.args());
        if let Err(TrySendError::Full(_)) = self.sender.try_send(Message::Line(line)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn flush(&self) {}
}

fn timestamp() -> String {
    crate::clock::rfc3339(crate::clock::now_ms())
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = super::timestamp();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
