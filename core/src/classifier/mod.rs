//! Tier 2: tiny text classifiers run in-process (inside the wasm filter, and natively), behind
//! the [`Classifier`] trait.
//!
//! The shipped models (`models/injection`, `models/toxicity`) are hashed n-gram models in ONNX
//! (Gather → mean pooling → layers → sigmoid) over the `phash-v1` featurizer ([`featurizer`]).
//! [`TractClassifier`] reads the ONNX file's weights with a minimal reader ([`onnx`]: only this
//! graph's operators are accepted). The pooling (an embedding bag: the mean of the table rows
//! the ids name) is summed in Rust straight from the table, one pass without materialising the
//! `[N, dim]` rows; the layers after it run on tract's kernels (`tract-linalg`) directly: each
//! `MatMul` is one matrix-multiplication kernel call with its weights packed once at configure
//! time and the `Add` (bias) and `Relu` that follow it fused into the same call; a bias or ReLU
//! with no `MatMul` before it is tract's binary kernel, and the final sigmoid tract's sigmoid
//! kernel. No graph framework (`tract-core`: its optimiser and every operator it can rewrite
//! to) is in the filter's module: that was two thirds of its code and most of V8's compile time
//! at Envoy start-up, for a graph of at most five operators. A text is never truncated: it is
//! scored in windows of `window_tokens` tokens with `window_stride` overlap, and its score is
//! the maximum over windows ([`ModelScorer::score_text`]).

pub mod featurizer;
pub mod function_words;
pub mod onnx;

use tract_data::internal::*;
use tract_linalg::element_wise::ElementWise;
use tract_linalg::mmm::{AsInputValue, FusedSpec, MMMInputValue, MatMatMul, MmmDispatch, Query};
use tract_linalg::{BinFn, BinOp, Func};

/// A model that scores one window of featurizer ids: the probability of its positive class.
pub trait Classifier: Send + Sync {
    fn score_ids(&self, ids: &[i64]) -> Result<f32, String>;
}

/// A hashed n-gram classifier: `sigmoid(layers(mean(table[ids])))`, the mean pooled in Rust
/// from the table, the layers and the sigmoid run by tract-linalg kernels.
pub struct TractClassifier {
    steps: Vec<Step>,
    sigmoid: Box<dyn ElementWise<f32>>,
    /// The embedding table, `rows × dim` row-major.
    table: Vec<f32>,
    rows: usize,
    dim: usize,
}

/// One step of the layers after the pooling, on a row of `width` values.
enum Step {
    /// `x · w`, then the bias and ReLU that follow it in the graph, in one kernel call.
    Dense(Dense),
    /// `x + b` with no `MatMul` before it (the injection model: pooled table plus a bias).
    Bias { add: Box<BinFn>, b: Tensor },
    /// `max(x, 0)` with no `MatMul` before it.
    Relu { max: Box<BinFn>, zero: Tensor },
}

/// A `[1, input] · [input, output]` product as tract-linalg computes it: `C = A · B` with `A`
/// the weights (`m = output` rows, `k = input`), packed once for the kernel, and `B` the row
/// (`n = 1`), packed per call.
struct Dense {
    kernel: Box<dyn MatMatMul>,
    packing: usize,
    weights: Box<dyn MMMInputValue>,
    input: usize,
    output: usize,
    bias: Option<Tensor>,
    relu: Option<Tensor>,
}

impl Dense {
    fn new(input: usize, output: usize, w: &[f32]) -> TractResult<Dense> {
        let query = Query {
            allow_extractor: false,
            ..Query::plain(f32::datum_type(), Some(output), Some(input), Some(1))
        };
        let Some((kernel, packing, None)) = MmmDispatch::native().pick(&query) else {
            bail!("no f32 matrix-multiplication kernel for {output}×{input}·{input}×1");
        };
        let Some((pack_a, _)) = kernel.packings().get(packing) else {
            bail!("kernel {} has no packing {packing}", kernel.name());
        };
        // `w` is `[input, output]`: k on axis 0, m on axis 1.
        let weights = pack_a.prepare_one(&Tensor::from_shape(&[input, output], w)?, 0, 1)?;
        Ok(Dense {
            kernel,
            packing,
            weights,
            input,
            output,
            bias: None,
            relu: None,
        })
    }

