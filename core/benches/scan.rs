//! Native scan throughput of the shipped default policy (every built-in detector) on ordinary
//! chat prompts of 4 KB and 64 KB: the whole request path (JSON parse, slot extraction, every
//! guard) without a path (as the verdict API and `parapet scan` call it) and sent to the chat
//! completions path (as the filter calls it) — both read by the typed reader since a path-less
//! chat request is read as one — and the text-only path (also with typographic apostrophes
//! and quotes: a few non-ASCII characters); then each default guard alone on 64 KB, and the
//! normaliser alone.
//!
//! Then the stream guard on a chat stream, fed per event and in 16 KB chunks.
//!
//! `cargo bench -p parapet-core --bench scan`. Results and the target (≥ 300 MB/s per core) are
//! recorded in benches/RESULTS.md.

#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use parapet_core::Policy;

#[path = "common/inputs.rs"]
mod inputs;
use inputs::{chat_body, chat_stream, text_of_size, typographic};

fn bench(c: &mut Criterion) {
    let policy = Policy::default_policy().unwrap();
    let mut group = c.benchmark_group("default_policy");
    for size in [4 * 1024, 64 * 1024] {
        let text = text_of_size(size);
        let body = chat_body(&text);
        // Sanity: ordinary text must be allowed, or the benchmark measures the wrong path.
        assert_eq!(
            policy.evaluate_request(&body).decision,
            parapet_core::Decision::Allow
        );
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("request", size), &body, |b, body| {
            b.iter(|| policy.evaluate_request(body))
        });
        // As the filter reads it: sent to the chat completions path.
        group.bench_with_input(BenchmarkId::new("chat_path", size), &body, |b, body| {
            b.iter(|| policy.evaluate_request_at(Some("/v1/chat/completions"), body))
        });
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("text", size), &text, |b, text| {
            b.iter(|| policy.evaluate_text(text))
        });
        // The same text with typographic apostrophes and quotes: a few non-ASCII characters.
        let typo = typographic(&text);
        assert!(!typo.is_ascii());
        assert_eq!(
            policy.evaluate_text(&typo).decision,
            parapet_core::Decision::Allow
        );
        group.throughput(Throughput::Bytes(typo.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("text_typographic", size),
            &typo,
            |b, text| b.iter(|| policy.evaluate_text(text)),
        );
    }
    group.finish();

    // Each default guard alone (its detector plus, for word lists and injection rules, the
    // normalisation it triggers), on the 64 KB text: where the time goes.
    let config = parapet_core::Config::default_policy().unwrap();
    let text = text_of_size(64 * 1024);
    let mut group = c.benchmark_group("guard_alone");
    group.throughput(Throughput::Bytes(text.len() as u64));
    for guard in &config.guards {
        let single = parapet_core::Config {
            guards: vec![guard.clone()],
            ..config.clone()
        };
        let policy = Policy::compile(&single).unwrap();
        group.bench_with_input(
            BenchmarkId::new(guard.id.as_str(), 65536),
            &text,
            |b, text| b.iter(|| policy.evaluate_text(text)),
        );
    }
    group.bench_with_input(
        BenchmarkId::new("normalize_only", 65536),
        &text,
        |b, text| b.iter(|| parapet_core::normalize::Normalized::new(text)),
    );
    group.finish();
}

/// The stream guard (default policy's output guards) on a 2,000-event chat stream: fed one
/// event per push (a model writing token by token) and in 16 KB chunks (a fast upstream).
/// Throughput is of the SSE bytes.
fn bench_stream(c: &mut Criterion) {
    let policy = Policy::default_policy().unwrap();
    let body = chat_stream(2000);
    let events: Vec<&[u8]> = {
        let mut v = Vec::new();
        let mut rest = &body[..];
        while let Some(i) = rest.windows(2).position(|w| w == b"\n\n") {
            v.push(&rest[..i + 2]);
            rest = &rest[i + 2..];
        }
        v
    };
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Bytes(body.len() as u64));
    for (name, chunks) in [
        ("per_event", events.clone()),
        ("chunks_16k", body.chunks(16 * 1024).collect::<Vec<_>>()),
    ] {
        group.bench_with_input(BenchmarkId::new(name, 2000), &chunks, |b, chunks| {
            b.iter(|| {
                let mut guard = parapet_core::stream::StreamGuard::new();
                let mut n = 0;
                for chunk in chunks {
                    n += guard.push(&policy, chunk).len();
                }
                n + guard.finish(&policy).len()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench, bench_stream
}
criterion_main!(benches);
