#!/usr/bin/env bash
# The edge benchmark of issue 3: Wharf's edge against nginx proxy_cache and Varnish, each
# caching the same origin (nginx serving static files with Cache-Control: max-age=3600), on
# the same machine in the same run, driven by wrk. Not part of the test suite. Prints a table;
# copy it into bench/RESULTS.md with the date and this command.
#
# The hit cells also run bench/ceiling.c, a minimal C server answering from memory with one
# writev per request: what no cache can beat on this machine. Each hit cell runs BENCH_ROUNDS
# times (default 3), the servers taking turns, and the table shows each server's median round.
#
#   bench/edge.sh                  # BENCH_SECONDS (default 8) per wrk cell
#   BENCH_SECONDS=4 BENCH_ROUNDS=5 bench/edge.sh
#   WHARF_BASELINE_BIN=/path/to/older/wharf bench/edge.sh
#                                  # also an A/B of hits: the older build against this one,
#                                  # same configuration, rounds taking turns
#   BENCH_LOGS=0 bench/edge.sh     # access logs off everywhere (default on, as operators run
#                                  # them: nginx's access_log, varnishncsa, Wharf's Logging
#                                  # into its demo bucket)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
logs=${BENCH_LOGS:-1}
work=$(mktemp -d /var/tmp/wharf-edge-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v varnishd >/dev/null || need+=(varnish)
command -v nginx >/dev/null || need+=(nginx-light)
if ((${#need[@]})); then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
cargo build --quiet --release --bin wharf

ORIGIN=19100 NGINX=19101 VARNISH=19102 WHARF=19103 WHARF_API=19104 CEILING_1K=19105 CEILING_100K=19106
WHARF_CONSOLE=19109
MEM_MB=256

# --- the origin: static files ---
mkdir -p "$work/www"
head -c 1024 /dev/urandom > "$work/www/1k"
head -c 102400 /dev/urandom > "$work/www/100k"
head -c 1073741824 /dev/urandom > "$work/www/1g"
for p in nginx varnish wharf; do cp "$work/www/100k" "$work/www/storm-$p"; done
cat > "$work/origin.conf" <<EOF
worker_processes 1; daemon off; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log $work/origin.log; sendfile on; tcp_nodelay on; keepalive_requests 100000;
  server { listen 127.0.0.1:$ORIGIN; root $work/www; expires 1h; } }
EOF
nginx -c "$work/origin.conf" & pids+=($!)

# --- nginx proxy_cache (with proxy_cache_lock, as its docs advise for miss storms) ---
mkdir -p "$work/nginx-cache"
cat > "$work/nginx.conf" <<EOF
worker_processes 2; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 8192; }
http { $( ((logs)) && echo "access_log $work/nginx-access.log combined;" || echo "access_log off;" ) sendfile on; tcp_nodelay on; keepalive_requests 100000;
  proxy_cache_path $work/nginx-cache levels=1:2 keys_zone=c:64m max_size=4g inactive=1h use_temp_path=off;
  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; }
  server { listen 127.0.0.1:$NGINX;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_cache c; proxy_cache_lock on; proxy_cache_lock_timeout 30s; proxy_cache_valid 200 1h;
      add_header X-Cache-Status \$upstream_cache_status; } } }
EOF
nginx -c "$work/nginx.conf" & pids+=($!)

# --- Varnish ---
cat > "$work/default.vcl" <<EOF
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$ORIGIN"; }
EOF
varnishd -F -j none -n "$work/varnish" -a 127.0.0.1:$VARNISH -f "$work/default.vcl" -s malloc,1500m \
  -p thread_pool_min=64 > "$work/varnish.out" 2>&1 & pids+=($!)
if ((logs)); then
  sleep 1
  varnishncsa -n "$work/varnish" -w "$work/varnishncsa.log" & pids+=($!)
fi

