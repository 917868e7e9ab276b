#!/usr/bin/env bash
# The independent RFC 9111 caching suite (http-tests/cache-tests, pinned in tests/conformance)
# run against nginx proxy_cache, Varnish and Wharf's edge on this machine, one after the other,
# behind the suite's own origin server. Prints, for each cache, how many of the suite's
# required and optimal tests pass. Not part of the test suite (tests/interop/
# test_rfc9111_suite.py holds Wharf to its result); this puts the peers beside it.
#
#   bench/conformance.sh            # needs nginx and varnishd (bench/install-deps)
#
# The peers' configurations are plain reverse-proxy caches that let the origin decide, as the
# suite asks; the suite's published results used its authors' own configurations.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps
cargo build --quiet --release --bin wharf
work=$(mktemp -d /var/tmp/wharf-conformance.XXXXXX)
chmod 755 "$work"   # nginx workers run as an unprivileged user
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [[ -n "${KEEP:-}" ]] || rm -rf "$work"; }
trap cleanup EXIT

ORIGIN=19200 NGINX=19201 VARNISH=19202 WHARF=19203 WHARF_API=19204
suite=tests/conformance/node_modules/http-cache-tests

npm_config_protocol=http npm_config_port=$ORIGIN npm_config_pidfile="$work/origin.pid" \
  node "$suite/server/server.mjs" > /dev/null 2>&1 & pids+=($!)

# --- nginx proxy_cache: the origin's headers decide; every method is passed through ---
mkdir -p "$work/nginx-cache"
cat > "$work/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 1024; }
http { access_log off;
  proxy_cache_path $work/nginx-cache levels=1:2 keys_zone=c:16m inactive=1h use_temp_path=off;
  server { listen 127.0.0.1:$NGINX;
    location / { proxy_pass http://127.0.0.1:$ORIGIN; proxy_http_version 1.1;
      proxy_set_header Connection ""; proxy_set_header Host \$http_host; proxy_cache c; } } }
EOF
nginx -c "$work/nginx.conf" & pids+=($!)

# --- Varnish: its built-in VCL ---
cat > "$work/default.vcl" <<EOF
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$ORIGIN"; }
EOF
varnishd -F -j none -n "$work/varnish" -a 127.0.0.1:$VARNISH -f "$work/default.vcl" -s malloc,256m \
  > "$work/varnish.out" 2>&1 & pids+=($!)

# --- Wharf: as docs/edge.md recommends (origin decides, all methods, AllViewer) ---
mkdir -p "$work/dists/cache-policies"
cat > "$work/dists/cache-policies/origin-decides.json" <<EOF
{"Name": "origin-decides", "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 31536000,
 "ParametersInCacheKeyAndForwardedToOrigin": {"EnableAcceptEncodingGzip": true, "EnableAcceptEncodingBrotli": true,
   "HeadersConfig": {"HeaderBehavior": "none"}, "CookiesConfig": {"CookieBehavior": "none"},
   "QueryStringsConfig": {"QueryStringBehavior": "all"}}}
EOF
cat > "$work/dists/ECONFORMANCE.json" <<EOF
{"CallerReference": "conformance", "Comment": "", "Enabled": true,
 "Origins": {"Quantity": 1, "Items": [{"Id": "suite", "DomainName": "127.0.0.1",
   "CustomOriginConfig": {"HTTPPort": $ORIGIN, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
 "DefaultCacheBehavior": {"TargetOriginId": "suite", "ViewerProtocolPolicy": "allow-all",
   "AllowedMethods": {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
     "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
   "CachePolicyId": "origin-decides", "OriginRequestPolicyId": "216adef6-5c7f-47e4-b989-5492eafa07d3"}}
EOF
cat > "$work/wharf.toml" <<EOF
[edge]
distributions_dir = "$work/dists"
default_distribution = "ECONFORMANCE"
EOF
WHARF_ROOT_ACCESS_KEY=AKIACONFORMANCE00001 WHARF_ROOT_SECRET_KEY=conformancesecret WHARF_LOG=error \
  target/release/wharf serve --config "$work/wharf.toml" --data-dir "$work/wharf" \
  --api-listen 127.0.0.1:$WHARF_API --edge-listen 127.0.0.1:$WHARF > "$work/wharf.out" 2>&1 & pids+=($!)
sleep 2

declare -A PORT=([nginx]=$NGINX [varnish]=$VARNISH [wharf]=$WHARF)
for c in nginx varnish wharf; do
  node tests/conformance/run.mjs "http://127.0.0.1:${PORT[$c]}" "$work/$c.json"
done

echo "RFC 9111 suite, http-cache-tests $(node -p "require('./$suite/package.json').version"), $(date -u +%F)"
python3 - "$work" <<'EOF'
import json, sys
print("| cache | required | optimal | required + optimal | never finished |")
print("|---|---|---|---|---|")
for c in ("nginx", "varnish", "wharf"):
    r = json.load(open(f"{sys.argv[1]}/{c}.json"))
    res, kinds = r["results"], r["kinds"]
    def count(kind):
        ids = [t for t, k in kinds.items() if k == kind]
        return sum(res.get(t) is True for t in ids), len(ids)
    (rp, rn), (op, on) = count("required"), count("optimal")
    unsettled = sum(1 for v in res.values() if v is not True and v[0] == "Unsettled")
    print(f"| {c} | {rp} / {rn} | {op} / {on} | {rp + op} / {rn + on} | {unsettled} |")
EOF
