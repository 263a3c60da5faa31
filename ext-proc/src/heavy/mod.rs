//! Tier 3: the heavy models.
//!
//! One sentence encoder (multilingual USE v3 fine-tuned, ONNX Runtime, CPU or CUDA) feeds three models: the
//! injection and toxicity heads (MLPs over window embeddings, optionally stacked on the tier-2
//! score) and the known-attack similarity search. Every text is read whole in overlapping
//! windows; a text's score is the maximum over its windows. Windows of concurrent requests are
//! batched ([`batcher`]).

pub mod batcher;
pub mod encoder;
pub mod head;
pub mod similarity;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use parapet_core::detectors::model::{LoadedModel, ShippedModel};
use parapet_core::escalation::proto::{SimilarMatch, TaskResult};
use parapet_core::escalation::HeavyModel;
use serde::Deserialize;

use self::batcher::{Batcher, SubmitError};
use self::encoder::{Device, Encoder, EncoderSpec};
use self::head::{Head, HeadInput};
use self::similarity::AttackDb;

/// The `heavy:` section of the service config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeavyConfig {
    /// `models/heavy` (encoder.json, encoder.onnx, tokenizer.json, heads, attack database).
    pub models_dir: PathBuf,
    /// Another copy of the encoder's ONNX file (default: the `file` that encoder.json names,
    /// inside `models_dir`). Its sha256 is checked against encoder.json either way.
    #[serde(default)]
    pub encoder: Option<PathBuf>,
    /// `libonnxruntime.so` (from the `onnxruntime` or `onnxruntime-gpu` wheel).
    pub ort_dylib: PathBuf,
    #[serde(default)]
    pub device: Device,
    /// ONNX Runtime intra-op threads. Default 2.
    #[serde(default = "default_threads")]
    pub intra_threads: usize,
    /// Most windows in one encoder run. Default 32.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// Longest a window waits for others to batch with, in milliseconds. Default 2.
    #[serde(default = "default_max_wait_ms")]
    pub max_wait_ms: u64,
    /// Texts waiting for the encoder before new ones are refused (overload). Default 256.
    #[serde(default = "default_max_queue")]
    pub max_queue: usize,
    /// Longest text scored, in tokens (longer ones are refused, not truncated). Default 65536.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
}

impl HeavyConfig {
    /// The encoder file: `encoder` if set, else `models_dir/<encoder.json file>`.
    pub fn encoder_path(&self, spec: &EncoderSpec) -> PathBuf {
        self.encoder
            .clone()
            .unwrap_or_else(|| self.models_dir.join(&spec.file))
    }
}

fn default_threads() -> usize {
    2
}
fn default_max_batch() -> usize {
    32
}
fn default_max_wait_ms() -> u64 {
    2
}
fn default_max_queue() -> usize {
    256
}
fn default_max_tokens() -> usize {
    65_536
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error(transparent)]
    Submit(#[from] SubmitError),
    #[error("text of {0} tokens exceeds heavy.max_tokens")]
    TooLong(usize),
    #[error("{0}")]
    Other(String),
}

pub struct HeavyTier {
    pub encoder: Arc<Encoder>,
    pub batcher: Batcher,
    injection: Head,
    toxicity: Head,
    pub attacks: AttackDb,
    tier2_injection: Arc<LoadedModel>,
    tier2_toxicity: Arc<LoadedModel>,
    max_tokens: usize,
}

