//! A classifier head over window embeddings: a small MLP read from
//! `models/heavy/{injection,toxicity}_head.json`, its Platt calibration folded into the last
//! layer, so `sigmoid(output)` is the probability. A head may also read the tier-2 model's
//! logit for the whole text (`input: "embedding+tier2_logit"`), stacking the two tiers.

use std::path::Path;

use anyhow::{bail, Context as _};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum HeadInput {
    #[serde(rename = "embedding")]
    Embedding,
    #[serde(rename = "embedding+tier2_logit")]
    EmbeddingTier2Logit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Activation {
    Relu,
    None,
}

#[derive(Debug, Deserialize)]
struct Layer {
    weight: Vec<Vec<f32>>,
    bias: Vec<f32>,
    activation: Activation,
}

#[derive(Debug, Deserialize)]
pub struct Thresholds {
    pub allow_below: f32,
    pub block_above: f32,
}

#[derive(Debug, Deserialize)]
struct HeadFile {
    name: String,
    input: HeadInput,
    dim_in: usize,
    layers: Vec<Layer>,
    thresholds: Thresholds,
}

pub struct Head {
    pub name: String,
    pub input: HeadInput,
    layers: Vec<Layer>,
    pub thresholds: Thresholds,
}

impl Head {
    pub fn load(path: &Path, embedding_dim: usize) -> anyhow::Result<Head> {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let f: HeadFile =
            serde_json::from_slice(&raw).with_context(|| format!("parsing {}", path.display()))?;
        let want = match f.input {
            HeadInput::Embedding => embedding_dim,
            HeadInput::EmbeddingTier2Logit => embedding_dim + 1,
        };
        if f.dim_in != want {
            bail!(
                "{}: dim_in {} but input needs {want}",
                path.display(),
                f.dim_in
            );
        }
        let mut width = f.dim_in;
        for (i, l) in f.layers.iter().enumerate() {
            if l.weight.is_empty()
                || l.weight.len() != l.bias.len()
                || l.weight.iter().any(|row| row.len() != width)
            {
                bail!("{}: layer {i} does not fit width {width}", path.display());
            }
            width = l.weight.len();
        }
        if width != 1 {
            bail!("{}: the last layer must have one output", path.display());
        }
        Ok(Head {
            name: f.name,
            input: f.input,
            layers: f.layers,
            thresholds: f.thresholds,
        })
    }

    /// The calibrated probability for one window embedding (plus the tier-2 logit, if the
    /// head reads it).
    pub fn score(&self, embedding: &[f32], tier2_logit: f32) -> f32 {
        let mut x: Vec<f32> = embedding.to_vec();
        if self.input == HeadInput::EmbeddingTier2Logit {
            x.push(tier2_logit);
        }
        for l in &self.layers {
            let mut y: Vec<f32> = l
                .weight
                .iter()
                .zip(&l.bias)
                .map(|(row, b)| row.iter().zip(&x).map(|(w, v)| w * v).sum::<f32>() + b)
                .collect();
            if l.activation == Activation::Relu {
                y.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            x = y;
        }
        sigmoid(x.first().copied().unwrap_or(0.0))
    }
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// `log(p / (1 - p))` with `p` clipped to `[1e-6, 1 - 1e-6]`.
pub fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_forward_and_shape_checks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.json");
        std::fs::write(
            &p,
            r#"{"name": "t", "input": "embedding+tier2_logit", "dim_in": 3,
                "layers": [{"weight": [[1, 0, 0], [0, 1, 1]], "bias": [0, -1], "activation": "relu"},
                           {"weight": [[2, 1]], "bias": [0.5], "activation": "none"}],
                "thresholds": {"allow_below": 0.2, "block_above": 0.9}}"#,
        )
        .unwrap();
        let h = Head::load(&p, 2).unwrap();
        // hidden = relu([1, 2 + 3 - 1]) = [1, 4]; out = 2 + 4 + 0.5 = 6.5
        assert!((h.score(&[1.0, 2.0], 3.0) - sigmoid(6.5)).abs() < 1e-6);
        assert!(Head::load(&p, 3).is_err());
        assert!((logit(0.5)).abs() < 1e-6 && logit(1.0).is_finite());
    }
}
