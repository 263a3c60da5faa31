//! Native scan throughput of the shipped default policy (every built-in detector) on ordinary
//! chat prompts of 4 KB and 64 KB: the whole request path the filter runs (JSON parse, slot
//! extraction, every guard) and the text-only path; then each default guard alone on 64 KB,
//! and the normaliser alone.
//!
//! `cargo bench -p parapet-core --bench scan`. Results and the target (≥ 300 MB/s per core) are
//! recorded in benches/RESULTS.md.

#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use parapet_core::Policy;

/// Ordinary prompt material: prose, a code block, numbers and dates, a list — the mix that
/// makes digit- and keyword-anchored detectors look at candidates without finding anything.
const SAMPLE: &str = include_str!("data/prompt_sample.txt");

fn text_of_size(size: usize) -> String {
    let mut s = String::with_capacity(size + SAMPLE.len());
    while s.len() < size {
        s.push_str(SAMPLE);
        s.push('\n');
    }
    let mut cut = size;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

fn chat_body(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": text}
        ],
        "temperature": 0.2
    }))
    .unwrap()
}

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
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("text", size), &text, |b, text| {
            b.iter(|| policy.evaluate_text(text))
        });
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
