#!/usr/bin/env bash
# The benchmarks of issue 16 (the CloudFront control API and Functions). Not part of the test
# suite. Prints tables; copy them into bench/RESULTS.md with the date and this command.
#
# 1. Functions: 1 KiB hits (wrk, 64 connections) through a distribution whose behavior runs a
#    viewer-request CloudFront Function (AWS's URL-rewrite example) and through the same
#    distribution without it, one server, rounds taking turns; and the function's own cost per
#    call in process (crates/wharf-functions/examples/function_cost.rs). Goal: <= 20 us added.
# 2. Scale: DISTRIBUTIONS (default 1,000) distributions made through the API; then UPDATES
#    (default 100) updates of random ones, each timed from the API call until the edge serves
#    the change (the origin answers which DefaultRootObject it was asked for). Goal: p99 < 1 s.
#    And the server's RSS per distribution (VmRSS before and after, / DISTRIBUTIONS).
#
#   bench/cloudfront.sh                                  # BENCH_SECONDS=8 BENCH_ROUNDS=5
#   BENCH_SECONDS=4 BENCH_ROUNDS=3 DISTRIBUTIONS=200 bench/cloudfront.sh
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-5}
dists=${DISTRIBUTIONS:-1000}
updates=${UPDATES:-100}
work=$(mktemp -d /var/tmp/wharf-cloudfront-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null && command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null; }
[ -x .venv/bin/python ] || scripts/install-test-deps
cargo build --quiet --release --bin wharf
cargo build --quiet --release --example function_cost -p wharf-functions

ORIGIN=19200 WHARF=19201 API=19202 CONSOLE=19203
mkdir -p "$work/www"
head -c 1024 /dev/urandom > "$work/www/1k.html"
echo -n A > "$work/www/a.html"; echo -n B > "$work/www/b.html"
cat > "$work/origin.conf" <<EOF
worker_processes 1; daemon off; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nodelay on; keepalive_requests 100000;
  server { listen 127.0.0.1:$ORIGIN; root $work/www; expires 1h; } }
EOF
nginx -c "$work/origin.conf" & pids+=($!)

export AWS_ACCESS_KEY_ID=AKIABENCH0000000002 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecret2
WHARF_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID WHARF_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY WHARF_LOG=warn \
  target/release/wharf serve --data-dir "$work/wharf" --api-listen 127.0.0.1:$API \
  --edge-listen 127.0.0.1:$WHARF --console-listen 127.0.0.1:$CONSOLE > "$work/wharf.out" 2>&1 &
wharf_pid=$!; pids+=($wharf_pid)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$API" && break; sleep 0.2; done

# --- 1. Functions ---
.venv/bin/python - "$API" "$ORIGIN" > "$work/hosts" <<'PY'
import sys, uuid, boto3
api, origin = sys.argv[1], int(sys.argv[2])
cf = boto3.client("cloudfront", endpoint_url=f"http://127.0.0.1:{api}", region_name="us-east-1")
code = b"""function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.endsWith('/')) { request.uri += 'index.html'; }
    else if (!uri.includes('.')) { request.uri += '/index.html'; }
    return request;
}"""
f = cf.create_function(Name="rewrite", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=code)
cf.publish_function(Name="rewrite", IfMatch=f["ETag"])
arn = f["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
def dist(assoc):
    b = {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
         "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}
    if assoc:
        b["FunctionAssociations"] = {"Quantity": 1, "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}]}
    cfg = {"CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True, "DefaultCacheBehavior": b,
           "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "127.0.0.1",
               "CustomOriginConfig": {"HTTPPort": origin, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]}}
    return cf.create_distribution(DistributionConfig=cfg)["Distribution"]["DomainName"]
print("none", dist(False))
print("function", dist(True))
PY
declare -A HOST
while read -r k v; do HOST[$k]=$v; done < "$work/hosts"
for k in none function; do
  curl -sf -o /dev/null -H "Host: ${HOST[$k]}" "http://127.0.0.1:$WHARF/1k.html"
  curl -sf -o /dev/null -H "Host: ${HOST[$k]}" "http://127.0.0.1:$WHARF/1k.html"
done
: > "$work/cells"
for ((r = 1; r <= rounds; r++)); do
  for k in none function; do
    out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "Host: ${HOST[$k]}" "http://127.0.0.1:$WHARF/1k.html")
    echo "$k $(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")" >> "$work/cells"
  done