    fn run(&self, x: &[f32]) -> TractResult<Vec<f32>> {
        if x.len() != self.input {
            bail!(
                "a row of {} values for a {}-wide layer",
                x.len(),
                self.input
            );
        }
        let Some((_, pack_b)) = self.kernel.packings().get(self.packing) else {
            bail!(
                "kernel {} has no packing {}",
                self.kernel.name(),
                self.packing
            );
        };
        let row = pack_b.prepare_one(&Tensor::from_shape(&[self.input, 1], x)?, 0, 1)?;
        let mut c = Tensor::zero::<f32>(&[self.output, 1])?;
        let mut specs = vec![FusedSpec::AddMatMul {
            a: AsInputValue::Borrowed(&*self.weights),
            b: AsInputValue::Borrowed(&*row),
            packing: self.packing,
        }];
        if let Some(b) = &self.bias {
            specs.push(FusedSpec::BinPerRow(b.view(), BinOp::Add));
        }
        if let Some(zero) = &self.relu {
            specs.push(FusedSpec::BinScalar(zero, BinOp::Max));
        }
        // SAFETY: what the kernel reads and writes is sized by this struct alone: `weights` was
        // packed by this kernel's own `packing` format from an `input × output` tensor, `row`
        // by the same packing's `B` format from `input × 1`; `c` is `output × 1` f32, the
        // kernel's accumulator type, and its store spec comes from this kernel; the bias has
        // `output` values (checked when the step was built); `m = output`, `n = 1`.
        #[allow(unsafe_code)]
        unsafe {
            let store = self.kernel.c_view(Some(0), Some(1)).wrap(&c.view_mut());
            specs.push(FusedSpec::Store(store));
            self.kernel.run(self.output, 1, &specs)?;
        }
        Ok(c.try_as_plain_ram()?.as_slice::<f32>()?.to_vec())
    }
}

