#!/usr/bin/env bash
# Instructions per 4 KiB GET with and without a 20-statement bucket policy, counted by
# callgrind in one server (repeatable where wall-clock runs on this shared machine are not):
# the server runs under `valgrind --tool=callgrind --instr-atstart=no`; for each kind of
# request, instrumentation is on while the loadgen runs (4 clients, SECONDS_ON seconds), then
# the counts are dumped and zeroed. Same fixture as bench/bucket_policy.sh. The dumps are kept
# in bench/out/ for callgrind_annotate.
#
#   bench/bucket_policy_callgrind.sh            # SECONDS_ON=8
set -euo pipefail
cd "$(dirname "$0")/.."
on=${SECONDS_ON:-8}
work=$(mktemp -d /var/tmp/wharf-policy-cg.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
cargo build --quiet --release --bin wharf
(cd bench/loadgen && cargo build --quiet --release)
L=bench/loadgen/target/release/wharf-loadgen
export AWS_ACCESS_KEY_ID=AKIABENCH000000000001 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecret
PORT=19041
ep=http://127.0.0.1:$PORT
WHARF_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID WHARF_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY WHARF_LOG=warn \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" \
  target/release/wharf serve --data-dir "$work/data" --api-listen 127.0.0.1:$PORT \
  --edge-listen 127.0.0.1:0 --console-listen 127.0.0.1:0 > "$work/wharf.out" 2>&1 &
pid=$!
pids+=($pid)
for _ in $(seq 120); do curl -s -o /dev/null "$ep" && break; sleep 0.5; done
$L mkbucket "$ep" plain 0 1 0 > /dev/null
$L mkbucket "$ep" policied 0 1 0 > /dev/null
for b in plain policied; do $L fill "$ep" "$b" 4096 4 0 100 > /dev/null; done
BENCH_POLICY_ONLY=1 bash bench/bucket_policy.sh > "$work/policy.json"
$L unblock "$ep" policied 0 1 0 | grep -q '"status":204'
$L policy "$ep" policied 0 1 0 < "$work/policy.json" | grep -q '"status":204'

rows=()
for run in plain:get policied:get policied:get-unsigned; do
  b=${run%%:*}; op=${run#*:}
  $L "$op" "$ep" "$b" 4096 4 2 100 > /dev/null  # warm-up, not counted
  callgrind_control -z "$pid" > /dev/null
  callgrind_control -i on "$pid" > /dev/null
  reqs=$($L "$op" "$ep" "$b" 4096 4 "$on" 100 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["requests"])')
  callgrind_control -i off "$pid" > /dev/null
  callgrind_control -d "$run" "$pid" > /dev/null
  dump=$(ls -t "$work"/cg.out.* | head -1)
  ir=$(awk '/^totals:/ {print $2; exit}' "$dump")
  mkdir -p bench/out && cp "$dump" "bench/out/callgrind.policy.${run/:/-}.out"
  rows+=("$run $reqs $ir")
done
python3 - "${rows[@]}" <<'PY'
import sys
rows = [r.split() for r in sys.argv[1:]]
per = {name: int(ir) / int(reqs) for name, reqs, ir in rows}
base = per["plain:get"]
print("| 4 KiB GET under callgrind (4 clients) | requests | instructions per request | / no policy |")
print("|---|---|---|---|")
for name, reqs, ir in rows:
    print(f"| {name} | {int(reqs):,} | {per[name]:,.0f} | {per[name] / base:.3f} |")
PY
