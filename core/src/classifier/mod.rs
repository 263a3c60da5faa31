//! Tier 2: tiny text classifiers run in-process (inside the wasm filter, and natively), behind
//! the [`Classifier`] trait.
//!
//! The shipped models (`models/injection`, `models/toxicity`) are hashed n-gram models in ONNX
//! (Gather → mean pooling → layers → sigmoid) over the `phash-v1` featurizer ([`featurizer`]).
//! [`TractClassifier`] reads the ONNX file's weights with a minimal reader ([`onnx`]: only this
//! graph's operators are accepted). The pooling (an embedding bag: the mean of the table rows
//! the ids name) is summed in Rust straight from the table, one pass without materialising the
//! `[N, dim]` rows; the layers after it and the sigmoid are a `tract-core` graph built directly
//! — no ONNX framework, so the filter's module carries only the operators the models use —
//! optimised once, at configure time; per request only `run` is called. A text is never
//! truncated: it is scored in windows of `window_tokens` tokens with `window_stride` overlap,
//! and its score is the maximum over windows ([`ModelScorer::score_text`]).

pub mod featurizer;
pub mod onnx;

use tract_core::internal::*;
use tract_core::ops::einsum::EinSum;

/// A model that scores one window of featurizer ids: the probability of its positive class.
pub trait Classifier: Send + Sync {
    fn score_ids(&self, ids: &[i64]) -> Result<f32, String>;
}

/// A hashed n-gram classifier: `sigmoid(layers(mean(table[ids])))`, the mean pooled in Rust
/// from the table, the layers run by tract (input: the pooled row, float32 `[1, dim]`; output
/// float32 `[1, 1]`).
pub struct TractClassifier {
    plan: std::sync::Arc<TypedSimplePlan>,
    /// The embedding table, `rows × dim` row-major.
    table: Vec<f32>,
    rows: usize,
    dim: usize,
}

impl TractClassifier {
    /// Read the weights of the ONNX model and build its plan (once, at configure time).
    pub fn from_onnx(bytes: &[u8]) -> Result<TractClassifier, String> {
        let w = onnx::read_pooled(bytes)?;
        Self::build(w).map_err(|e| format!("cannot build the model: {e:#}"))
    }

    fn build(w: onnx::PooledModel) -> TractResult<TractClassifier> {
        if w.dim == 0 || w.table.len() != w.rows * w.dim {
            bail!(
                "table of {} values is not {} × {}",
                w.table.len(),
                w.rows,
                w.dim
            );
        }
        let mut model = TypedModel::default();
        let mut x = model.add_source("mean", f32::fact([1, w.dim]))?;
        for (i, layer) in w.layers.iter().enumerate() {
            x = match layer {
                onnx::Layer::MatMul { input, output, w } => {
                    let w = model.add_const(
                        format!("w{i}"),
                        Tensor::from_shape(&[*input, *output], w)?.into_arc_tensor(),
                    )?;
                    let axes: AxesMapping = "mk,kn->mn".parse()?;
                    model.wire_node(
                        format!("matmul{i}"),
                        EinSum::new(axes, f32::datum_type()),
                        &[x, w],
                    )?[0]
                }
                onnx::Layer::Bias(b) => {
                    let b = model.add_const(
                        format!("b{i}"),
                        Tensor::from_shape(&[1, b.len()], b)?.into_arc_tensor(),
                    )?;
                    model.wire_node(format!("bias{i}"), tract_core::ops::math::add(), &[x, b])?[0]
                }
                onnx::Layer::Relu => {
                    let zero = model
                        .add_const(format!("zero{i}"), tensor2(&[[0f32]]).into_arc_tensor())?;
                    model.wire_node(format!("relu{i}"), tract_core::ops::math::max(), &[x, zero])?
                        [0]
                }
            };
        }
        let score = model.wire_node("score", tract_core::ops::nn::sigmoid(), &[x])?;
        model.select_output_outlets(&score)?;
        let plan = model.into_optimized()?.into_runnable()?;
        Ok(TractClassifier {
            plan,
            table: w.table,
            rows: w.rows,
            dim: w.dim,
        })
    }

