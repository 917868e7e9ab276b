# Sourced by bench/edge_ab.sh and bench/edge_callgrind.sh: the two sides of an A/B of edge
# hits. Expects `work` (a directory), `pids` (an array) and `ORIGIN` (a port); makes the files
# 1k and 100k on a Python origin, one distribution `EAB` in front of it as every hit's default,
# and `$work/wharf-before.toml` and `$work/wharf-after.toml`. With AFTER_LOGS=1 the "after"
# side's distribution has access logs on (into the demo bucket) and `extra` holds the flag
# that makes that bucket (`--demo`); otherwise `extra` is empty.
mkdir -p "$work/www" "$work/dists"
head -c 1024 /dev/urandom > "$work/www/1k"
head -c 102400 /dev/urandom > "$work/www/100k"
(cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 "$ORIGIN" >/dev/null 2>&1) &
pids+=($!)
cat > "$work/dists/EAB.json" <<EOF
{"CallerReference": "ab", "Comment": "", "Enabled": true,
 "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "127.0.0.1",
   "CustomOriginConfig": {"HTTPPort": $ORIGIN, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
 "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
   "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6", "Compress": false}}
EOF
edge_config() { # distributions directory
  printf '[edge]\ndistributions_dir = "%s"\ndefault_distribution = "EAB"\nmemory_cache_mb = 256\n' "$1"
}
edge_config "$work/dists" > "$work/wharf-before.toml"
edge_config "$work/dists" > "$work/wharf-after.toml"
extra=()
if [[ ${AFTER_LOGS:-0} == 1 ]]; then
  mkdir -p "$work/dists-after"
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["Logging"] = {"Enabled": True, "IncludeCookies": False, "Bucket": "demo.s3.amazonaws.com", "Prefix": "ab/"}; json.dump(d, open(sys.argv[2], "w"))' \
    "$work/dists/EAB.json" "$work/dists-after/EAB.json"
  edge_config "$work/dists-after" > "$work/wharf-after.toml"
  extra=(--demo)
fi
