#!/usr/bin/env bash
# Run fuzz targets one after another (never two at once), each for SECONDS of wall time, at
# nice 19, recording CPU seconds (user + sys, /usr/bin/time) and libFuzzer's final stats.
#
#   fuzz/run_all.sh SECONDS [TARGET...]      (default: every target)
#
# Each target is built first (`cargo +nightly fuzz build -O`, not timed: the checkout may be
# changing under other builds), then its binary is run exactly as `cargo +nightly fuzz run -O
# TARGET corpus/TARGET -- FLAGS` runs it, under /usr/bin/time, so the CPU seconds recorded
# are the fuzzer's alone.
#
# Each target's working corpus is fuzz/corpus/<target>/ (ignored by git), seeded from the
# tracked fuzz/seeds/<target>/; crashes land in fuzz/artifacts/<target>/. One line per run is
# appended to fuzz/logs/runs.tsv: date, target, seconds asked, user, sys, wall, runs, corpus
# files, crash files, exit status.
set -u
cd "$(dirname "$0")"
secs=${1:?usage: run_all.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(request_body response_body stream_guard exchange mcp config verdict_api coding sse_decoder)
fi
mkdir -p logs corpus artifacts
[ -f logs/runs.tsv ] || printf 'date\ttarget\tseconds\tuser_s\tsys_s\twall_s\truns\tcorpus\tcrashes\texit\n' > logs/runs.tsv
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  cp -n "seeds/$t"/* "corpus/$t"/ 2>/dev/null
  log="logs/$t-$(date -u +%Y%m%dT%H%M%S).log"
  nice -n 19 cargo +nightly fuzz build -O "$t" >"$log.build" 2>&1 || echo "build of $t failed; running the last binary" >&2
  /usr/bin/time -o logs/time.tmp -f '%U %S %e' \
    nice -n 19 "target/x86_64-unknown-linux-gnu/release/$t" -artifact_prefix="$PWD/artifacts/$t/" \
      -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -dict=json.dict -print_final_stats=1 "corpus/$t" >"$log" 2>&1
  rc=$?
  read -r user sys wall < <(tail -n 1 logs/time.tmp)
  runs=$(grep -Eo '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  fin=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$secs" "$user" "$sys" "$wall" \
    "${fin:-$runs}" "$(find "corpus/$t" -type f | wc -l)" "$crashes" "$rc" >> logs/runs.tsv
  tail -n 1 logs/runs.tsv
done