impl HeavyTier {
    pub fn load(cfg: &HeavyConfig) -> anyhow::Result<HeavyTier> {
        let dir = &cfg.models_dir;
        let spec: EncoderSpec = serde_json::from_slice(
            &std::fs::read(dir.join("encoder.json")).context("reading encoder.json")?,
        )
        .context("parsing encoder.json")?;
        let encoder_path = cfg.encoder_path(&spec);
        let digest = sha256_file(&encoder_path)?;
        if digest != spec.sha256 {
            anyhow::bail!(
                "{}: sha256 {digest} is not the encoder of {} ({}, sha256 {})",
                encoder_path.display(),
                dir.display(),
                spec.name,
                spec.sha256
            );
        }
        // ONNX external data is read from the encoder file's folder.
        let beside = encoder_path.parent().unwrap_or(Path::new("."));
        for ext in &spec.external_data {
            let path = beside.join(&ext.file);
            if !path.exists() {
                anyhow::bail!(
                    "{}: missing; the encoder reads it as external data (make it with: {})",
                    path.display(),
                    if ext.made_by.is_empty() {
                        "scripts/setup.sh"
                    } else {
                        &ext.made_by
                    }
                );
            }
            let digest = sha256_file(&path)?;
            if digest != ext.sha256 {
                anyhow::bail!(
                    "{}: sha256 {digest}, but encoder.json pins {} ({})",
                    path.display(),
                    ext.sha256,
                    spec.name
                );
            }
        }
        let encoder = Arc::new(Encoder::load(
            spec,
            &dir.join("tokenizer.json"),
            &encoder_path,
            &cfg.ort_dylib,
            cfg.device,
            cfg.intra_threads,
        )?);
        let dim = encoder.spec.dim;
        let batcher = Batcher::start(
            encoder.clone(),
            cfg.max_batch,
            Duration::from_millis(cfg.max_wait_ms),
            cfg.max_queue,
            1,
        );
        Ok(HeavyTier {
            injection: Head::load(&dir.join("injection_head.json"), dim)?,
            toxicity: Head::load(&dir.join("toxicity_head.json"), dim)?,
            attacks: AttackDb::load(dir)?,
            tier2_injection: ShippedModel::Injection.load().map_err(anyhow::Error::msg)?,
            tier2_toxicity: ShippedModel::Toxicity.load().map_err(anyhow::Error::msg)?,
            encoder,
            batcher,
            max_tokens: cfg.max_tokens,
        })
    }

    /// Score one text with one heavy model.
    pub async fn classify(
        &self,
        model: HeavyModel,
        text: &str,
    ) -> Result<TaskResult, ClassifyError> {
        // Tokenising a long text takes milliseconds: off the async workers.
        let (windows, tokens) = if text.len() > 16 * 1024 {
            let (encoder, owned) = (self.encoder.clone(), text.to_string());
            tokio::task::spawn_blocking(move || encoder.windows(&owned))
                .await
                .map_err(|e| ClassifyError::Other(e.to_string()))?
        } else {
            self.encoder.windows(text)
        }
        .map_err(|e| ClassifyError::Other(format!("{e:#}")))?;
        if tokens > self.max_tokens {
            return Err(ClassifyError::TooLong(tokens));
        }
        let n = windows.len() as u32;
        let embeddings = self.batcher.embed(windows).await?;
        Ok(match model {
            HeavyModel::Injection | HeavyModel::Toxicity => {
                let (head, tier2) = if model == HeavyModel::Injection {
                    (&self.injection, &self.tier2_injection)
                } else {
                    (&self.toxicity, &self.tier2_toxicity)
                };
                let t2 = if head.input == HeadInput::EmbeddingTier2Logit {
                    tier2_score(tier2, text)
                } else {
                    0.5
                };
                let z = head::logit(t2);
                let score = embeddings
                    .iter()
                    .map(|e| head.score(e, z))
                    .fold(0.0f32, f32::max);
                TaskResult {
                    score,
                    flagged: score >= head.thresholds.block_above,
                    windows: n,
                    ..TaskResult::default()
                }
            }
            HeavyModel::Similarity => {
                let near = self.attacks.nearest(&embeddings);
                let score = near.first().map_or(0.0, |m| m.score);
                TaskResult {
                    score,
                    flagged: score >= self.attacks.threshold,
                    windows: n,
                    matches: near
                        .into_iter()
                        .map(|m| SimilarMatch {
                            id: m.id,
                            score: m.score,
                            text: m.text,
                            source: m.source,
                        })
                        .collect(),
                    error: String::new(),
                }
            }
        })
    }

    /// The heads' and database's thresholds, for logs and `/v1/models`.
    pub fn thresholds(&self) -> [(HeavyModel, f32); 3] {
        [
            (HeavyModel::Injection, self.injection.thresholds.block_above),
            (HeavyModel::Toxicity, self.toxicity.thresholds.block_above),
            (HeavyModel::Similarity, self.attacks.threshold),
        ]
    }
}

/// The tier-2 model's whole-text score (the maximum over its windows), as the heads were
/// trained with it.
fn tier2_score(model: &LoadedModel, text: &str) -> f32 {
    model
        .scorer
        .score_text(text)
        .map(|s| s.score)
        .unwrap_or(0.5)
}

fn sha256_file(path: &Path) -> anyhow::Result<String> {
    use sha2::Digest as _;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let digest = sha2::Sha256::digest(&bytes);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}