    /// The mean of the table rows `ids` name (an id outside the table is an error, as
    /// Gather's).
    fn pooled(&self, ids: &[i64]) -> Result<Vec<f32>, String> {
        let mut acc = vec![0f32; self.dim];
        for &id in ids {
            let row = usize::try_from(id)
                .ok()
                .filter(|r| *r < self.rows)
                .and_then(|r| self.table.get(r * self.dim..(r + 1) * self.dim))
                .ok_or_else(|| format!("id {id} is outside the table of {} rows", self.rows))?;
            for (a, w) in acc.iter_mut().zip(row) {
                *a += w;
            }
        }
        let inv_n = 1.0f32 / ids.len() as f32;
        for a in &mut acc {
            *a *= inv_n;
        }
        Ok(acc)
    }
}

impl Classifier for TractClassifier {
    fn score_ids(&self, ids: &[i64]) -> Result<f32, String> {
        if ids.is_empty() {
            return Err("no ids to score".into());
        }
        let mean =
            Tensor::from_shape(&[1, self.dim], &self.pooled(ids)?).map_err(|e| format!("{e:#}"))?;
        let out = self
            .plan
            .run(tvec!(mean.into()))
            .map_err(|e| format!("model run failed: {e:#}"))?;
        let first = out.first().ok_or("model returned no output")?;
        let view = first
            .try_as_plain_ram()
            .map_err(|e| format!("unexpected model output: {e:#}"))?;
        let values = view
            .as_slice::<f32>()
            .map_err(|e| format!("unexpected model output: {e:#}"))?;
        values
            .first()
            .copied()
            .ok_or_else(|| "empty model output".to_string())
    }
}

/// A classifier with its featurizer settings: scores whole texts.
pub struct ModelScorer {
    pub classifier: Box<dyn Classifier>,
    /// Hash buckets (a power of two); the BOS id.
    pub buckets: u32,
    pub window_tokens: usize,
    pub window_stride: usize,
}

/// A text's score: the maximum over its windows, and how many tokens it had.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextScore {
    pub score: f32,
    pub tokens: usize,
    pub windows: usize,
}

impl ModelScorer {
    /// Score a whole text: every window, never truncated; the maximum wins.
    pub fn score_text(&self, text: &str) -> Result<TextScore, String> {
        let norm = featurizer::normalize(text);
        self.score_tokens(&featurizer::tokens(&norm))
    }

    /// Score an already tokenised text (see [`featurizer::tokens`]).
    pub fn score_tokens(&self, toks: &[&str]) -> Result<TextScore, String> {
        let windows = featurizer::windows(toks.len(), self.window_tokens, self.window_stride);
        let mut ids = Vec::new();
        let mut best = f32::NEG_INFINITY;
        for (s, e) in &windows {
            featurizer::window_ids(&toks[*s..*e], self.buckets, &mut ids);
            best = best.max(self.classifier.score_ids(&ids)?);
        }
        Ok(TextScore {
            score: best,
            tokens: toks.len(),
            windows: windows.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn read(path: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../models/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// The Rust featurizer + tract reproduce the reference outputs (onnxruntime in Python)
    /// within the stated tolerance, window by window.
    fn check(model: &str) {
        let refs: Value =
            serde_json::from_slice(&read(&format!("{model}/reference_outputs.json"))).unwrap();
        let manifest: Value =
            serde_json::from_slice(&read(&format!("{model}/manifest.json"))).unwrap();
        let f = &manifest["featurizer"];
        let scorer = ModelScorer {
            classifier: Box::new(
                TractClassifier::from_onnx(&read(&format!("{model}/model.onnx"))).unwrap(),
            ),
            buckets: f["buckets"].as_u64().unwrap() as u32,
            window_tokens: f["window_tokens"].as_u64().unwrap() as usize,
            window_stride: f["window_stride"].as_u64().unwrap() as usize,
        };
        let tol = refs["tolerance"].as_f64().unwrap() as f32;
        let cases = refs["cases"].as_array().unwrap();
        assert!(cases.len() >= 100);
        for c in cases {
            let text = c["text"].as_str().unwrap();
            let got = scorer.score_text(text).unwrap();
            let want = c["score"].as_f64().unwrap() as f32;
            assert!(
                (got.score - want).abs() <= tol,
                "{model}: {text:?}: {} vs {want}",
                got.score
            );
            assert_eq!(got.tokens as u64, c["n_tokens"].as_u64().unwrap());
            assert_eq!(
                got.windows,
                c["window_scores"].as_array().unwrap().len(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn injection_model_matches_reference_outputs() {
        check("injection");
    }

    #[test]
    fn toxicity_model_matches_reference_outputs() {
        check("toxicity");
    }
}
