//! The heavy tier in Rust reproduces models/heavy/reference_outputs.json (computed in Python
//! with onnxruntime from the same files): token ids, windows, embeddings, head scores and the
//! nearest known attack. Needs the ONNX Runtime library that scripts/setup.sh links under
//! .venv/parapet/ (or PARAPET_ORT_DYLIB); the encoder is models/heavy/encoder.onnx (or
//! PARAPET_ENCODER).

use std::path::PathBuf;

use parapet_core::escalation::HeavyModel;
use parapet_ext_proc::heavy::{HeavyConfig, HeavyTier};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn config() -> HeavyConfig {
    let path = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join(default))
    };
    let cfg = HeavyConfig {
        models_dir: root().join("models/heavy"),
        encoder: std::env::var_os("PARAPET_ENCODER").map(PathBuf::from),
        ort_dylib: path("PARAPET_ORT_DYLIB", ".venv/parapet/libonnxruntime.so"),
        device: Default::default(),
        intra_threads: 2,
        max_batch: 32,
        max_wait_ms: 2,
        max_queue: 64,
        max_tokens: 65_536,
    };
    assert!(
        cfg.ort_dylib.exists(),
        "run scripts/setup.sh first: it installs ONNX Runtime under .venv/parapet/"
    );
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_the_python_reference() {
    let heavy = HeavyTier::load(&config()).unwrap();
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("models/heavy/reference_outputs.json")).unwrap(),
    )
    .unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let close = |a: f64, b: f64, tol: f64, what: &str, text: &str| {
        assert!(
            (a - b).abs() <= tol,
            "{what}: {a} vs reference {b} for {text:?}"
        );
    };
    // Score all cases concurrently, so windows from several texts share encoder batches
    // (padding must not change a result).
    let mut tasks = Vec::new();
    let heavy = std::sync::Arc::new(heavy);
    for case in cases {
        let text = case["text"].as_str().unwrap().to_string();
        let h = heavy.clone();
        tasks.push(tokio::spawn(async move {
            let inj = h.classify(HeavyModel::Injection, &text).await.unwrap();
            let tox = h.classify(HeavyModel::Toxicity, &text).await.unwrap();
            let sim = h.classify(HeavyModel::Similarity, &text).await.unwrap();
            (text, inj, tox, sim)
        }));
    }
    for (case, task) in cases.iter().zip(tasks) {
        let (text, inj, tox, sim) = task.await.unwrap();
        let (windows, n_tokens) = heavy.encoder.windows(&text).unwrap();
        let ids: Vec<i64> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let ours: Vec<i64> = windows[0].iter().skip(1).take(ids.len()).copied().collect();
        assert_eq!(ours, ids, "token ids for {text:?}");
        assert_eq!(n_tokens as u64, case["n_tokens"].as_u64().unwrap());
        assert_eq!(u64::from(inj.windows), case["n_windows"].as_u64().unwrap());
        let emb = heavy.encoder.embed(&[windows[0].as_slice()]).unwrap();
        for (a, b) in emb[0]
            .iter()
            .zip(case["embedding_head"].as_array().unwrap())
        {
            close(f64::from(*a), b.as_f64().unwrap(), 2e-3, "embedding", &text);
        }
        close(
            f64::from(inj.score),
            case["injection"].as_f64().unwrap(),
            2e-3,
            "injection",
            &text,
        );
        close(
            f64::from(tox.score),
            case["toxicity"].as_f64().unwrap(),
            2e-3,
            "toxicity",
            &text,
        );
        let top = &case["similarity_top"];
        close(
            f64::from(sim.score),
            top["score"].as_f64().unwrap(),
            2e-3,
            "similarity",
            &text,
        );
        assert_eq!(
            u64::from(sim.matches[0].id),
            top["id"].as_u64().unwrap(),
            "nearest attack for {text:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_an_encoder_that_is_not_the_pinned_one() {
    let mut cfg = config();
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("model.onnx");
    std::fs::write(&fake, b"not a model").unwrap();
    cfg.encoder = Some(fake);
    let err = HeavyTier::load(&cfg).err().unwrap().to_string();
    assert!(err.contains("sha256"), "{err}");
}

/// The encoder's piece table is ONNX external data beside the encoder file, pinned by sha256:
/// missing, it is named with the command that makes it; altered, it is refused.
#[tokio::test]
async fn refuses_a_missing_or_altered_piece_table() {
    let mut cfg = config();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("encoder.onnx");
    std::fs::copy(root().join("models/heavy/encoder.onnx"), &copy).unwrap();
    cfg.encoder = Some(copy);
    let err = format!("{:#}", HeavyTier::load(&cfg).err().unwrap());
    assert!(
        err.contains("use_table.u8") && err.contains("missing") && err.contains("use_encoder.py"),
        "{err}"
    );
    let mut table = std::fs::read(root().join("models/heavy/use_table.u8")).unwrap();
    table[12345] ^= 1;
    std::fs::write(dir.path().join("use_table.u8"), &table).unwrap();
    let err = format!("{:#}", HeavyTier::load(&cfg).err().unwrap());
    assert!(
        err.contains("use_table.u8") && err.contains("sha256"),
        "{err}"
    );
}