impl TractClassifier {
    /// Read the weights of the ONNX model and prepare its kernels (once, at configure time).
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
        let mut steps: Vec<Step> = Vec::new();
        let mut width = w.dim;
        for layer in &w.layers {
            match (layer, steps.last_mut()) {
                (onnx::Layer::MatMul { input, output, w }, _) => {
                    if *input != width || w.len() != input * output {
                        bail!("a {input}×{output} MatMul after a {width}-wide row");
                    }
                    steps.push(Step::Dense(Dense::new(*input, *output, w)?));
                    width = *output;
                }
                (onnx::Layer::Bias(b), last) => {
                    if b.len() != width {
                        bail!("a bias of {} values on a {width}-wide row", b.len());
                    }
                    let b = Tensor::from_shape(&[width], b)?;
                    match last {
                        Some(Step::Dense(d)) if d.bias.is_none() && d.relu.is_none() => {
                            d.bias = Some(b);
                        }
                        _ => steps.push(Step::Bias {
                            add: binary(Func::BinUnicast(BinOp::Add))?,
                            b,
                        }),
                    }
                }
                (onnx::Layer::Relu, last) => match last {
                    Some(Step::Dense(d)) if d.relu.is_none() => d.relu = Some(tensor0(0f32)),
                    _ => steps.push(Step::Relu {
                        max: binary(Func::BinByScalar(BinOp::Max))?,
                        zero: tensor0(0f32),
                    }),
                },
            }
        }
        if width != 1 {
            bail!("the layers end on {width} values, not one score");
        }
        Ok(TractClassifier {
            steps,
            sigmoid: Func::Sigmoid.ew_f32()?,
            table: w.table,
            rows: w.rows,
            dim: w.dim,
        })
    }

    /// The mean of the table rows `ids` name (an id outside the table is an error, as
    /// Gather's).
    fn pooled(&self, ids: &[i64]) -> Result<Vec<f32>, String> {
        // The shipped widths sum in a fixed-size accumulator the compiler keeps in registers;
        // summed through a heap row, each addition waited for the store of the one before.
        // Same additions in the same order: the same floats.
        let mut acc = match self.dim {
            1 => self.summed::<1>(ids)?.to_vec(),
            8 => self.summed::<8>(ids)?.to_vec(),
            16 => self.summed::<16>(ids)?.to_vec(),
            _ => {
                let mut acc = vec![0f32; self.dim];
                for &id in ids {
                    for (a, w) in acc.iter_mut().zip(self.row(id)?) {
                        *a += w;
                    }
                }
                acc
            }
        };
        let inv_n = 1.0f32 / ids.len() as f32;
        for a in &mut acc {
            *a *= inv_n;
        }
        Ok(acc)
    }

    /// The sum of the table rows `ids` name, for a table `N` wide.
    fn summed<const N: usize>(&self, ids: &[i64]) -> Result<[f32; N], String> {
        // `N` is the table's width (`dim`): its rows, so each id costs one bounds check.
        let (rows, _) = self.table.as_chunks::<N>();
        let mut acc = [0f32; N];
        for &id in ids {
            let row = usize::try_from(id)
                .ok()
                .and_then(|r| rows.get(r))
                .ok_or_else(|| self.outside(id))?;
            for (a, w) in acc.iter_mut().zip(row) {
                *a += w;
            }
        }
        Ok(acc)
    }

    /// Row `id` of the table (an id outside the table is an error, as Gather's).
    fn row(&self, id: i64) -> Result<&[f32], String> {
        usize::try_from(id)
            .ok()
            .filter(|r| *r < self.rows)
            .and_then(|r| self.table.get(r * self.dim..(r + 1) * self.dim))
            .ok_or_else(|| self.outside(id))
    }

    fn outside(&self, id: i64) -> String {
        format!("id {id} is outside the table of {} rows", self.rows)
    }

    fn layers(&self, pooled: Vec<f32>) -> TractResult<f32> {
        let mut x = pooled;
        for step in &self.steps {
            match step {
                Step::Dense(d) => x = d.run(&x)?,
                Step::Bias { add, b } => {
                    let mut t = Tensor::from_shape(&[x.len()], &x)?;
                    add(&mut t.view_mut(), &b.view())?;
                    x = t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
                }
                Step::Relu { max, zero } => {
                    let mut t = Tensor::from_shape(&[x.len()], &x)?;
                    max(&mut t.view_mut(), &zero.view())?;
                    x = t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
                }
            }
        }
        self.sigmoid.run(&mut x)?;
        match x.as_slice() {
            [score] => Ok(*score),
            _ => bail!("{} scores, not one", x.len()),
        }
    }
}

/// tract-linalg's binary kernel for `func` on f32.
fn binary(func: Func) -> TractResult<Box<BinFn>> {
    func.bin(f32::datum_type())
        .with_context(|| format!("no f32 {} kernel", func.name()))
}

impl Classifier for TractClassifier {
    fn score_ids(&self, ids: &[i64]) -> Result<f32, String> {
        if ids.is_empty() {
            return Err("no ids to score".into());
        }
        self.layers(self.pooled(ids)?)
            .map_err(|e| format!("model run failed: {e:#}"))
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
        self.score_features(&featurizer::Features::new(text))
    }

