//! Dynamic batching: windows from concurrent requests are gathered into one encoder run.
//!
//! Each text's windows are one job on a bounded queue. A worker thread takes the first waiting
//! job, then keeps taking jobs until it holds `max_batch` windows or `max_wait` has passed since
//! the first, sorts the windows by length (less padding), runs the encoder in chunks of
//! `max_batch`, and hands each job its embeddings. A full queue refuses a job at once
//! ([`SubmitError::Overloaded`]) instead of letting latency grow without bound.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::encoder::{Encoder, Window};

/// What batching did, for `/metrics`.
#[derive(Debug, Default)]
pub struct BatchStats {
    pub batches: AtomicU64,
    pub windows: AtomicU64,
    pub jobs: AtomicU64,
    pub overloaded: AtomicU64,
    pub encoder_us: AtomicU64,
    /// Jobs waiting on the queue now (for readiness: a nearly full queue is saturation).
    pub queued: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("heavy tier overloaded: batch queue full")]
    Overloaded,
    #[error("heavy tier stopped")]
    Stopped,
    #[error("encoder failed: {0}")]
    Encoder(String),
}

struct Job {
    windows: Vec<Window>,
    reply: oneshot::Sender<Result<Vec<Vec<f32>>, SubmitError>>,
}

#[derive(Clone)]
pub struct Batcher {
    tx: SyncSender<Job>,
    pub stats: Arc<BatchStats>,
    pub max_queue: usize,
}

impl Batcher {
    /// Start `workers` threads over one encoder (one is right for a single CPU pool or GPU).
    pub fn start(
        encoder: Arc<Encoder>,
        max_batch: usize,
        max_wait: Duration,
        max_queue: usize,
        workers: usize,
    ) -> Batcher {
        let (tx, rx) = mpsc::sync_channel::<Job>(max_queue.max(1));
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let stats = Arc::new(BatchStats::default());
        for i in 0..workers.max(1) {
            let (encoder, rx, stats) = (encoder.clone(), rx.clone(), stats.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("heavy-batch-{i}"))
                .spawn(move || worker(&encoder, &rx, max_batch.max(1), max_wait, &stats));
            if let Err(e) = spawned {
                tracing::error!("cannot start batch worker: {e}");
            }
        }
        Batcher {
            tx,
            stats,
            max_queue: max_queue.max(1),
        }
    }

    /// Embed one text's windows, batched with whatever else is waiting.
    pub async fn embed(&self, windows: Vec<Window>) -> Result<Vec<Vec<f32>>, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Job { windows, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.stats.queued.fetch_sub(1, Ordering::Relaxed);
                self.stats.overloaded.fetch_add(1, Ordering::Relaxed);
                return Err(SubmitError::Overloaded);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.stats.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(SubmitError::Stopped);
            }
        }
        rx.await.unwrap_or(Err(SubmitError::Stopped))
    }
}

fn worker(
    encoder: &Encoder,
    rx: &std::sync::Mutex<mpsc::Receiver<Job>>,
    max_batch: usize,
    max_wait: Duration,
    stats: &BatchStats,
) {
    loop {
        // Gather under the lock, run the encoder without it (so another worker can gather).
        let jobs = {
            let Ok(rx) = rx.lock() else { return };
            let Ok(first) = rx.recv() else { return };
            stats.queued.fetch_sub(1, Ordering::Relaxed);
            let deadline = Instant::now() + max_wait;
            let mut n = first.windows.len();
            let mut jobs = vec![first];
            while n < max_batch {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(j) => {
                        stats.queued.fetch_sub(1, Ordering::Relaxed);
                        n += j.windows.len();
                        jobs.push(j);
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            jobs
        };
        run(encoder, jobs, max_batch, stats);
    }
}

fn run(encoder: &Encoder, jobs: Vec<Job>, max_batch: usize, stats: &BatchStats) {
    // (job, window) for every window, sorted by length so each chunk pads little.
    let mut order: Vec<(usize, usize)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| (0..job.windows.len()).map(move |w| (j, w)))
        .collect();
    order.sort_by_key(|&(j, w)| jobs[j].windows[w].len());
    let mut results: Vec<Vec<Option<Vec<f32>>>> =
        jobs.iter().map(|j| vec![None; j.windows.len()]).collect();
    let started = Instant::now();
    let mut failure: Option<String> = None;
    for chunk in order.chunks(max_batch) {
        let views: Vec<&[i64]> = chunk
            .iter()
            .map(|&(j, w)| jobs[j].windows[w].as_slice())
            .collect();
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .windows
            .fetch_add(views.len() as u64, Ordering::Relaxed);
        match encoder.embed(&views) {
            Ok(embs) => {
                for (&(j, w), e) in chunk.iter().zip(embs) {
                    results[j][w] = Some(e);
                }
            }
            Err(e) => {
                failure = Some(format!("{e:#}"));
                break;
            }
        }
    }
    stats
        .encoder_us
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    stats.jobs.fetch_add(jobs.len() as u64, Ordering::Relaxed);
    for (job, res) in jobs.into_iter().zip(results) {
        let answer = match (&failure, res.into_iter().collect::<Option<Vec<_>>>()) {
            (None, Some(embs)) => Ok(embs),
            (Some(e), _) => Err(SubmitError::Encoder(e.clone())),
            (None, None) => Err(SubmitError::Encoder("missing embedding".into())),
        };
        // The requester may have gone (deadline): nothing to do then.
        let _ = job.reply.send(answer);
    }
}
