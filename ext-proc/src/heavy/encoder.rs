//! The sentence encoder: universal-sentence-encoder-multilingual v3 fine-tuned for this project
//! (int8 ONNX in models/heavy, its frozen piece table as external data) run with ONNX Runtime,
//! loaded at run time from `libonnxruntime` (the PyPI `onnxruntime` wheel, or `onnxruntime-gpu`
//! for CUDA).
//!
//! A text is tokenised once without special tokens and cut into windows of at most
//! `window_tokens` tokens every `window_stride` tokens, each wrapped in `bos … eos`, so a text of
//! any length is read whole (nothing is truncated). A window's embedding is the model's output
//! (`input_ids`, `attention_mask` -> [batch, dim]: the model pools and masks padding),
//! L2-normalised (`models/heavy/encoder.json`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{anyhow, bail, Context as _};
use ndarray::Array2;
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;
use tokenizers::Tokenizer;

/// `models/heavy/encoder.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct EncoderSpec {
    /// What the encoder is (model card name), for logs.
    pub name: String,
    /// The ONNX file, relative to the models directory.
    pub file: String,
    pub sha256: String,
    pub dim: usize,
    pub window_tokens: usize,
    pub window_stride: usize,
    /// The token put before every window (`<s>`, or BERT's `[CLS]`).
    pub bos_id: u32,
    /// The token put after every window (`</s>`, or BERT's `[SEP]`).
    pub eos_id: u32,
    /// Files the ONNX model reads as external data (next to it), each pinned by sha256.
    #[serde(default)]
    pub external_data: Vec<ExternalFile>,
}

/// An ONNX external-data file of the encoder.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalFile {
    pub file: String,
    pub sha256: String,
    /// How to make it when it is missing (shown in the error).
    #[serde(default)]
    pub made_by: String,
}

/// Where ONNX Runtime runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA provider (build feature `cuda`, a CUDA build of libonnxruntime).
    Cuda,
}

pub struct Encoder {
    pub spec: EncoderSpec,
    tokenizer: Tokenizer,
    session: Mutex<Session>,
    pub device: Device,
}

/// ONNX Runtime allows one environment per process: it is made by the first encoder loaded, and
/// later loads must ask for the same library and device.
fn environment(
    ort_dylib: &Path,
    device: Device,
) -> anyhow::Result<&'static ort::environment::Environment> {
    type Made = (
        PathBuf,
        Device,
        Result<ort::environment::Environment, String>,
    );
    static ENV: OnceLock<Made> = OnceLock::new();
    let (path, dev, env) = ENV.get_or_init(|| {
        let made = (|| -> anyhow::Result<ort::environment::Environment> {
            let builder = ort::init_from(ort_dylib).map_err(|e| {
                anyhow!(
                    "cannot load ONNX Runtime from {}: {e} (set heavy.ort_dylib; scripts/setup.sh installs the PyPI `onnxruntime` wheel into .venv)",
                    ort_dylib.display()
                )
            })?;
            let builder = match device {
                Device::Cpu => builder,
                #[cfg(feature = "cuda")]
                Device::Cuda => builder.with_execution_providers([
                    ort::ep::CUDA::default().build().error_on_failure()
                ]),
                #[cfg(not(feature = "cuda"))]
                Device::Cuda => bail!("device: cuda needs a build with `--features cuda`"),
            };
            builder
                .with_name("parapet-heavy")
                .build()
                .map_err(|e| anyhow!("ONNX Runtime environment: {e}"))
        })();
        (ort_dylib.to_path_buf(), device, made.map_err(|e| format!("{e:#}")))
    });
    if path != ort_dylib || *dev != device {
        bail!(
            "ONNX Runtime is already loaded from {} for {dev:?} in this process",
            path.display()
        );
    }
    env.as_ref().map_err(|e| anyhow!("{e}"))
}

/// One window's token ids, `bos … eos`.
pub type Window = Vec<i64>;

