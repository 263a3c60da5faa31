#!/usr/bin/env bash
# Start Parapet locally: the LLM stand-in on 127.0.0.1:18000 and Envoy with the filter and the
# default policy on 127.0.0.1:10000 (admin and stats on 127.0.0.1:9901). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

.venv/bin/python scripts/llm_standin.py --port 18000 &
pids+=($!)
.venv/bin/envoy -c envoy/parapet.yaml --disable-hot-restart --concurrency 2 -l warning --component-log-level wasm:info &
pids+=($!)

for _ in $(seq 100); do
  curl -fsS http://127.0.0.1:9901/ready >/dev/null 2>&1 && break
  sleep 0.1
done
cat <<'MSG'

Parapet is up.  OpenAI base_url: http://127.0.0.1:10000/v1   (any API key; the upstream is a local stand-in)

  curl -s http://127.0.0.1:10000/v1/chat/completions -H 'content-type: application/json' \
       -d '{"model":"m","messages":[{"role":"user","content":"mail jane@example.com"}]}'
  curl -s http://127.0.0.1:9901/stats?filter=parapet

Ctrl-C to stop.
MSG
wait -n
