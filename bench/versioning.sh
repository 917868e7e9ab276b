#!/usr/bin/env bash
# The versioning benchmark of issue 14: 4 KiB PUT (overwrites) and GET on a versioned bucket
# whose keys have 1,000 versions each, against an unversioned bucket with the same write
# history, in the same server and the same run (rounds taking turns); then the time per
# 1,000-entry page of ListObjectVersions over the versioned bucket's 100,000 versions. Not part
# of the test suite. Prints a table (with the bytes the server wrote to disk per request, from
# /proc/PID/io); copy it into bench/RESULTS.md with the date and this command.
#
#   bench/versioning.sh                        # KEYS=100 VERSIONS=1000, BENCH_SECONDS=6, 3 rounds
#   KEYS=20 VERSIONS=200 BENCH_SECONDS=3 bench/versioning.sh   # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-6}
rounds=${BENCH_ROUNDS:-3}
keys=${KEYS:-100}
versions=${VERSIONS:-1000}
work=$(mktemp -d /var/tmp/wharf-versioning-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

cargo build --quiet --release --bin wharf
(cd bench/loadgen && cargo build --quiet --release)
L=bench/loadgen/target/release/wharf-loadgen
export AWS_ACCESS_KEY_ID=AKIABENCH000000000001 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecret
PORT=19030
ep=http://127.0.0.1:$PORT
WHARF_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID WHARF_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY WHARF_LOG=warn \
  target/release/wharf serve --data-dir "$work/data" --api-listen 127.0.0.1:$PORT \
  --edge-listen 127.0.0.1:0 --console-listen 127.0.0.1:0 > "$work/wharf.out" 2>&1 &
wharf_pid=$!
pids+=($wharf_pid)
# Bytes the server has written to disk (WAL, checkpoints, blobs) since it started.
written() { awk '/^write_bytes/ {print $2}' "/proc/$wharf_pid/io"; }
for _ in $(seq 50); do curl -s -o /dev/null "$ep" && break; sleep 0.2; done

$L mkbucket "$ep" plain 0 1 0 > /dev/null
$L mkbucket "$ep" versioned 0 1 0 > /dev/null
$L versioning "$ep" versioned 0 1 0 | grep -q '"status":200'
for b in plain versioned; do
  echo "filling $b: $keys keys x $versions writes of 4 KiB" >&2
  $L fill "$ep" "$b" 4096 16 0 "$keys" "$versions" >&2
done

results=$work/results.jsonl
for ((round = 1; round <= rounds; round++)); do
  for b in plain versioned; do
    for op in put-over get; do
      before=$(written)
      line=$($L "$op" "$ep" "$b" 4096 16 "$secs" "$keys" 2>/dev/null | tail -1)
      python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["bucket"]=sys.argv[2]; d["disk_bytes"]=int(sys.argv[3]); print(json.dumps(d))' \
        "$line" "$b" "$(( $(written) - before ))" >> "$results"
    done
  done
  echo "round $round/$rounds done" >&2
done
list=$($L list-versions "$ep" versioned 0 1 0)

python3 - "$results" "$list" "$keys" "$versions" "$secs" "$rounds" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
listing = json.loads(sys.argv[2])
keys, versions, secs, rounds = sys.argv[3:7]
def median(bucket, op):
    rs = sorted((r for r in rows if r["bucket"] == bucket and r["op"] == op), key=lambda r: r["req_per_s"])
    return rs[len(rs) // 2], [r["req_per_s"] for r in rows if r["bucket"] == bucket and r["op"] == op]
print(f"| 4 KiB, 16 clients, {secs}s, median of {rounds} rounds | unversioned | versioned ({versions} versions per key, {keys} keys) | versioned / unversioned |")
print("|---|---|---|---|")
for op, name in (("put-over", "PUT (overwrite)"), ("get", "GET")):
    (p, pr), (v, vr) = median("plain", op), median("versioned", op)
    print(f"| {name}: req/s (p99) | {p['req_per_s']:,.0f} ({p['p99_ms']:.2f}ms) | {v['req_per_s']:,.0f} ({v['p99_ms']:.2f}ms) | {v['req_per_s'] / p['req_per_s']:.2f}x |")
    per = lambda r: r["disk_bytes"] / max(r["requests"], 1) / 1024
    print(f"| {name}: KiB written to disk per request | {per(p):.1f} | {per(v):.1f} | {per(v) / max(per(p), 0.001):.2f}x |")
    print(f"<!-- {name} rounds: unversioned {', '.join(f'{x:,.0f}' for x in pr)}; versioned {', '.join(f'{x:,.0f}' for x in vr)} -->")
print()
print(f"ListObjectVersions over {listing['entries']:,} versions: {listing['pages']} pages of 1,000 in "
      f"{listing['seconds']:.2f} s; per page p50 {listing['page_p50_ms']:.1f} ms, p99 {listing['page_p99_ms']:.1f} ms")
PY
