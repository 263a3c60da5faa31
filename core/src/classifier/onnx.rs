//! A minimal ONNX reader for tier 2's model shape: `Gather(table, ids) → ReduceMean`, then a
//! chain of `MatMul`, `Add` (bias), `Relu` and a final single-value `Reshape`, then `Sigmoid`
//! (the injection model is the pooled table plus a bias; the toxicity model has a hidden layer).
//! It reads the graph's nodes and initializers (protobuf, with prost) and refuses anything else,
//! so a model file the builder does not reproduce exactly is an error at configure time, never
//! a silently different model.

use prost::Message;

/// A pooled model: `sigmoid(layers(mean(table[ids])))`, `table` `[rows, dim]` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledModel {
    pub rows: usize,
    pub dim: usize,
    pub table: Vec<f32>,
    pub layers: Vec<Layer>,
}

/// One step after the pooling, on a `[1, width]` row.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `x · w`, `w` `[input, output]` row-major.
    MatMul {
        input: usize,
        output: usize,
        w: Vec<f32>,
    },
    /// `x + b`.
    Bias(Vec<f32>),
    Relu,
}

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "3")]
    i: i64,
    #[prost(int64, repeated, tag = "8")]
    ints: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    /// 1 = FLOAT.
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(float, repeated, tag = "4")]
    float_data: Vec<f32>,
    #[prost(int64, repeated, tag = "7")]
    int64_data: Vec<i64>,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

/// Read a pooled model, checking the graph is exactly what [`super::TractClassifier`] builds.
pub fn read_pooled(bytes: &[u8]) -> Result<PooledModel, String> {
    let model = ModelProto::decode(bytes).map_err(|e| format!("not an ONNX model: {e}"))?;
    let graph = model.graph.ok_or("ONNX model without a graph")?;
    let unsupported = |why: String| format!("unsupported tier-2 model: {why}");
    let attr = |n: &NodeProto, name: &str| n.attribute.iter().find(|a| a.name == name).cloned();
    let init = |name: &str| {
        graph
            .initializer
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| unsupported(format!("`{name}` is not an initializer")))
    };
    let [gather, mean, rest @ ..] = &graph.node[..] else {
        return Err(unsupported("too few nodes".into()));
    };
    if gather.op_type != "Gather" || attr(gather, "axis").map_or(0, |a| a.i) != 0 {
        return Err(unsupported(format!("starts with {}", gather.op_type)));
    }
    let table = init(gather.input.first().map_or("", String::as_str))?;
    let (rows, dim) = match table.dims[..] {
        [r, d] if r > 0 && d > 0 => (r as usize, d as usize),
        _ => return Err(unsupported(format!("table of shape {:?}", table.dims))),
    };
    let table = floats(table)?;
    if table.len() != rows * dim {
        return Err(unsupported("table size".into()));
    }
    if mean.op_type != "ReduceMean"
        || attr(mean, "axes").map_or_else(Vec::new, |a| a.ints) != [0]
        || mean.input.len() != 1
        || mean.input.first() != gather.output.first()
    {
        return Err(unsupported(
            "pooling is not ReduceMean over axis 0 of the gathered rows".into(),
        ));
    }
    let mut layers = Vec::new();
    let mut width = dim;
    let mut prev = mean.output.first();
    let Some((sigmoid, chain)) = rest.split_last() else {
        return Err(unsupported("no Sigmoid".into()));
    };
    for n in chain.iter().chain(std::iter::once(sigmoid)) {
        if n.input.first() != prev {
            return Err(unsupported(format!(
                "{} is not chained to the previous node",
                n.op_type
            )));
        }
        prev = n.output.first();
        let second = || init(n.input.get(1).map_or("", String::as_str));
        match n.op_type.as_str() {
            "MatMul" => {
                let w = second()?;
                match w.dims[..] {
                    [i, o] if i as usize == width && o > 0 => {
                        layers.push(Layer::MatMul {
                            input: width,
                            output: o as usize,
                            w: floats(w)?,
                        });
                        width = o as usize;
                    }
                    _ => {
                        return Err(unsupported(format!(
                            "MatMul weights {:?} after width {width}",
                            w.dims
                        )))
                    }
                }
            }
            "Add" => {
                let b = floats(second()?)?;
                if b.len() != width {
                    return Err(unsupported(format!(
                        "bias of {} for width {width}",
                        b.len()
                    )));
                }
                layers.push(Layer::Bias(b));
            }
            "Relu" => layers.push(Layer::Relu),
            // Only the final flattening of the one score.
            "Reshape" if width == 1 => {
                let shape = second()?;
                let target = if shape.int64_data.is_empty() {
                    shape
                        .raw_data
                        .chunks_exact(8)
                        .map(|c| {
                            i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                        })
                        .collect()
                } else {
                    shape.int64_data.clone()
                };
                if target.iter().any(|d| *d != 1 && *d != -1) {
                    return Err(unsupported(format!("Reshape to {target:?}")));
                }
            }
            "Sigmoid" if std::ptr::eq(n, sigmoid) && width == 1 => {}
            op => return Err(unsupported(format!("operator {op} (width {width})"))),
        }
    }
    Ok(PooledModel {
        rows,
        dim,
        table,
        layers,
    })
}

fn floats(t: &TensorProto) -> Result<Vec<f32>, String> {
    if t.data_type != 1 {
        return Err(format!("initializer `{}` is not float32", t.name));
    }
    if !t.float_data.is_empty() {
        return Ok(t.float_data.clone());
    }
    if !t.raw_data.len().is_multiple_of(4) {
        return Err(format!("initializer `{}`: raw data not float32", t.name));
    }
    Ok(t.raw_data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../models/{name}/model.onnx",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn reads_the_shipped_models() {
        let inj = read_pooled(&model("injection")).unwrap();
        assert_eq!((inj.dim, inj.layers.len()), (1, 1));
        let tox = read_pooled(&model("toxicity")).unwrap();
        assert_eq!(tox.dim, 8);
        assert!(matches!(
            tox.layers[..],
            [
                Layer::MatMul { .. },
                Layer::Bias(_),
                Layer::Relu,
                Layer::MatMul { .. },
                Layer::Bias(_)
            ]
        ));
        assert_eq!(tox.table.len(), tox.rows * tox.dim);
    }

    #[test]
    fn refuses_other_graphs_and_garbage() {
        assert!(read_pooled(b"not a model").is_err());
        // The same model with its Sigmoid renamed: not the graph the builder makes.
        let mut bytes = model("injection");
        let at = bytes
            .windows(7)
            .position(|w| w == b"Sigmoid")
            .expect("a Sigmoid node");
        bytes[at..at + 7].copy_from_slice(b"Softmax");
        let err = read_pooled(&bytes).unwrap_err();
        assert!(err.contains("unsupported"), "{err}");
    }
}
