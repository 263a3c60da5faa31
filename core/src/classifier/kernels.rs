//! The tract-linalg kernels tier 2 runs: an f32 matrix-vector product per `MatMul`, a binary
//! kernel for a bias or ReLU with no `MatMul` before it, and the sigmoid.
//!
//! Natively they are what tract's registry picks for this CPU ([`MmmDispatch::native`] and
//! [`Func`]'s lookups). On wasm the registry is empty: tract-linalg registers every kernel it has
//! with `inventory::submit!`, and each registration keeps its kernel's code in the module that
//! Envoy's V8 compiles before it is ready, so `parapet-core` drops them there (`inventory`'s
//! `wasm-submit-none`, third_party/inventory) and builds the few it runs here. They are the ones
//! the registry picks on wasm32 with simd128 (tract's wasm tier: by `m`, a 4-, 8-, 16- or
//! 32-row matrix-vector kernel, packing 0; the generic sigmoid, the generic unicast add, the
//! simd128 by-scalar max), so the in-filter scores are the same floats as before (an end-to-end
//! test holds them to the models' reference outputs: tests/e2e/test_tier2.py).

use tract_data::internal::*;
use tract_linalg::element_wise::ElementWise;
use tract_linalg::mmm::MatMatMul;
use tract_linalg::{BinFn, Func};

/// The kernel for an `output × input` · `input × 1` product and the index of its packing.
pub(super) fn gemv(output: usize, input: usize) -> TractResult<(Box<dyn MatMatMul>, usize)> {
    imp::gemv(output, input)
}

/// The f32 kernel of a binary `func` (`BinUnicast` or `BinByScalar`).
pub(super) fn binary(func: Func) -> TractResult<Box<BinFn>> {
    imp::binary(func)
}

/// The f32 sigmoid kernel.
pub(super) fn sigmoid() -> TractResult<Box<dyn ElementWise<f32>>> {
    imp::sigmoid()
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use super::*;
    use tract_linalg::mmm::{MmmDispatch, Query};

    pub(super) fn gemv(output: usize, input: usize) -> TractResult<(Box<dyn MatMatMul>, usize)> {
        let query = Query {
            allow_extractor: false,
            ..Query::plain(f32::datum_type(), Some(output), Some(input), Some(1))
        };
        match MmmDispatch::native().pick(&query) {
            Some((kernel, packing, None)) => Ok((kernel, packing)),
            _ => bail!("no f32 matrix-multiplication kernel for {output}×{input}·{input}×1"),
        }
    }

    pub(super) fn binary(func: Func) -> TractResult<Box<BinFn>> {
        func.bin(f32::datum_type())
            .with_context(|| format!("no f32 {} kernel", func.name()))
    }

    pub(super) fn sigmoid() -> TractResult<Box<dyn ElementWise<f32>>> {
        Func::Sigmoid.ew_f32()
    }
}

#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
mod imp {
    use super::*;
    use tract_linalg::by_scalar::ByScalarKer;
    use tract_linalg::element_wise::ElementWiseKer;
    use tract_linalg::unicast::UnicastKer;
    use tract_linalg::BinOp;

    pub(super) fn gemv(output: usize, _input: usize) -> TractResult<(Box<dyn MatMatMul>, usize)> {
        use tract_linalg::wasm::{wasm_f32_16x1, wasm_f32_32x1, wasm_f32_4x1, wasm_f32_8x1};
        // tract's wasm tier (`tract_linalg::wasm`, `preferred`): the kernel whose rows fit `m`.
        let kernel = match output {
            0..=4 => wasm_f32_4x1.mmm(),
            5..=8 => wasm_f32_8x1.mmm(),
            9..=16 => wasm_f32_16x1.mmm(),
            _ => wasm_f32_32x1.mmm(),
        };
        Ok((kernel, 0))
    }

    pub(super) fn binary(func: Func) -> TractResult<Box<BinFn>> {
        match func {
            Func::BinUnicast(BinOp::Add) => Ok(tract_linalg::generic::unicast::SUnicastAdd4::bin()),
            Func::BinByScalar(BinOp::Max) => {
                Ok(tract_linalg::wasm::wasm_max_by_scalar_f32_16n::bin())
            }
            _ => bail!("no f32 {} kernel in the filter", func.name()),
        }
    }

    pub(super) fn sigmoid() -> TractResult<Box<dyn ElementWise<f32>>> {
        Ok(tract_linalg::generic::sigmoid::generic_sigmoid_f32_4n::ew())
    }
}

#[cfg(all(target_family = "wasm", not(target_feature = "simd128")))]
compile_error!("tier 2 on wasm needs simd128 (.cargo/config.toml enables it for wasm32-wasip1)");
