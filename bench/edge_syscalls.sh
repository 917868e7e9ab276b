#!/usr/bin/env bash
# Where a hit's time goes, Wharf beside bench/ceiling.c on the same file: syscalls per response
# (`strace -c`), CPU per response (`perf stat -e task-clock`), and a profile of Wharf
# (`perf record`, kept in bench/out/perf.SIZE.data; read it with
# `perf report -i bench/out/perf.100k.data --no-children --sort dso`). Each under
# `wrk -t1 -c4` for 3 s; memory tier, access logs off.
#
#   bench/edge_syscalls.sh              # 100 KiB hits, target/release/wharf
#   SIZE=1k WHARF=/path/to/wharf bench/edge_syscalls.sh
set -euo pipefail
cd "$(dirname "$0")/.."
wharf=${WHARF:-target/release/wharf}
size=${SIZE:-100k}
work=$(mktemp -d /var/tmp/wharf-edge-sys.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
for tool in strace perf wrk; do
  command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq "${tool/perf/linux-perf}" >/dev/null; }
done
mkdir -p bench/out
ORIGIN=19240 PORT=19241 CEILING=19242
source bench/edge_ab_fixture.sh
WHARF_ROOT_ACCESS_KEY=AKIABENCH0000000001 WHARF_ROOT_SECRET_KEY=benchsecretbenchsecret WHARF_LOG=warn \
  "$wharf" serve --config "$work/wharf-before.toml" --data-dir "$work/data" --api-listen 127.0.0.1:0 \
  --edge-listen 127.0.0.1:$PORT --console-listen 127.0.0.1:0 > "$work/wharf.log" 2>&1 &
wpid=$!
pids+=($wpid)
cc -O2 -o "$work/ceiling" bench/ceiling.c -lpthread
"$work/ceiling" $CEILING 2 "$work/www/$size" &
cpid=$!
pids+=($cpid)
for _ in $(seq 60); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/$size" && break; sleep 0.5; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/$size"

load() { wrk -t1 -c4 -d3s "http://127.0.0.1:$1/$size" | awk '/requests in/ {print $1}'; }
for side in "wharf $wpid $PORT" "ceiling $cpid $CEILING"; do
  read -r name pid port <<<"$side"
  timeout 6 strace -c -f -p "$pid" -o "$work/strace" 2>/dev/null &
  sp=$!
  sleep 1
  reqs=$(load "$port")
  wait $sp || true
  echo "## $name, $size: strace -c over $reqs responses (calls per response)"
  # strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall.
  awk -v n="$reqs" '$NF ~ /^(writev|write|sendmsg|sendfile|recvfrom|read|futex|epoll_wait)$/ {
      printf "  %-10s %8d  %.2f\n", $NF, $4, $4 / n }' "$work/strace"
  perf stat -e task-clock -p "$pid" -o "$work/stat" -- sleep 4 &
  sp=$!
  sleep 0.5
  reqs=$(load "$port")
  wait $sp || true
  ms=$(awk '/task-clock/ {gsub(",", "", $1); print $1; exit}' "$work/stat")
  echo "## $name, $size: $reqs responses in 3 s, CPU ${ms} ms: $(python3 -c "print(f'{$ms * 1000 / $reqs:.1f}')") µs per response"
done
perf record -q -e cpu-clock -F 2000 -g -p "$wpid" -o "bench/out/perf.$size.data" -- sleep 4 2>/dev/null &
sp=$!
sleep 0.5
load $PORT >/dev/null
wait $sp || true
echo "## wharf, $size: CPU by object (perf record -e cpu-clock)"
perf report -i "bench/out/perf.$size.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -6
