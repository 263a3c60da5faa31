//! The one place that talks to the proxy-wasm host.
//!
//! Every host call goes through here and returns a `Result`; callers decide what a failure
//! means (usually: log it and fail safe). The SDK's `Context` convenience methods `unwrap()`
//! host results, and a panic would abort the VM and take every stream on this worker with it,
//! so they are not used anywhere in the filter.

use std::time::{Duration, UNIX_EPOCH};

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel, MapType, MetricType, Status};

/// A failed host call: which one and the host's status.
#[derive(Debug, Clone, Copy)]
pub struct HostError {
    pub call: &'static str,
    pub status: Status,
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host call {} failed: {:?}", self.call, self.status)
    }
}

type HostResult<T> = Result<T, HostError>;

fn err(call: &'static str) -> impl Fn(Status) -> HostError {
    move |status| HostError { call, status }
}

pub fn log(level: LogLevel, message: &str) {
    // Nothing sensible to do if logging itself fails.
    let _ = hostcalls::log(level, message);
}

pub fn plugin_configuration() -> HostResult<Option<Vec<u8>>> {
    hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
        .map_err(err("get_buffer(plugin_configuration)"))
}

pub fn request_body(size: usize) -> HostResult<Vec<u8>> {
    hostcalls::get_buffer(BufferType::HttpRequestBody, 0, size)
        .map(Option::unwrap_or_default)
        .map_err(err("get_buffer(request_body)"))
}

/// Replace the whole buffered request body (`size` bytes) with `body`.
pub fn replace_request_body(size: usize, body: &[u8]) -> HostResult<()> {
    hostcalls::set_buffer(BufferType::HttpRequestBody, 0, size, body)
        .map_err(err("set_buffer(request_body)"))
}

/// A response header's value. Like every header read here it is taken as bytes and read as
/// UTF-8 with invalid sequences replaced (`U+FFFD`), as parapet-ext-proc reads them: HTTP lets
/// a header value carry any byte above 0x7f, and the SDK's string reader panics on one, which
/// would abort the VM and fail every later request on the worker.
pub fn response_header(name: &str) -> HostResult<Option<String>> {
    hostcalls::get_map_value_bytes(MapType::HttpResponseHeaders, name)
        .map(|v| v.map(lossy))
        .map_err(err("get_map_value(response_headers)"))
}

/// `bytes` as text: UTF-8 as it is, anything else with invalid sequences replaced.
fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub fn remove_response_header(name: &str) -> HostResult<()> {
    hostcalls::remove_map_value(MapType::HttpResponseHeaders, name)
        .map_err(err("remove_map_value(response_headers)"))
}

pub fn response_body(size: usize) -> HostResult<Vec<u8>> {
    hostcalls::get_buffer(BufferType::HttpResponseBody, 0, size)
        .map(Option::unwrap_or_default)
        .map_err(err("get_buffer(response_body)"))
}

/// Replace the whole buffered response body (`size` bytes) with `body`.
pub fn replace_response_body(size: usize, body: &[u8]) -> HostResult<()> {
    hostcalls::set_buffer(BufferType::HttpResponseBody, 0, size, body)
        .map_err(err("set_buffer(response_body)"))
}

/// A request header's value (invalid UTF-8 replaced, see [`response_header`]).
pub fn request_header(name: &str) -> HostResult<Option<String>> {
    hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name)
        .map(|v| v.map(lossy))
        .map_err(err("get_map_value(request_headers)"))
}

/// A stream property (Envoy attribute) as a string, e.g. `["xds", "route_metadata",
/// "filter_metadata", "parapet", "policy"]`; `None` when absent or not valid UTF-8.
pub fn property_string(path: &[&str]) -> HostResult<Option<String>> {
    hostcalls::get_property(path.to_vec())
        .map(|v| v.and_then(|b| String::from_utf8(b).ok()))
        .map_err(err("get_property"))
}

/// Write a stream property: Envoy keeps it as filter state `wasm.<name>` for the rest of the
/// stream (access logs `%FILTER_STATE(wasm.<name>:PLAIN)%`, the gRPC access-log service's
/// `filter_state_objects_to_log`).
pub fn set_property(name: &str, value: &[u8]) -> HostResult<()> {
    hostcalls::set_property(vec![name], Some(value)).map_err(err("set_property"))
}

pub fn remove_request_header(name: &str) -> HostResult<()> {
    hostcalls::remove_map_value(MapType::HttpRequestHeaders, name)
        .map_err(err("remove_map_value(request_headers)"))
}

pub fn set_response_header(name: &str, value: &str) -> HostResult<()> {
    hostcalls::set_map_value(MapType::HttpResponseHeaders, name, Some(value))
        .map_err(err("set_map_value(response_headers)"))
}

pub fn send_local_reply(status: u16, headers: Vec<(&str, &str)>, body: &[u8]) -> HostResult<()> {
    hostcalls::send_http_response(u32::from(status), headers, Some(body))
        .map_err(err("send_http_response"))
}

/// Start a unary gRPC call to `cluster` (an Envoy cluster name); its answer arrives in
/// `on_grpc_call_response` of the calling context. Returns the call's token.
/// A gRPC call with initial metadata (`metadata`: e.g. the request's `traceparent`, so the
/// service's spans join the request's trace).
///
/// `target` is what Envoy takes as the call's upstream: a cluster name, or a serialized
/// `config.core.v3.GrpcService` (cluster plus retry policy; see
/// `parapet_core::escalation::grpc_service`).
pub fn dispatch_grpc(
    target: &str,
    service: &str,
    method: &str,
    metadata: Vec<(&str, &[u8])>,
    message: &[u8],
    timeout: Duration,
) -> HostResult<u32> {
    hostcalls::dispatch_grpc_call(target, service, method, metadata, Some(message), timeout)
        .map_err(err("dispatch_grpc_call"))
}

/// The body of a gRPC answer (`size` bytes).
pub fn grpc_response_body(size: usize) -> HostResult<Vec<u8>> {
    hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, size)
        .map(Option::unwrap_or_default)
        .map_err(err("get_buffer(grpc_receive)"))
}

/// Resume a request paused in a body callback.
pub fn resume_request() -> HostResult<()> {
    hostcalls::resume_http_request().map_err(err("resume_http_request"))
}

pub fn define_metric(kind: MetricType, name: &str) -> HostResult<u32> {
    hostcalls::define_metric(kind, name).map_err(err("define_metric"))
}

pub fn increment(metric: u32) {
    let _ = hostcalls::increment_metric(metric, 1);
}

pub fn record(metric: u32, value: u64) {
    let _ = hostcalls::record_metric(metric, value);
}

/// Host wall-clock time in microseconds since the epoch (0 if the host cannot tell).
pub fn now_micros() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or(Duration::ZERO)
        .as_micros() as u64
}