impl Encoder {
    pub fn load(
        spec: EncoderSpec,
        tokenizer_json: &Path,
        model: &Path,
        ort_dylib: &Path,
        device: Device,
        intra_threads: usize,
    ) -> anyhow::Result<Encoder> {
        if spec.window_tokens == 0 || spec.window_stride == 0 || spec.dim == 0 {
            bail!("encoder.json: window_tokens, window_stride and dim must be positive");
        }
        let mut tokenizer = Tokenizer::from_file(tokenizer_json)
            .map_err(|e| anyhow!("tokenizer {}: {e}", tokenizer_json.display()))?;
        // Windows are cut here, never by the tokenizer.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| anyhow!("tokenizer: {e}"))?;
        let env = environment(ort_dylib, device)?;
        let session = Session::builder(env)
            .and_then(|b| {
                b.with_intra_threads(intra_threads.max(1))
                    .map_err(Into::into)
            })
            .and_then(|mut b| b.commit_from_file(model))
            .map_err(|e| anyhow!("encoder {}: {e}", model.display()))?;
        let names: Vec<String> = session
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        for need in ["input_ids", "attention_mask"] {
            if !names.iter().any(|n| n == need) {
                bail!(
                    "encoder {}: no `{need}` input (inputs: {names:?})",
                    model.display()
                );
            }
        }
        Ok(Encoder {
            spec,
            tokenizer,
            session: Mutex::new(session),
            device,
        })
    }

    /// The windows of `text` (at least one: `bos eos` for an empty text) and its length
    /// in tokens.
    pub fn windows(&self, text: &str) -> anyhow::Result<(Vec<Window>, usize)> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| anyhow!("tokenize: {e}"))?;
        let ids = enc.get_ids();
        Ok((
            cut_windows(
                ids,
                self.spec.window_tokens,
                self.spec.window_stride,
                self.spec.bos_id,
                self.spec.eos_id,
            ),
            ids.len(),
        ))
    }

    /// Embed a batch of windows (padded to the longest): one L2-normalised vector each.
    pub fn embed(&self, windows: &[&[i64]]) -> anyhow::Result<Vec<Vec<f32>>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let batch = windows.len();
        let len = windows.iter().map(|w| w.len()).max().unwrap_or(0).max(1);
        let mut ids = Array2::<i64>::zeros((batch, len));
        let mut mask = Array2::<i64>::zeros((batch, len));
        for (b, w) in windows.iter().enumerate() {
            for (t, id) in w.iter().enumerate() {
                ids[[b, t]] = *id;
                mask[[b, t]] = 1;
            }
        }
        let inputs = ort::inputs![
            "input_ids" => Tensor::from_array(ids)?,
            "attention_mask" => Tensor::from_array(mask)?,
        ];
        let mut session = self
            .session
            .lock()
            .map_err(|_| anyhow!("encoder session poisoned"))?;
        let outputs = session.run(inputs).context("encoder run")?;
        let (shape, out) = outputs[0]
            .try_extract_tensor::<f32>()
            .context("encoder output")?;
        let dim = self.spec.dim;
        if shape.len() != 2 || shape[0] as usize != batch || shape[1] as usize != dim {
            bail!("encoder output shape {shape:?}, expected [{batch}, {dim}]");
        }
        let vectors = out
            .chunks_exact(dim)
            .map(|row| {
                let mut v = row.to_vec();
                normalize(&mut v);
                v
            })
            .collect();
        Ok(vectors)
    }
}

/// L2-normalise in place (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cut token ids into `bos + ids[k*stride .. k*stride+size] + eos` windows; the last window
/// is the one that reaches the end.
pub fn cut_windows(ids: &[u32], size: usize, stride: usize, bos: u32, eos: u32) -> Vec<Window> {
    let wrap = |part: &[u32]| -> Window {
        let mut w = Vec::with_capacity(part.len() + 2);
        w.push(i64::from(bos));
        w.extend(part.iter().map(|&i| i64::from(i)));
        w.push(i64::from(eos));
        w
    };
    if ids.is_empty() {
        return vec![wrap(&[])];
    }
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + size).min(ids.len());
        out.push(wrap(&ids[start..end]));
        if end == ids.len() {
            break;
        }
        start += stride;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_everything_and_overlap() {
        let ids: Vec<u32> = (1..=10).collect();
        let w = cut_windows(&ids, 4, 3, 101, 102);
        assert_eq!(w[0], vec![101, 1, 2, 3, 4, 102]);
        assert_eq!(w[1], vec![101, 4, 5, 6, 7, 102]);
        assert_eq!(w[2], vec![101, 7, 8, 9, 10, 102]);
        assert_eq!(w.len(), 3);
        assert_eq!(cut_windows(&[], 4, 3, 101, 102), vec![vec![101, 102]]);
        assert_eq!(cut_windows(&[5], 4, 3, 101, 102), vec![vec![101, 5, 102]]);
        // Exactly one window's worth.
        assert_eq!(cut_windows(&[1, 2, 3, 4], 4, 3, 0, 9).len(), 1);
    }
}