    /// Score a text's features (see [`featurizer::Features`]), shared with the other models
    /// reading the same text.
    pub fn score_features(&self, features: &featurizer::Features) -> Result<TextScore, String> {
        let windows =
            featurizer::windows(features.tokens(), self.window_tokens, self.window_stride);
        let mut ids = Vec::new();
        let mut best = f32::NEG_INFINITY;
        for w in &windows {
            features.window_ids(*w, self.buckets, &mut ids);
            best = best.max(self.classifier.score_ids(&ids)?);
        }
        Ok(TextScore {
            score: best,
            tokens: features.tokens(),
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

    /// The bag is the mean of the rows the ids name, in every width the accumulator is
    /// specialised for (1, 8, 16) and in the general one (3), bit for bit the sum taken id by
    /// id; an id past the last row is an error.
    #[test]
    fn the_bag_is_the_mean_of_the_named_rows_in_every_width() {
        for dim in [1usize, 3, 8, 16] {
            let rows = 5;
            let table: Vec<f32> = (0..rows * dim)
                .map(|v| ((v * 37 % 23) as f32 - 11.0) / 7.0)
                .collect();
            let c = TractClassifier::build(onnx::PooledModel {
                rows,
                dim,
                table: table.clone(),
                layers: vec![onnx::Layer::MatMul {
                    input: dim,
                    output: 1,
                    w: vec![1.0; dim],
                }],
            })
            .unwrap();
            let ids = [0i64, 4, 2, 2, 1, 4, 3];
            let mut want = vec![0f32; dim];
            for &id in &ids {
                for (k, w) in want.iter_mut().enumerate() {
                    *w += table[id as usize * dim + k];
                }
            }
            for w in &mut want {
                *w *= 1.0 / ids.len() as f32;
            }
            assert_eq!(c.pooled(&ids).unwrap(), want, "width {dim}");
            assert!(c.pooled(&[1, 5]).is_err(), "width {dim}: row 5 of 5");
            assert!(c.pooled(&[-1]).is_err(), "width {dim}: a negative id");
        }
    }

    /// Every layer arrangement the ONNX reader accepts runs as written: a `MatMul` with its
    /// bias and ReLU fused, a ReLU before a bias (not fused past it), and a bias or ReLU with
    /// no `MatMul` before it — against the arithmetic done by hand.
    #[test]
    fn layer_chains_compute_what_they_say() {
        use onnx::Layer::*;
        let table: Vec<f32> = (0..12).map(|v| (v as f32 - 5.5) / 4.0).collect();
        let w1: Vec<f32> = (0..12).map(|v| ((v * 7 % 11) as f32 - 5.0) / 8.0).collect();
        let w2: Vec<f32> = (0..4).map(|v| (v as f32 - 1.5) / 2.0).collect();
        let chains = vec![
            vec![
                MatMul {
                    input: 3,
                    output: 4,
                    w: w1.clone(),
                },
                Bias(vec![0.1, -0.2, 0.3, -0.4]),
                Relu,
                MatMul {
                    input: 4,
                    output: 1,
                    w: w2.clone(),
                },
                Bias(vec![0.05]),
            ],
            vec![
                MatMul {
                    input: 3,
                    output: 4,
                    w: w1.clone(),
                },
                Relu,
                Bias(vec![-0.3, 0.2, -0.1, 0.0]),
                Relu,
                MatMul {
                    input: 4,
                    output: 1,
                    w: w2.clone(),
                },
            ],
            vec![
                Bias(vec![0.5, -0.5, 0.25]),
                Relu,
                MatMul {
                    input: 3,
                    output: 1,
                    w: vec![1.0, -2.0, 0.5],
                },
            ],
        ];
        let by_hand = |layers: &[onnx::Layer], mut x: Vec<f32>| {
            for l in layers {
                x = match l {
                    MatMul { input, output, w } => (0..*output)
                        .map(|o| (0..*input).map(|i| x[i] * w[i * output + o]).sum())
                        .collect(),
                    Bias(b) => x.iter().zip(b).map(|(a, b)| a + b).collect(),
                    Relu => x.iter().map(|a| a.max(0.0)).collect(),
                };
            }
            1.0 / (1.0 + (-x[0]).exp())
        };
        for layers in chains {
            let c = TractClassifier::build(onnx::PooledModel {
                rows: 4,
                dim: 3,
                table: table.clone(),
                layers: layers.clone(),
            })
            .unwrap();
            for ids in [vec![0i64], vec![1, 3], vec![2, 2, 0, 3]] {
                let pooled = c.pooled(&ids).unwrap();
                let want = by_hand(&layers, pooled);
                let got = c.score_ids(&ids).unwrap();
                assert!(
                    (got - want).abs() < 1e-5,
                    "{layers:?} {ids:?}: {got} vs {want}"
                );
            }
            assert!(c.score_ids(&[4]).is_err(), "an id outside the table");
        }
        let wrong = TractClassifier::build(onnx::PooledModel {
            rows: 4,
            dim: 3,
            table,
            layers: vec![MatMul {
                input: 3,
                output: 2,
                w: vec![0.0; 6],
            }],
        });
        assert!(wrong.is_err(), "layers ending on two values");
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
