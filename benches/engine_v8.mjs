// The filter's engine alone in V8 (Node's, the engine Envoy embeds for Wasm): runs
// filter/examples/engine_bench.rs built for wasm32-wasip1 and prints its JSON (median µs per
// call and MiB/s per case), to set beside the native `cargo bench -p parapet-core --bench scan`.
//
//   cargo build --profile bench --target wasm32-wasip1 -p parapet-filter --example engine_bench
//   node benches/engine_v8.mjs [case prefix]        (add --cpu-prof before the script to profile)
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv, env } from "node:process";

const wasm = new URL("../target/wasm32-wasip1/release/examples/engine_bench.wasm", import.meta.url);
const wasi = new WASI({ version: "preview1", args: ["engine_bench", ...argv.slice(2)], env });
const module = await WebAssembly.compile(await readFile(wasm));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance);
