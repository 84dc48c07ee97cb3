#!/usr/bin/env bash
# Run every fuzz target for SECS seconds each (default 600), JOBS at a time (default 2), on
# the corpus seed.py writes from compat-specs; print one markdown row per target. Needs
# cargo-fuzz (`cargo install cargo-fuzz`); builds on the stable toolchain: no sanitizer
# (`-s none`; safe Rust needs none), optimized with debug assertions on (`-O -a`: overflow
# checks too), every panic a crash. Crashes land in tests/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECS:-600}
JOBS=${JOBS:-2}
TARGETS=${TARGETS:-"sdp auth_headers soap ozeki_bodies sipx_bodies vendor_queries cti_reply rtp"}
python3 tests/fuzz/seed.py >/dev/null
cargo fuzz build --fuzz-dir tests/fuzz -s none -O -a >/dev/null
mkdir -p tests/fuzz/logs
run() {
  local t=$1
  cargo fuzz run --fuzz-dir tests/fuzz -s none -O -a "$t" "tests/fuzz/corpus/$t" -- \
    -max_total_time="$SECS" -print_final_stats=1 >"tests/fuzz/logs/$t.log" 2>&1 || true
}
running=0
for t in $TARGETS; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait
echo "| target | seconds | runs | exec/s | coverage (edges) | corpus | crashes |"
echo "|---|---|---|---|---|---|---|"
for t in $TARGETS; do
  log="tests/fuzz/logs/$t.log"
  runs=$(grep -a -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  speed=$(grep -a -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(grep -a -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  corp=$(ls "tests/fuzz/corpus/$t" | wc -l)
  crashes=$(ls "tests/fuzz/artifacts/$t" 2>/dev/null | wc -l)
  echo "| $t | $SECS | $runs | $speed | $cov | $corp | $crashes |"
done
