#!/usr/bin/env bash
# One measurement point: start the probe, drive it with SIPp's built-in uac
# scenario, stop the probe with SIGINT and print both sides' summaries.
#
#   scripts/run_point.sh LABEL RATE CALLS NSIPP -- <probe args...>
#   e.g. scripts/run_point.sh raw-500-a 500 5000 1 -- --mode raw
#        scripts/run_point.sh raw-2000-a 2000 30000 2 -- --mode raw
#
# Everything is on 127.0.0.1, bounded by `timeout`.
set -u
LABEL=$1; RATE=$2; CALLS=$3; NSIPP=$4; shift 5
BIN=${BIN:-/tmp/probe-target/release/rvoip-tm-probe}
PORT=${PORT:-5090}
OUT=${OUT:-/tmp/probe-runs}/$LABEL
rm -rf "$OUT"; mkdir -p "$OUT"
# generous upper bound: calls/rate + 60 s
LIMIT=$(( CALLS / RATE + 60 ))

"$BIN" --port "$PORT" --seconds $(( LIMIT + ${DRAIN:-36} + 30 )) "$@" >"$OUT/probe.out" 2>"$OUT/probe.err" &
PROBE=$!
sleep 2

PER_RATE=$(( RATE / NSIPP )); PER_CALLS=$(( CALLS / NSIPP ))
PIDS=()
for i in $(seq 1 "$NSIPP"); do
  ( cd "$OUT" && timeout $(( LIMIT + 10 )) sipp -sn uac 127.0.0.1:$PORT -i 127.0.0.1 -p $(( 5060 + i )) \
      -r "$PER_RATE" -m "$PER_CALLS" -d 0 -nostdin -trace_screen -timeout ${LIMIT}s \
      -screen_file "sipp$i.screen" >/dev/null 2>"sipp$i.err" ) &
  PIDS+=($!)
done
for p in "${PIDS[@]}"; do wait "$p"; done
# DRAIN: let Timer J/K/L/M retirement and cleanup run so it is billed to the calls.
sleep "${DRAIN:-36}"
kill -INT "$PROBE" 2>/dev/null
wait "$PROBE"

echo "### $LABEL rate=$RATE calls=$CALLS sipps=$NSIPP probe_args=$*"
cat "$OUT/probe.out"
for i in $(seq 1 "$NSIPP"); do
  S="$OUT/sipp$i.screen"
  [ -f "$S" ] || S=$(ls "$OUT"/*screens.log 2>/dev/null | sed -n ${i}p)
  if [ -n "$S" ] && [ -f "$S" ]; then
    ok=$(grep -E "^\s*Successful call" "$S" | tail -1 | awk '{print $NF}')
    fail=$(grep -E "^\s*Failed call" "$S" | tail -1 | awk '{print $NF}')
    echo "sipp$i: successful=$ok failed=$fail"
    # per-message table (Messages / Retrans / Timeout / Unexpected) of the final scenario screen
    awk '/Scenario Screen/{blk=""} {blk=blk"\n"$0} END{print blk}' "$S" | grep -E -- "---->|<----" | sed "s/^/  sipp$i| /"
    # non-empty response-time (INVITE->200) buckets
    awk '/Response Time Repartition 1/{f=1;next} /Call Length Repartition/{f=0} f && $NF+0>0' "$S" | tail -10 | sed "s/^/  sipp$i| rtt /"
  else
    echo "sipp$i: no screen file"; cat "$OUT/sipp$i.err"
  fi
done
