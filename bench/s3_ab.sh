#!/usr/bin/env bash
# A/B of one S3 cell between two Wharf builds, side by side on the same machine: they take
# turns, ROUNDS rounds of SECS seconds each, and the medians are compared. Quieter than a whole
# bench/run.sh when one cell moved and the question is whether a change moved it.
#
#   BEFORE=/path/to/older/wharf bench/s3_ab.sh                 # GET 4 KiB, 16 clients
#   BEFORE=... OP=put SIZE=1048576 C=64 ROUNDS=8 bench/s3_ab.sh
#
# NOW defaults to target/release/wharf (built first). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BEFORE:?BEFORE=/path/to/the/older/wharf binary}"
NOW=${NOW:-target/release/wharf}
OP=${OP:-get} SIZE=${SIZE:-4096} C=${C:-16} SECS=${SECS:-3} ROUNDS=${ROUNDS:-6}
[[ -n ${NOW_BUILT:-} ]] || cargo build --quiet --release --bin wharf
(cd bench/loadgen && cargo build --quiet --release)
L=bench/loadgen/target/release/wharf-loadgen
export AWS_ACCESS_KEY_ID=AKIABENCH000000000001 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecret
work=$(mktemp -d /var/tmp/wharf-ab.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
start() { # binary name port
  WHARF_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID WHARF_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY WHARF_LOG=warn \
    "$1" serve --data-dir "$work/$2" --api-listen "127.0.0.1:$3" --edge-listen 127.0.0.1:0 > "$work/$2.out" 2>&1 &
  pids+=($!)
}
start "$NOW" now 19300
start "$BEFORE" before 19301
sleep 1
for port in 19300 19301; do
  $L mkbucket "http://127.0.0.1:$port" bench 0 1 0 > /dev/null
  $L fill "http://127.0.0.1:$port" bench "$SIZE" 16 0 16 > /dev/null
done
for ((r = 1; r <= ROUNDS; r++)); do
  for s in now:19300 before:19301; do
    $L "$OP" "http://127.0.0.1:${s##*:}" bench "$SIZE" "$C" "$SECS" 16 2>/dev/null |
      python3 -c 'import json,sys; print(sys.argv[1], json.loads(sys.stdin.read().strip().splitlines()[-1])["req_per_s"])' "${s%%:*}"
  done
done > "$work/rounds"
python3 - "$work/rounds" "$OP" "$SIZE" "$C" <<'P'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, rps = line.split()
    runs.setdefault(name, []).append(float(rps))
med = {n: statistics.median(v) for n, v in runs.items()}
for n, v in runs.items():
    print(f"{n}: median {med[n]:,.0f} req/s; rounds " + " · ".join(f"{x:,.0f}" for x in v))
print(f"{sys.argv[2]} {sys.argv[3]} B, {sys.argv[4]} clients: now / before {med['now'] / med['before']:.3f}")
P
