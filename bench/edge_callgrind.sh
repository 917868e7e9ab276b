#!/usr/bin/env bash
# Instructions per edge hit, counted by callgrind: repeatable where wall-clock A/Bs on this
# shared machine are not. Each build (or the same build with the distribution's access logs
# on) runs under `valgrind --tool=callgrind --instr-atstart=no`; after warm-up, instrumentation
# is switched on for a fixed number of wrk seconds; the instructions counted divided by the
# requests wrk completed is the cost of one hit (idle polling included, which is why the load
# is steady: 4 connections, one wrk thread).
#
#   BEFORE=/path/to/older/wharf bench/edge_callgrind.sh
#   BEFORE=target/release/wharf AFTER_LOGS=1 bench/edge_callgrind.sh   # what access logs cost
#   SIZE=100k SECONDS_ON=10 ...                                         # 100 KiB hits, longer
# The callgrind.out files are kept in bench/out/ for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BEFORE:?BEFORE=path to the older wharf binary}"
after=${AFTER:-target/release/wharf}
size=${SIZE:-1k}
on=${SECONDS_ON:-8}
work=$(mktemp -d /var/tmp/wharf-edge-cg.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
mkdir -p bench/out

ORIGIN=19210 PORT=19211
source bench/edge_ab_fixture.sh

measure() { # binary, name, extra arguments
  local out="bench/out/callgrind.$2.$size.out"
  WHARF_ROOT_ACCESS_KEY=AKIABENCH0000000001 WHARF_ROOT_SECRET_KEY=benchsecretbenchsecret WHARF_LOG=warn \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
    "$1" serve --config "$work/wharf-$2.toml" --data-dir "$work/$2" --api-listen 127.0.0.1:0 \
    --edge-listen "127.0.0.1:$PORT" --console-listen 127.0.0.1:0 "${@:3}" > "$work/$2.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  for _ in $(seq 120); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/$size" && break; sleep 0.5; done
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/$size"; done
  callgrind_control -i on "$pid" >/dev/null
  local reqs
  reqs=$(wrk -t1 -c4 -d"${on}s" "http://127.0.0.1:$PORT/$size" | awk '/requests in/ {print $1}')
  callgrind_control -i off "$pid" >/dev/null
  kill -INT "$pid"
  wait "$pid" || true
  local ir
  ir=$(awk '/^totals:/ {print $2; exit}' "$out")
  echo "$2 $reqs $ir"
}
b=$(measure "$BEFORE" before)
a=$(measure "$after" after "${extra[@]}")
python3 - "$size" "$b" "$a" <<'EOF'
import sys
size = sys.argv[1]
rows = [s.split() for s in sys.argv[2:]]
print(f"| {size} hits under callgrind (wrk -t1 -c4) | requests | instructions | per request |")
print("|---|---|---|---|")
per = {}
for name, reqs, ir in rows:
    per[name] = int(ir) / int(reqs)
    print(f"| {name} | {int(reqs):,} | {int(ir):,} | {per[name]:,.0f} |")
print(f"\nafter / before: {per['after'] / per['before']:.3f}")
EOF
