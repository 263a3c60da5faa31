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
//! the maximum over windows ([`ModelScorer::score_text`]). The windows are pooled one by one and
//! go through the layers together, as the columns of one product per layer: the kernels' set-up
//! (packing, scratch space, tensors) is paid once per text, not once per window.

pub mod featurizer;
pub mod function_words;
mod kernels;
pub mod onnx;

use tract_data::internal::*;
use tract_linalg::element_wise::ElementWise;
use tract_linalg::mmm::{AsInputValue, FusedSpec, MMMInputValue, MatMatMul};
use tract_linalg::{BinFn, BinOp, Func};

/// A model that scores windows of featurizer ids: the probability of its positive class. A
/// text's windows are pooled one by one ([`Self::pool`]) and run through the layers together
/// ([`Self::score_rows`]): one kernel call per layer for the whole text.
pub trait Classifier: Send + Sync {
    /// Append the pooled row of one window to `rows`, its ids read from its hashes where they
    /// lie ([`featurizer::WindowHashes::try_each_id`]).
    fn pool(
        &self,
        window: featurizer::WindowHashes<'_>,
        buckets: u32,
        rows: &mut Vec<f32>,
    ) -> Result<(), String>;

    /// The score of each pooled row of `rows` (rows as [`Self::pool`] appends them), in order.
    fn score_rows(&self, rows: &[f32]) -> Result<Vec<f32>, String>;
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

/// A `[n, input] · [input, output]` product as tract-linalg computes it: `C = A · B` with `A`
/// the weights (`m = output` rows, `k = input`), packed once for the kernel, and `B` the `n`
/// rows of a text's windows (`n` columns), packed per call. The kernel is the one tract picks
/// for a single row (`n = 1`) whatever `n` is: each column is then the tile a single row would
/// be, so a window's score does not depend on how many windows its text has.
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
        let (kernel, packing) = kernels::gemv(output, input)?;
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

    /// `x`: `n` rows of `input` values, one after another; the result: `n` rows of `output`.
    fn run(&self, x: &[f32], n: usize) -> TractResult<Vec<f32>> {
        if n == 0 || x.len() != n * self.input {
            bail!(
                "{} values for {n} rows of a {}-wide layer",
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
        // `x` is `[n, input]`: k on axis 1, n on axis 0; so is `c`, `[n, output]`: m on axis 1.
        let rows = pack_b.prepare_one(&Tensor::from_shape(&[n, self.input], x)?, 1, 0)?;
        let mut c = Tensor::zero::<f32>(&[n, self.output])?;
        let mut specs = vec![FusedSpec::AddMatMul {
            a: AsInputValue::Borrowed(&*self.weights),
            b: AsInputValue::Borrowed(&*rows),
            packing: self.packing,
        }];
        if let Some(b) = &self.bias {
            specs.push(FusedSpec::BinPerRow(b.view(), BinOp::Add));
        }
        if let Some(zero) = &self.relu {
            specs.push(FusedSpec::BinScalar(zero, BinOp::Max));
        }
        // SAFETY: what the kernel reads and writes is sized by this struct alone: `weights` was
        // packed by this kernel's own `packing` format from an `input × output` tensor, `rows`
        // by the same packing's `B` format from `n × input` (k on its axis 1); `c` is `n ×
        // output` f32, the kernel's accumulator type, m on its axis 1 and n on its axis 0, and
        // its store spec comes from this kernel; the bias has `output` values (checked when the
        // step was built); `m = output`, `n` rows.
        #[allow(unsafe_code)]
        unsafe {
            let store = self.kernel.c_view(Some(1), Some(0)).wrap(&c.view_mut());
            specs.push(FusedSpec::Store(store));
            self.kernel.run(self.output, n, &specs)?;
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
                            add: kernels::binary(Func::BinUnicast(BinOp::Add))?,
                            b,
                        }),
                    }
                }
                (onnx::Layer::Relu, last) => match last {
                    Some(Step::Dense(d)) if d.relu.is_none() => d.relu = Some(tensor0(0f32)),
                    _ => steps.push(Step::Relu {
                        max: kernels::binary(Func::BinByScalar(BinOp::Max))?,
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
            sigmoid: kernels::sigmoid()?,
            table: w.table,
            rows: w.rows,
            dim: w.dim,
        })
    }

