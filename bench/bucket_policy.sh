#!/usr/bin/env bash
# The bucket policy benchmark of issue 15: 4 KiB GETs on a bucket with a 20-statement policy
# against a bucket with none, in the same server and the same run (rounds taking turns); the
# owner's signed GETs walk the whole policy (no statement names them), and anonymous GETs of
# the same objects are allowed by the policy's one public statement. Not part of the test
# suite. Prints a table; copy it into bench/RESULTS.md with the date and this command.
#
#   bench/bucket_policy.sh                       # BENCH_SECONDS=6, 3 rounds, 16 clients
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-6}
rounds=${BENCH_ROUNDS:-3}
clients=${CLIENTS:-16}
keys=100
work=$(mktemp -d /var/tmp/wharf-policy-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

# The policy: twenty statements of the kinds people write (printed alone with
# BENCH_POLICY_ONLY=1, for bench/bucket_policy_callgrind.sh).
policy_json() {
python3 - <<'PY'
import json
B = "arn:aws:s3:::policied"
s = []
for i in range(8):
    s.append({"Sid": f"Home{i}", "Effect": "Allow",
              "Principal": {"AWS": f"arn:aws:iam::111122223333:user/user{i}"},
              "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
              "Resource": f"{B}/home/${{aws:username}}/*"})
for i in range(4):
    s.append({"Sid": f"Partner{i}", "Effect": "Allow", "Principal": {"AWS": f"44445555666{i}"},
              "Action": "s3:ListBucket", "Resource": B,
              "Condition": {"StringLike": {"s3:prefix": [f"partner{i}/*", ""]}}})
for i in range(4):
    s.append({"Sid": f"Office{i}", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
              "Resource": f"{B}/uploads/*",
              "Condition": {"IpAddress": {"aws:SourceIp": f"198.51.{i}.0/24"}}})
s.append({"Sid": "OAC", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
          "Action": "s3:GetObject", "Resource": f"{B}/*",
          "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}}})
s.append({"Sid": "DenyOldSignatures", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
          "Resource": [B, f"{B}/*"], "Condition": {"NumericGreaterThan": {"s3:signatureAge": "600000"}}})
s.append({"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
          "Resource": f"{B}/*", "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}})
s.append({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
          "Resource": f"{B}/obj-*"})
assert len(s) == 20
print(json.dumps({"Version": "2012-10-17", "Statement": s}))
PY
}
if [ -n "${BENCH_POLICY_ONLY:-}" ]; then policy_json; exit 0; fi

cargo build --quiet --release --bin wharf
(cd bench/loadgen && cargo build --quiet --release)
L=bench/loadgen/target/release/wharf-loadgen
export AWS_ACCESS_KEY_ID=AKIABENCH000000000001 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecret
PORT=19040
ep=http://127.0.0.1:$PORT
WHARF_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID WHARF_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY WHARF_LOG=warn \
  target/release/wharf serve --data-dir "$work/data" --api-listen 127.0.0.1:$PORT \
  --edge-listen 127.0.0.1:0 --console-listen 127.0.0.1:0 > "$work/wharf.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "$ep" && break; sleep 0.2; done

$L mkbucket "$ep" plain 0 1 0 > /dev/null
$L mkbucket "$ep" policied 0 1 0 > /dev/null
for b in plain policied; do
  $L fill "$ep" "$b" 4096 16 0 "$keys" >&2
done
policy_json > "$work/policy.json"
$L unblock "$ep" policied 0 1 0 | grep -q '"status":204'
$L policy "$ep" policied 0 1 0 < "$work/policy.json" | grep -q '"status":204'

results=$work/results.jsonl
for ((round = 1; round <= rounds; round++)); do
  for run in plain:get policied:get policied:get-unsigned; do
    b=${run%%:*}; op=${run#*:}
    line=$($L "$op" "$ep" "$b" 4096 "$clients" "$secs" "$keys" 2>/dev/null | tail -1)
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["run"]=sys.argv[2]; print(json.dumps(d))' "$line" "$run" >> "$results"
  done
  echo "round $round/$rounds done" >&2
done

python3 - "$results" "$secs" "$rounds" "$clients" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
secs, rounds, clients = sys.argv[2:5]
def median(run):
    rs = sorted((r for r in rows if r["run"] == run), key=lambda r: r["req_per_s"])
    return rs[len(rs) // 2], [r["req_per_s"] for r in rows if r["run"] == run]
base, base_all = median("plain:get")
print(f"| 4 KiB GET, {clients} clients, {secs}s, median of {rounds} rounds | req/s (p99) | / no policy |")
print("|---|---|---|")
for run, name in (("plain:get", "no policy, owner (signed)"),
                  ("policied:get", "20-statement policy, owner (signed)"),
                  ("policied:get-unsigned", "20-statement policy, anonymous (public statement)")):
    m, all_ = median(run)
    print(f"| {name} | {m['req_per_s']:,.0f} ({m['p99_ms']:.2f}ms) | {m['req_per_s'] / base['req_per_s']:.2f}x |")
    print(f"<!-- {run} rounds: {', '.join(f'{x:,.0f}' for x in all_)} -->")
PY
