//! Delivery of access logs. The thread that served a request formats its line (and frees the
//! record where it was allocated) and appends its bytes to a bounded queue, never waiting nor
//! waking anyone: when the queue is full the line is dropped and counted
//! (`wharf_edge_log_lines_dropped`). One thread of its own takes the whole queue every
//! [`DRAIN_INTERVAL`], gzips the lines into a file per distribution and hour (one write per
//! run of lines of one file, not per line), and hands finished files to a [`LogSink`] every
//! `interval`, when a file grows past [`MAX_FILE_BYTES`], and at shutdown. As on CloudFront,
//! delivery is best effort: a file the sink refuses is counted and dropped.

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

/// Lines made by the threads that served their requests (so what the records held is freed
/// where it was allocated), back to back, waiting for the delivery thread: no allocation per
/// line, and the two buffers are swapped rather than reallocated at each drain.
#[derive(Default)]
struct Pending {
    text: Vec<u8>,
    /// Runs of consecutive lines of one file: the file, and where the run ends in `text`.
    runs: Vec<(FileKey, usize)>,
    lines: usize,
}

impl Pending {
    fn push(&mut self, logging: &Arc<Logging>, hour: u64, line: &[u8]) {
        self.text.extend_from_slice(line);
        self.lines += 1;
        let end = self.text.len();
        match self.runs.last_mut() {
            Some((k, e)) if Arc::ptr_eq(&k.logging, logging) && k.hour == hour => *e = end,
            _ => self.runs.push((
                FileKey {
                    logging: logging.clone(),
                    hour,
                },
                end,
            )),
        }
    }

    fn clear(&mut self) {
        self.text.clear();
        self.runs.clear();
        self.lines = 0;
    }
}

/// Lines waiting for the delivery thread.
struct Queue {
    pending: Mutex<Pending>,
    /// Lines waiting, at most.
    capacity: usize,
    stopped: std::sync::atomic::AtomicBool,
}

impl Queue {
    /// Swaps the waiting lines into `into` (which must be empty).
    fn take(&self, into: &mut Pending) {
        let mut q = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::swap(&mut *q, into);
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
            pending: Mutex::new(Pending::default()),
            capacity: cfg.queue.max(1),
            stopped: false.into(),
        });
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let writer = Writer {
            queue: queue.clone(),
            sink,
            metrics,
            files: HashMap::new(),
            taken: Pending::default(),
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
        thread_local! {
            static LINE: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::default();
        }
        LINE.with_borrow_mut(|line| {
            line.clear();
            STAMP.with_borrow_mut(|stamp| record.write_line(&self.edge_location, stamp, line));
            let hour = hour_of(record.finished);
            let logging = &record.logging;
            let mut q = self
                .queue
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if q.lines >= self.queue.capacity {
                return false;
            }
            q.push(logging, hour, line);
            true
        })
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
    /// The lines taken from the queue (kept to be swapped back in, empty).
    taken: Pending,
}

impl Writer {
    fn run(mut self, rx: &Receiver<Message>, interval: Duration) {
        let mut due = Instant::now() + interval;
        loop {
            let wait = DRAIN_INTERVAL.min(due.saturating_duration_since(Instant::now()));
            let message = rx.recv_timeout(wait);
            self.queue.take(&mut self.taken);
            self.write_taken();
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

    /// Writes the lines taken from the queue into their files, a run at a time.
    fn write_taken(&mut self) {
        let mut taken = std::mem::take(&mut self.taken);
        let mut start = 0;
        for (key, end) in taken.runs.drain(..) {
            self.write(key, &taken.text[start..end]);
            start = end;
        }
        taken.clear();
        self.taken = taken;
    }

    fn write(&mut self, key: FileKey, lines: &[u8]) {
        let file = self.files.entry(key.clone()).or_insert_with(|| {
            let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
            let _ = writeln!(gz, "{VERSION_LINE}\n{FIELDS_LINE}");
            gz
        });
        // Writing into memory cannot fail.
        let _ = file.write_all(lines);
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
