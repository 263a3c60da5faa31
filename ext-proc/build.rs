//! Generates the Classifier gRPC service (proto/parapet/classify/v1/classify.proto) over the
//! prost messages derived in parapet-core (`parapet_core::escalation::proto`), so no protoc is
//! needed.

fn main() {
    let message = |name: &str| format!("parapet_core::escalation::proto::{name}");
    let classify = tonic_build::manual::Method::builder()
        .name("classify")
        .route_name("Classify")
        .input_type(message("ClassifyRequest"))
        .output_type(message("ClassifyResponse"))
        .codec_path("tonic_prost::ProstCodec")
        .build();
    let service = tonic_build::manual::Service::builder()
        .name("Classifier")
        .package("parapet.classify.v1")
        .method(classify)
        .build();
    tonic_build::manual::Builder::new()
        .build_transport(false)
        .compile(&[service]);
    println!("cargo:rerun-if-changed=build.rs");
}
