//! Delivery of access logs. The thread that served a request formats its line (and frees the
//! record where it was allocated) and appends it to a bounded queue, never waiting nor waking
//! anyone: when the queue is full the line is dropped and counted
//! (`wharf_edge_log_lines_dropped`). One thread of its own takes the whole queue every
//! [`DRAIN_INTERVAL`], gzips the lines into a file per distribution and hour, and hands
//! finished files to a [`LogSink`] every `interval`, when a file grows past [`MAX_FILE_BYTES`],
//! and at shutdown. As on CloudFront, delivery is best effort: a file the
//! sink refuses is counted and dropped.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::{FIELDS_LINE, LogRecord, Stamp, VERSION_LINE, hour_of, object_key};
use crate::distribution::Logging;
use crate::metrics::EdgeMetrics;

/// Where finished log files go: the `wharf` binary stores them in its own buckets (the edge
/// never imports the store).
pub trait LogSink: Send + Sync + std::fmt::Debug {
    /// Stores `body`, a whole gzip log file, as object `key` of bucket `bucket`.
    fn deliver(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String>;
}

/// A file is delivered early once its compressed size passes this.
pub const MAX_FILE_BYTES: usize = 32 << 20;

/// How often the delivery thread takes the queued records. Waking it for each record would
/// cost a context switch per request.
pub const DRAIN_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// How often open files are delivered (CloudFront: "up to several times an hour").
    pub interval: Duration,
    /// Records waiting to be written, at most.
    pub queue: usize,
    /// The lines' `x-edge-location`.
    pub edge_location: String,
}

enum Message {
    /// Deliver every open file, then answer.
    Flush(SyncSender<()>),
    Shutdown,
}

/// A line made by the thread that served its request (so what the record held is freed where
/// it was allocated), waiting for the delivery thread.
struct Line {
    logging: Arc<Logging>,
    hour: u64,
    text: String,
}

/// Lines waiting for the delivery thread.
struct Queue {
    records: Mutex<Vec<Line>>,
    capacity: usize,
    stopped: std::sync::atomic::AtomicBool,
}

impl Queue {
    fn take(&self) -> Vec<Line> {
        let mut q = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = Vec::with_capacity(q.len());
        std::mem::replace(&mut *q, next)
    }
}

/// The queue and its delivery thread.
pub struct AccessLogs {
    queue: Arc<Queue>,
    /// The lines' `x-edge-location`.
    edge_location: String,
    tx: SyncSender<Message>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for AccessLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessLogs")
    }
}

impl AccessLogs {
    /// Starts the delivery thread.
    pub fn start(
        sink: Arc<dyn LogSink>,
        cfg: DeliveryConfig,
        metrics: Arc<EdgeMetrics>,
    ) -> std::io::Result<Self> {
        let queue = Arc::new(Queue {
            records: Mutex::new(Vec::new()),
            capacity: cfg.queue.max(1),
            stopped: false.into(),
        });
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let writer = Writer {
            queue: queue.clone(),
            sink,
            metrics,
            files: HashMap::new(),
        };
        let interval = cfg.interval;
        let thread = std::thread::Builder::new()
            .name("wharf-access-logs".into())
            .spawn(move || writer.run(&rx, interval))?;
        Ok(Self {
            queue,
            edge_location: cfg.edge_location,
            tx,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Makes the record's line and queues it without waiting; `false` when the queue is full
    /// (or delivery has stopped) and it was dropped.
    pub fn submit(&self, record: Box<LogRecord>) -> bool {
        thread_local! {
            static STAMP: std::cell::RefCell<Stamp> = std::cell::RefCell::default();
        }
        if self
            .queue
            .stopped
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return false;
        }
        let mut text = String::with_capacity(512);
        STAMP.with_borrow_mut(|stamp| record.write_line(&self.edge_location, stamp, &mut text));
        let line = Line {
            hour: hour_of(record.finished),
            logging: record.logging.clone(),
            text,
        };
        drop(record);
        let mut q = self
            .queue
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if q.len() >= self.queue.capacity {
            return false;
        }
        q.push(line);
        true
    }

    /// Delivers every open file now; returns once they are delivered. Blocks: not for an
    /// async runtime's threads.
    pub fn flush(&self) {
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        if self.tx.send(Message::Flush(done_tx)).is_ok() {
            let _ = done_rx.recv();
        }
    }

    /// Delivers every open file and stops the thread; records submitted later are dropped.
    /// Blocks like [`Self::flush`].
    pub fn shutdown(&self) {
        self.queue
            .stopped
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.tx.send(Message::Shutdown);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct FileKey {
    logging: Arc<Logging>,
    hour: u64,
}

struct Writer {
    queue: Arc<Queue>,
    sink: Arc<dyn LogSink>,
    metrics: Arc<EdgeMetrics>,
    files: HashMap<FileKey, GzEncoder<Vec<u8>>>,
}

impl Writer {
    fn run(mut self, rx: &Receiver<Message>, interval: Duration) {
        let mut due = Instant::now() + interval;
        loop {
            let wait = DRAIN_INTERVAL.min(due.saturating_duration_since(Instant::now()));
            let message = rx.recv_timeout(wait);
            for line in self.queue.take() {
                self.write(line);
            }
            match message {
                Ok(Message::Flush(done)) => {
                    self.deliver_all();
                    let _ = done.send(());
                }
                Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    self.deliver_all();
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if Instant::now() >= due {
                self.deliver_all();
                due = Instant::now() + interval;
            }
        }
    }

    fn write(&mut self, line: Line) {
        let key = FileKey {
            logging: line.logging,
            hour: line.hour,
        };
        let file = self.files.entry(key.clone()).or_insert_with(|| {
            let mut gz = GzEncoder::new(Vec::with_capacity(256 << 10), Compression::fast());
            let _ = writeln!(gz, "{VERSION_LINE}\n{FIELDS_LINE}");
            gz
        });
        // Writing into memory cannot fail.
        let _ = file.write_all(line.text.as_bytes());
        if file.get_ref().len() >= MAX_FILE_BYTES
            && let Some(gz) = self.files.remove(&key)
        {
            self.deliver(&key, gz);
        }
    }

    fn deliver_all(&mut self) {
        for (key, gz) in std::mem::take(&mut self.files) {
            self.deliver(&key, gz);
        }
    }

    fn deliver(&self, key: &FileKey, gz: GzEncoder<Vec<u8>>) {
        let Ok(body) = gz.finish() else { return };
        let hour = UNIX_EPOCH + Duration::from_secs(key.hour);
        let l = &key.logging;
        let name = object_key(&l.prefix, &l.distribution_id, hour, &unique_id());
        match self.sink.deliver(&l.bucket, &name, body) {
            Ok(()) => self.metrics.log_file_delivered(&l.distribution_id),
            Err(e) => {
                self.metrics.log_delivery_failed(&l.distribution_id);
                tracing::warn!(
                    distribution = %l.distribution_id,
                    bucket = %key.logging.bucket,
                    key = %name,
                    error = %e,
                    "access log file not delivered"
                );
            }
        }
    }
}

/// The `UNIQUE` part of a file name: eight letters and digits, as CloudFront's.
fn unique_id() -> String {
    let id = crate::headers::new_request_id();
    let mut out: String = id
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| char::from(b.to_ascii_uppercase()))
        .take(8)
        .collect();
    // Almost never short; the clock makes it unique then.
    if out.len() < 8 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        out.push_str(&format!("{nanos:08X}")[..8 - out.len()]);
    }
    out
}
