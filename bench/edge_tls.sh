#!/usr/bin/env bash
# The edge over TLS: Wharf's edge against nginx proxy_cache, both caching the same origin and
# presenting the same certificate, driven by oha (built with its http3 feature: the one
# client here that speaks HTTP/1.1, HTTP/2 and HTTP/3, so the three are measured alike).
# Not part of the test suite. Prints a table; copy it into bench/RESULTS.md with the date and
# this command.
#
#   1 KiB hits over HTTPS: HTTP/1.1 and HTTP/2 (nginx: listen ssl http2), and HTTP/3 (Wharf
#   only: Debian's nginx has no QUIC) beside Wharf's own HTTP/2;
#   new TLS handshakes per second: one request per connection, keep-alive off.
#
#   bench/edge_tls.sh                      # BENCH_SECONDS (default 8), BENCH_ROUNDS (3)
#   OHA=/path/to/oha bench/edge_tls.sh     # default: oha on PATH, else ~/.cargo/bin/oha;
#                                          # installed with: cargo install oha --features http3
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
oha=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
[[ -x $oha ]] || { echo "needs oha with HTTP/3: cargo install oha --features http3" >&2; exit 1; }
work=$(mktemp -d /var/tmp/wharf-tls-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
cargo build --quiet --release --bin wharf

ORIGIN=19200 NGINX=19201 WHARF=19202 WHARF_TLS=19203 WHARF_API=19204 WHARF_CONSOLE=19205

# One certificate for both, from a throwaway CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" > "$work/both.pem"

mkdir -p "$work/www"
head -c 1024 /dev/urandom > "$work/www/1k"
cat > "$work/origin.conf" <<EOF
worker_processes 1; daemon off; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nodelay on; keepalive_requests 100000;
  server { listen 127.0.0.1:$ORIGIN; root $work/www; expires 1h; } }
EOF
nginx -c "$work/origin.conf" & pids+=($!)

mkdir -p "$work/nginx-cache"
cat > "$work/nginx.conf" <<EOF
worker_processes 2; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 8192; }
http { access_log off; sendfile on; tcp_nodelay on; keepalive_requests 100000;
  proxy_cache_path $work/nginx-cache levels=1:2 keys_zone=c:64m max_size=1g inactive=1h use_temp_path=off;
  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; }
  server { listen 127.0.0.1:$NGINX ssl http2;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_cache c; proxy_cache_valid 200 1h; } } }
EOF
nginx -c "$work/nginx.conf" & pids+=($!)

mkdir -p "$work/dists"
cat > "$work/dists/EBENCH.json" <<EOF
{"CallerReference": "bench", "Comment": "", "Enabled": true, "HttpVersion": "http2and3",
 "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "127.0.0.1",
   "CustomOriginConfig": {"HTTPPort": $ORIGIN, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
 "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
   "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
EOF
cat > "$work/wharf.toml" <<EOF
[edge]
distributions_dir = "$work/dists"
default_distribution = "EBENCH"
memory_cache_mb = 256
disk_cache_mb = 0
tls_cert_file = "$work/both.pem"
tls_key_file = "$work/both.pem"
EOF
WHARF_ROOT_ACCESS_KEY=AKIABENCH0000000001 WHARF_ROOT_SECRET_KEY=benchsecretbenchsecret WHARF_LOG=warn \
  target/release/wharf serve --config "$work/wharf.toml" --data-dir "$work/wharf" \
  --api-listen 127.0.0.1:$WHARF_API --edge-listen 127.0.0.1:$WHARF --edge-tls-listen 127.0.0.1:$WHARF_TLS \
  --console-listen 127.0.0.1:$WHARF_CONSOLE > "$work/wharf.out" 2>&1 & pids+=($!)
sleep 2
for p in $NGINX $WHARF_TLS; do curl -skf -o /dev/null "https://127.0.0.1:$p/1k"; curl -skf -o /dev/null "https://127.0.0.1:$p/1k"; done

# One oha run: prints "req/s p99".
run() {
  "$oha" -z "${secs}s" --no-tui --insecure --output-format json "$@" > "$work/oha.json" 2>/dev/null || true
  python3 - "$work/oha.json" <<'EOF'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
    rps = s["summary"]["requestsPerSec"]
    p99 = s["latencyPercentiles"]["p99"]
    print(f"{rps:.0f} {p99 * 1000:.2f}ms")
except Exception:
    print("0 -")
EOF
}

printf '\n| workload (oha, %ss, median of %s rounds) | nginx | Wharf edge | Wharf / nginx |\n|---|---|---|---|\n' "$secs" "$rounds"
cell() {  # cell NAME ARGS... : the same oha arguments against both servers
  local name=$1; shift
  : > "$work/cells"
  for ((r = 1; r <= rounds; r++)); do
    echo "nginx $(run "$@" "https://127.0.0.1:$NGINX/1k")" >> "$work/cells"
    echo "wharf $(run "$@" "https://127.0.0.1:$WHARF_TLS/1k")" >> "$work/cells"
  done
  python3 bench/wrk_rounds.py "$name" "$work/cells" nginx wharf -- wharf/nginx
}
cell "1k HTTPS HTTP/1.1, 64 conns" -c 64 --http-version 1.1
cell "1k HTTPS HTTP/2, 16 conns x 8 streams" -c 16 -p 8 --http-version 2
cell "new TLS handshakes (1 request each), 32 clients" -c 32 --disable-keepalive --http-version 1.1

printf '\n| workload (oha, %ss, median of %s rounds) | Wharf HTTP/2 | Wharf HTTP/3 | HTTP/3 / HTTP/2 |\n|---|---|---|---|\n' "$secs" "$rounds"
: > "$work/cells"
for ((r = 1; r <= rounds; r++)); do
  echo "h2 $(run -c 16 -p 8 --http-version 2 "https://127.0.0.1:$WHARF_TLS/1k")" >> "$work/cells"
  echo "h3 $(run -c 16 -p 8 --http-version 3 "https://127.0.0.1:$WHARF_TLS/1k")" >> "$work/cells"
done
python3 bench/wrk_rounds.py "1k, 16 conns x 8 streams" "$work/cells" h2 h3 -- h3/h2