    /// The mean of the table rows `ids` name (an id outside the table is an error, as
    /// Gather's).
    #[cfg(test)]
    fn pooled(&self, ids: &[i64]) -> Result<Vec<f32>, String> {
        let mut row = Vec::new();
        self.pool_into(ids, ids.len(), &mut row)?;
        Ok(row)
    }

    /// The score of one window of written-out ids, alone.
    #[cfg(test)]
    fn score_ids(&self, ids: &[i64]) -> Result<f32, String> {
        match self.score_rows(&self.pooled(ids)?)?.as_slice() {
            [score] => Ok(*score),
            scores => Err(format!("{} scores for one window", scores.len())),
        }
    }

    /// Append the mean of the table rows the `count` ids `ids` visits name to `rows`.
    fn pool_into(&self, ids: impl Ids, count: usize, rows: &mut Vec<f32>) -> Result<(), String> {
        if count == 0 {
            return Err("no ids to score".into());
        }
        // The shipped widths sum in a fixed-size accumulator the compiler keeps in registers;
        // summed through a heap row, each addition waited for the store of the one before.
        // Same additions in the same order: the same floats.
        let inv_n = 1.0f32 / count as f32;
        match self.dim {
            1 => rows.extend(self.summed::<1>(ids)?.map(|a| a * inv_n)),
            8 => rows.extend(self.summed::<8>(ids)?.map(|a| a * inv_n)),
            16 => rows.extend(self.summed::<16>(ids)?.map(|a| a * inv_n)),
            _ => {
                let mut acc = vec![0f32; self.dim];
                ids.try_each(|id| {
                    for (a, w) in acc.iter_mut().zip(self.row(id)?) {
                        *a += w;
                    }
                    Ok::<_, String>(())
                })?;
                rows.extend(acc.iter().map(|a| a * inv_n));
            }
        }
        Ok(())
    }