# --- Wharf's edge: one distribution, CachingOptimized, the same origin ---
mkdir -p "$work/dists"
cat > "$work/dists/EBENCH.json" <<EOF
{"CallerReference": "bench", "Comment": "", "Enabled": true,
 "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "127.0.0.1",
   "CustomOriginConfig": {"HTTPPort": $ORIGIN, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
 "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
   "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
 "Logging": {"Enabled": $( ((logs)) && echo true || echo false ), "IncludeCookies": false,
   "Bucket": "demo.s3.amazonaws.com", "Prefix": "bench-logs/"}}
EOF
cat > "$work/wharf.toml" <<EOF
[edge]
distributions_dir = "$work/dists"
default_distribution = "EBENCH"
memory_cache_mb = $MEM_MB
disk_cache_mb = 4096
EOF
WHARF_ROOT_ACCESS_KEY=AKIABENCH0000000001 WHARF_ROOT_SECRET_KEY=benchsecretbenchsecret WHARF_LOG=warn \
  target/release/wharf serve --config "$work/wharf.toml" --data-dir "$work/wharf" \
  --api-listen 127.0.0.1:$WHARF_API --edge-listen 127.0.0.1:$WHARF \
  --console-listen 127.0.0.1:$WHARF_CONSOLE --demo > "$work/wharf.out" 2>&1 &
wharf_pid=$!; pids+=($wharf_pid)
sleep 2

# --- the ceiling: one fixed body per port, from memory ---
cc -O2 -o "$work/ceiling" bench/ceiling.c -lpthread
"$work/ceiling" $CEILING_1K 2 "$work/www/1k" & pids+=($!)
"$work/ceiling" $CEILING_100K 2 "$work/www/100k" & pids+=($!)

declare -A PORT=([nginx]=$NGINX [varnish]=$VARNISH [wharf]=$WHARF)
peers=(nginx varnish wharf)
for p in "${peers[@]}"; do for f in 1k 100k; do
  curl -sf -o /dev/null "http://127.0.0.1:${PORT[$p]}/$f"; curl -sf -o /dev/null "http://127.0.0.1:${PORT[$p]}/$f"
done; done

printf '\n| workload (wrk, 64 connections, %ss, median of %s rounds) | nginx proxy_cache | Varnish | Wharf edge | ceiling | Wharf / nginx | Wharf / Varnish | ceiling / nginx |\n|---|---|---|---|---|---|---|---|\n' "$secs" "$rounds"
for f in 1k 100k; do
  if [ $f = 1k ]; then PORT[ceiling]=$CEILING_1K; else PORT[ceiling]=$CEILING_100K; fi
  : > "$work/cells-$f"
  for ((r = 1; r <= rounds; r++)); do
    for p in "${peers[@]}" ceiling; do
      out=$(wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:${PORT[$p]}/$f")
      echo "$p $(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")" >> "$work/cells-$f"
    done
  done
  python3 bench/wrk_rounds.py "$f" "$work/cells-$f" nginx varnish wharf ceiling -- wharf/nginx wharf/varnish ceiling/nginx
done

# 1 GiB hit throughput: one warming pass, then the best of two timed downloads.
declare -A GBS=()
for p in "${peers[@]}"; do
  curl -sf -o /dev/null "http://127.0.0.1:${PORT[$p]}/1g"
  best=0
  for _ in 1 2; do
    s=$(curl -sf -o /dev/null -w '%{speed_download}' "http://127.0.0.1:${PORT[$p]}/1g")
    best=$(python3 -c "print(max($best, $s))")
  done
  GBS[$p]=$best
done
python3 - "${GBS[nginx]}" "${GBS[varnish]}" "${GBS[wharf]}" <<'EOF'
import sys
n, v, w = (float(x) / 1e9 for x in sys.argv[1:])
print(f"| 1 GiB hit: GB/s (one stream) | {n:.2f} | {v:.2f} | {w:.2f} | | {w/n:.2f}x | {w/v:.2f}x | |")
EOF

# Miss storm: 1,000 concurrent requests for one cold 100 KiB object; origin requests counted
# from the origin's access log.
for p in "${peers[@]}"; do
  python3 - "${PORT[$p]}" "/storm-$p" <<'EOF' > "$work/storm-$p"
import socket, sys, threading, time
port, path = int(sys.argv[1]), sys.argv[2]
ok = [0]
lock = threading.Lock()
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
def one(s):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    with lock:
        ok[0] += data.startswith(b"HTTP/1.1 200") and len(data) > 102400
t = time.time()
threads = [threading.Thread(target=one, args=(s,)) for s in socks]
for th in threads: th.start()
for th in threads: th.join()
print(f"{ok[0]} {time.time() - t:.3f}")
EOF
done
python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
log = open(f"{work}/origin.log").read().splitlines()
cells = []
for p in ("nginx", "varnish", "wharf"):
    ok, secs = open(f"{work}/storm-{p}").read().split()
    n = sum(1 for l in log if f"GET /storm-{p} " in l)
    cells.append(f"{n} origin req, {float(secs)*1000:.0f} ms ({ok}/1000 ok)")
print(f"| miss storm: 1,000 concurrent cold requests | {cells[0]} | {cells[1]} | {cells[2]} | | | | |")
EOF
rss=$(awk '/VmHWM/ {print $2}' /proc/$wharf_pid/status)
echo
echo "Wharf edge peak RSS (VmHWM) over the run: $((rss / 1024)) MiB; memory tier budget $MEM_MB MiB (target: budget + 64 MiB)"
if ((logs)); then
  dropped=$(curl -sf "http://127.0.0.1:$WHARF_CONSOLE/metrics" | awk '/^wharf_edge_log_lines_dropped_total/ {s += $2} END {print s + 0}')
  echo "Access logs on: nginx wrote $(wc -l < "$work/nginx-access.log") lines, varnishncsa $(wc -l < "$work/varnishncsa.log"); Wharf dropped $dropped lines (queue full)"
fi

# --- A/B of hits against an older build, if one is given ---
if [[ -n ${WHARF_BASELINE_BIN:-} ]]; then
  BEFORE=19107 BEFORE_API=19108
  WHARF_ROOT_ACCESS_KEY=AKIABENCH0000000001 WHARF_ROOT_SECRET_KEY=benchsecretbenchsecret WHARF_LOG=warn \
    "$WHARF_BASELINE_BIN" serve --config "$work/wharf.toml" --data-dir "$work/wharf-before" \
    --api-listen 127.0.0.1:$BEFORE_API --edge-listen 127.0.0.1:$BEFORE > "$work/wharf-before.out" 2>&1 &
  pids+=($!)
  sleep 2
  PORT[before]=$BEFORE
  printf '\n| A/B (wrk, 64 connections, %ss, median of %s rounds) | Wharf before | Wharf now | now / before |\n|---|---|---|---|\n' "$secs" "$rounds"
  for f in 1k 100k; do
    for p in wharf before; do curl -sf -o /dev/null "http://127.0.0.1:${PORT[$p]}/$f"; done
    : > "$work/ab-$f"
    for ((r = 1; r <= rounds; r++)); do
      for p in before wharf; do
        out=$(wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:${PORT[$p]}/$f")
        echo "$p $(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")" >> "$work/ab-$f"
      done
    done
    python3 bench/wrk_rounds.py "$f" "$work/ab-$f" before wharf -- wharf/before
  done
fi
