#!/usr/bin/env bash
# What nginx pays for its access log on cache hits: two nginx proxy_cache servers on the same
# origin, one with `access_log off`, one with `access_log FILE combined` (as bench/edge.sh
# runs it), taking turns round by round; each side's median round shown. The context for
# Wharf's own logging A/B (`bench/edge_ab.sh AFTER_LOGS=1`).
#
#   BENCH_SECONDS=6 BENCH_ROUNDS=5 bench/nginx_logs_ab.sh
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-5}
work=$(mktemp -d /var/tmp/wharf-nginx-ab.XXXXXX)
chmod 755 "$work"  # nginx workers run as nobody
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }

ORIGIN=19230 OFF=19231 ON=19232
mkdir -p "$work/www"
head -c 1024 /dev/urandom > "$work/www/1k"
head -c 102400 /dev/urandom > "$work/www/100k"
cat > "$work/origin.conf" <<EOF
worker_processes 1; daemon off; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nodelay on; keepalive_requests 100000;
  server { listen 127.0.0.1:$ORIGIN; root $work/www; expires 1h; } }
EOF
nginx -c "$work/origin.conf" & pids+=($!)
for side in off on; do
  port=$OFF log="access_log off;"
  [[ $side == on ]] && port=$ON log="access_log $work/access-$side.log combined;"
  mkdir -p "$work/cache-$side"
  cat > "$work/nginx-$side.conf" <<EOF
worker_processes 2; daemon off; pid $work/nginx-$side.pid; error_log $work/nginx-$side.err;
events { worker_connections 8192; }
http { $log sendfile on; tcp_nodelay on; keepalive_requests 100000;
  proxy_cache_path $work/cache-$side levels=1:2 keys_zone=c$side:64m max_size=4g inactive=1h use_temp_path=off;
  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; }
  server { listen 127.0.0.1:$port;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_cache c$side; proxy_cache_valid 200 1h; } } }
EOF
  nginx -c "$work/nginx-$side.conf" & pids+=($!)
done
sleep 1
source bench/ab_rounds.sh
ab_rounds "nginx hits" off $OFF on $ON