done
cost=$(target/release/examples/function_cost)
python3 - "$work/cells" "$cost" "$secs" "$rounds" <<'PY'
import json, sys
runs = {}
for line in open(sys.argv[1]):
    k, rps, p99 = line.split()
    runs.setdefault(k, []).append((float(rps), p99))
med = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}
cost = json.loads(sys.argv[2])
# Two server threads share the machine's two cores: each request holds one for 2/rps seconds.
added = (2 / med["function"][0] - 2 / med["none"][0]) * 1e6
print(f"\n| 1 KiB hits (wrk, 64 connections, {sys.argv[3]}s, median of {sys.argv[4]} rounds) | no function | viewer-request function | function / none | added per request |")
print("|---|---|---|---|---|")
print(f"| req/s (p99) | {med['none'][0]:,.0f} ({med['none'][1]}) | {med['function'][0]:,.0f} ({med['function'][1]}) | "
      f"{med['function'][0] / med['none'][0]:.2f}x | {added:.1f} us (from throughput, 2 cores) |")
print(f"| in process (event, run, result; median of 5 batches) | | {cost['per_call_us']:.2f} us per call | | batches: {cost['batches_us']} us |")
for k, v in runs.items():
    print(f"<!-- {k} rounds: " + ", ".join(f"{x:,.0f} ({y})" for x, y in v) + " -->")
PY

# --- 2. Scale ---
rss() { awk '/^VmRSS/ {print $2}' "/proc/$wharf_pid/status"; }
before=$(rss)
.venv/bin/python - "$API" "$ORIGIN" "$WHARF" "$dists" "$updates" "$before" "$wharf_pid" <<'PY'
import http.client, random, statistics, sys, time, uuid, boto3
api, origin, edge, n, updates, before, pid = (int(x) for x in sys.argv[1:8])
cf = boto3.client("cloudfront", endpoint_url=f"http://127.0.0.1:{api}", region_name="us-east-1")
def config(root):
    return {"CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True, "DefaultRootObject": root,
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                     "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "127.0.0.1",
                "CustomOriginConfig": {"HTTPPort": origin, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]}}
t = time.time()
made = []
for i in range(n):
    d = cf.create_distribution(DistributionConfig=config("a.html"))
    made.append((d["Distribution"]["Id"], d["Distribution"]["DomainName"]))
create_s = time.time() - t
rss = lambda: int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")))
after = rss()
def body(host):
    c = http.client.HTTPConnection("127.0.0.1", edge, timeout=10)
    c.request("GET", "/", headers={"Host": host})
    b = c.getresponse().read()
    c.close()
    return b
lat = []
for _ in range(updates):
    did, host = random.choice(made)
    cur = cf.get_distribution_config(Id=did)
    want = b"B" if cur["DistributionConfig"]["DefaultRootObject"] == "a.html" else b"A"
    cfg = dict(cur["DistributionConfig"], DefaultRootObject="b.html" if want == b"B" else "a.html")
    t0 = time.perf_counter()
    cf.update_distribution(Id=did, IfMatch=cur["ETag"], DistributionConfig=cfg)
    while body(host) != want:
        if time.perf_counter() - t0 > 10:
            break
    lat.append(time.perf_counter() - t0)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print(f"\n| {n:,} distributions through the API | value |")
print("|---|---|")
print(f"| created in | {create_s:.1f} s ({create_s / n * 1000:.1f} ms each, each applied by the edge before it is answered) |")
print(f"| config change to edge, {updates} updates: p50 / p99 / max | {q(0.5):.0f} ms / {q(0.99):.0f} ms / {lat[-1] * 1000:.0f} ms |")
print(f"| RSS: before / after / per distribution | {before / 1024:.0f} MiB / {after / 1024:.0f} MiB / {(after - before) / n:.1f} KiB |")
PY