    /// The sum of the table rows `ids` name, for a table `N` wide.
    fn summed<const N: usize>(&self, ids: impl Ids) -> Result<[f32; N], String> {
        // `N` is the table's width (`dim`): its rows, so each id costs one bounds check.
        let (rows, _) = self.table.as_chunks::<N>();
        let mut acc = [0f32; N];
        ids.try_each(|id| {
            let row = usize::try_from(id)
                .ok()
                .and_then(|r| rows.get(r))
                .ok_or_else(|| self.outside(id))?;
            for (a, w) in acc.iter_mut().zip(row) {
                *a += w;
            }
            Ok::<_, String>(())
        })?;
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

    /// The layers and the sigmoid over `n` pooled rows (`n × dim` values): `n` scores.
    fn layers(&self, pooled: &[f32], n: usize) -> TractResult<Vec<f32>> {
        if n == 0 || pooled.len() != n * self.dim {
            bail!("{} values for {n} rows {} wide", pooled.len(), self.dim);
        }
        let mut x = pooled.to_vec();
        for step in &self.steps {
            match step {
                Step::Dense(d) => x = d.run(&x, n)?,
                Step::Bias { add, b } => {
                    // the bias once per row: the same additions, a row at a time
                    let bias = b.try_as_plain_ram()?.as_slice::<f32>()?;
                    let bias: Vec<f32> = bias.iter().copied().cycle().take(x.len()).collect();
                    let bias = Tensor::from_shape(&[x.len()], &bias)?;
                    let mut t = Tensor::from_shape(&[x.len()], &x)?;
                    add(&mut t.view_mut(), &bias.view())?;
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
        if x.len() != n {
            bail!("{} scores for {n} rows", x.len());
        }
        Ok(x)
    }
}

/// A window's ids, visited in order: written out (`&[i64]`) or read from its hashes where they
/// lie (a [`featurizer::WindowHashes`] and the bucket count).
trait Ids {
    fn try_each(self, f: impl FnMut(i64) -> Result<(), String>) -> Result<(), String>;
}

#[cfg(test)]
impl Ids for &[i64] {
    #[inline(always)]
    fn try_each(self, mut f: impl FnMut(i64) -> Result<(), String>) -> Result<(), String> {
        self.iter().try_for_each(|&id| f(id))
    }
}

impl Ids for (featurizer::WindowHashes<'_>, u32) {
    #[inline(always)]
    fn try_each(self, f: impl FnMut(i64) -> Result<(), String>) -> Result<(), String> {
        self.0.try_each_id(self.1, f)
    }
}

impl Classifier for TractClassifier {
    fn pool(
        &self,
        window: featurizer::WindowHashes<'_>,
        buckets: u32,
        rows: &mut Vec<f32>,
    ) -> Result<(), String> {
        self.pool_into((window, buckets), window.len(), rows)
    }

    fn score_rows(&self, rows: &[f32]) -> Result<Vec<f32>, String> {
        self.layers(rows, rows.len() / self.dim)
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
        let mut rows = Vec::new();
        for w in &windows {
            self.classifier
                .pool(features.window(*w), self.buckets, &mut rows)?;
        }
        let mut best = f32::NEG_INFINITY;
        if !windows.is_empty() {
            let scores = self.classifier.score_rows(&rows)?;
            if scores.len() != windows.len() {
                return Err(format!(
                    "{} scores for {} windows",
                    scores.len(),
                    windows.len()
                ));
            }
            best = scores.into_iter().fold(best, f32::max);
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
        // the same model, for the tests below to call without the trait object
        let tract = TractClassifier::from_onnx(&read(&format!("{model}/model.onnx"))).unwrap();
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
            let want_windows = c["window_scores"].as_array().unwrap();
            assert_eq!(got.windows, want_windows.len(), "{text:?}");
            // The text's windows, run through the layers together as `score_text` runs them,
            // score what each scores alone, bit for bit, and what the reference says of each.
            let features = featurizer::Features::new(text);
            let windows = featurizer::windows(
                features.tokens(),
                scorer.window_tokens,
                scorer.window_stride,
            );
            let (mut ids, mut rows, mut alone) = (Vec::new(), Vec::new(), Vec::new());
            let mut read_in_place = Vec::new();
            for w in &windows {
                features.window_ids(*w, scorer.buckets, &mut ids);
                rows.extend(tract.pooled(&ids).unwrap());
                alone.push(tract.score_ids(&ids).unwrap());
                let window = features.window(*w);
                tract
                    .pool(window, scorer.buckets, &mut read_in_place)
                    .unwrap();
            }
            let together = tract.score_rows(&rows).unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&together), bits(&alone), "{model}: {text:?}");
            // pooled from the hashes where they lie: the same rows as from the written ids
            assert_eq!(bits(&read_in_place), bits(&rows), "{model}: {text:?}");
            for (got, want) in together.iter().zip(want_windows) {
                let want = want.as_f64().unwrap() as f32;
                assert!(
                    (got - want).abs() <= tol,
                    "{model}: {text:?}: window {got} vs {want}"
                );
            }
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
            // the three windows through the layers at once: each scores as alone, bit for bit
            let mut rows = Vec::new();
            let mut alone = Vec::new();
            for ids in [vec![0i64], vec![1, 3], vec![2, 2, 0, 3]] {
                rows.extend(c.pooled(&ids).unwrap());
                alone.push(c.score_ids(&ids).unwrap().to_bits());
            }
            let together: Vec<u32> = c
                .score_rows(&rows)
                .unwrap()
                .iter()
                .map(|s| s.to_bits())
                .collect();
            assert_eq!(together, alone, "{layers:?}");
            assert!(c.score_ids(&[4]).is_err(), "an id outside the table");
            assert!(c.score_rows(&rows[1..]).is_err(), "rows cut short");
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
