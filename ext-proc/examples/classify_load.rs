//! Load generator for the Classify service: latency percentiles and throughput at a given text
//! length and concurrency, over real gRPC.
//!
//! ```sh
//! cargo run --profile service --example classify_load -- --addr http://127.0.0.1:50051 \
//!     --tokens 512 --concurrency 1 --requests 40
//! ```
//!
//! Texts are ordinary English prose of `--tokens` encoder tokens (each word is one piece of the
//! heavy tier's SentencePiece vocabulary; the windows the service reports confirm the length),
//! varied per request so nothing is cached.
//! Prints one JSON line: tokens, windows, concurrency, requests, p50/p90/p99 ms, texts/s.

use std::time::{Duration, Instant};

use parapet_core::escalation::proto::{ClassifyRequest, Task};
use parapet_ext_proc::classify::pb::classifier_client::ClassifierClient;

const WORDS: &str = "the annual report shows strong growth in regional sales and our team \
    will review shipping plans for next month while customers asked about orders delivery \
    times weather rain at several ports please list key points before meeting on weekly \
    with finance";

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `tokens` tokens of prose (each of these words is one piece of the encoder's vocabulary), varied by `seed`.
fn text(tokens: usize, seed: usize) -> String {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    (0..tokens)
        .map(|i| words[(i * 7 + seed * 13 + i / 5) % words.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr: String = arg(&args, "--addr", "http://127.0.0.1:50051".to_string());
    let tokens: usize = arg(&args, "--tokens", 512);
    let concurrency: usize = arg(&args, "--concurrency", 1);
    let requests: usize = arg(&args, "--requests", 40);
    let warmup: usize = arg(&args, "--warmup", 3);
    let model: String = arg(&args, "--model", "injection".to_string());

    let channel = tonic::transport::Endpoint::from_shared(addr.clone())?
        .timeout(Duration::from_secs(120))
        .connect()
        .await?;
    let client = ClassifierClient::new(channel);
    let call = |client: ClassifierClient<tonic::transport::Channel>, seed: usize| {
        let model = model.clone();
        async move {
            let mut client = client;
            let req = ClassifyRequest {
                tasks: vec![Task {
                    model,
                    text: text(tokens, seed),
                }],
                request_id: String::new(),
            };
            let started = Instant::now();
            let r = client.classify(req).await;
            (started.elapsed(), r)
        }
    };
    let mut windows = 0;
    for i in 0..warmup {
        let (_, r) = call(client.clone(), 1_000_000 + i).await;
        windows = r?.into_inner().results.first().map_or(0, |r| r.windows);
    }
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0usize;
    let mut lat = Vec::with_capacity(requests);
    let mut errors = 0usize;
    while next < requests.min(concurrency) {
        set.spawn(call(client.clone(), next));
        next += 1;
    }
    while let Some(done) = set.join_next().await {
        let (took, r) = done?;
        match r {
            Ok(resp) if resp.get_ref().results.iter().all(|r| r.error.is_empty()) => {
                lat.push(took.as_secs_f64() * 1e3)
            }
            _ => errors += 1,
        }
        if next < requests {
            set.spawn(call(client.clone(), next));
            next += 1;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "model": model,
            "tokens": tokens,
            "windows": windows,
            "concurrency": concurrency,
            "requests": requests,
            "errors": errors,
            "p50_ms": percentile(&lat, 0.5),
            "p90_ms": percentile(&lat, 0.9),
            "p99_ms": percentile(&lat, 0.99),
            "texts_per_s": lat.len() as f64 / wall,
            "windows_per_s": (lat.len() as f64 * f64::from(windows)) / wall,
        })
    );
    Ok(())
}
