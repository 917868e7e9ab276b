#!/usr/bin/env bash
# The S3 store benchmark of issue 2: Wharf against s3s-fs 0.14 and moto's server on the
# same machine in the same run, plus nginx serving the same 64 MiB file as the GET ceiling.
# Not part of the test suite. Writes bench/out/results.jsonl and prints a table; copy the
# table into bench/RESULTS.md with the date and this command.
#
#   bench/run.sh                 # full matrix, BENCH_SECONDS (default 8) per cell
#   BENCH_SECONDS=3 bench/run.sh # quicker
#   WHARF_BASELINE_BIN=/path/to/older/wharf bench/run.sh
#                                # also measures an older build in the same run ("before")
#   BENCH_ROUNDS=3 bench/run.sh  # each cell 3 times, the servers taking turns cell by cell;
#                                # the table shows each server's median round
#
# nginx serves the same 64 MiB file as a static file (sendfile on) and takes its turns in the
# 64 MiB GET cells, as the GET ceiling.
#
# PUT bodies are random and unique per request (see the load generator), so no server's
# compression or deduplication is measured as speed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-1}
out=bench/out
mkdir -p "$out"
: > "$out/results.jsonl"
work=$(mktemp -d /var/tmp/wharf-bench.XXXXXX)
chmod 755 "$work"  # nginx workers run unprivileged and must read the static file
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cargo build --quiet --release --bin wharf
(cd bench/loadgen && cargo build --quiet --release)
command -v s3s-fs >/dev/null || cargo install --locked s3s-fs --version 0.14.1 --features binary
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
L=bench/loadgen/target/release/wharf-loadgen
export AWS_ACCESS_KEY_ID=AKIABENCH000000000001 AWS_SECRET_ACCESS_KEY=benchsecretbenchsecret
WHARF_PORT=19000 S3SFS_PORT=19001 NGINX_PORT=19002 BEFORE_PORT=19004
baseline=${WHARF_BASELINE_BIN:-}

start_wharf() { # [binary] [port] [name]
  local bin=${1:-target/release/wharf} port=${2:-$WHARF_PORT} name=${3:-wharf}
  rm -rf "$work/$name"
  WHARF_ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID WHARF_ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY WHARF_LOG=warn \
    "$bin" serve --data-dir "$work/$name" --api-listen 127.0.0.1:$port --edge-listen 127.0.0.1:0 > "$work/$name.out" 2>&1 &
  wharf_pid=$!; pids+=("$wharf_pid")
  sleep 1
}
start_s3sfs() {
  rm -rf "$work/s3sfs"; mkdir -p "$work/s3sfs"
  s3s-fs --host 127.0.0.1 --port $S3SFS_PORT --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$work/s3sfs" > "$work/s3sfs.out" 2>&1 &
  s3sfs_pid=$!; pids+=("$s3sfs_pid")
  sleep 1
}
port_of() {
  case $1 in
    wharf) echo $WHARF_PORT ;;
    wharf-before) echo $BEFORE_PORT ;;
    nginx) echo $NGINX_PORT ;;
    *) echo $S3SFS_PORT ;;
  esac
}
record() { # server, then the loadgen's JSON line on stdin
  python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); d["server"]=sys.argv[1]; print(json.dumps(d))' "$1" >> "$out/results.jsonl"
}

# nginx: the same 64 MiB file as a static file with sendfile: the GET ceiling.
mkdir -p "$work/nginx/static" "$work/nginx/logs"
head -c 67108864 /dev/zero > "$work/nginx/static/obj-0"
for i in $(seq 1 15); do ln "$work/nginx/static/obj-0" "$work/nginx/static/obj-$i"; done
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nodelay on; keepalive_requests 100000;
  client_body_temp_path $work/nginx/tmp; proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp; scgi_temp_path $work/nginx/tmp;
  server { listen 127.0.0.1:$NGINX_PORT; root $work/nginx; }
}
CONF
mkdir -p "$work/nginx/tmp"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
sleep 0.5

for size in 4096 1048576 67108864; do
  start_wharf; now_pid=$wharf_pid; start_s3sfs
  servers=(wharf s3s-fs)
  if [[ -n $baseline ]]; then
    start_wharf "$baseline" $BEFORE_PORT wharf-before; before_pid=$wharf_pid
    servers=(wharf wharf-before s3s-fs)
  fi
  for server in "${servers[@]}"; do
    ep=http://127.0.0.1:$(port_of "$server")
    $L mkbucket "$ep" bench 0 1 0 > /dev/null
    $L fill "$ep" bench "$size" 16 0 16 > /dev/null
  done
  [[ $size -ge 67108864 ]] && servers+=(nginx)
  cell=$secs; [[ $size -ge 67108864 ]] && cell=$(( secs / 2 > 2 ? secs / 2 : 2 ))
  for ((round = 1; round <= rounds; round++)); do
    for c in 1 16 64; do
      for server in "${servers[@]}"; do
        ep=http://127.0.0.1:$(port_of "$server")
        if [[ $server == nginx ]]; then
          $L get-unsigned "$ep" static "$size" "$c" "$cell" 16 2>/dev/null | record nginx
          continue
        fi
        $L put "$ep" bench "$size" "$c" "$cell" 2>/dev/null | record "$server"
        $L get "$ep" bench "$size" "$c" "$cell" 16 2>/dev/null | record "$server"
      done
      echo "size=$size c=$c round $round/$rounds done" >&2
    done
  done
  kill "$now_pid" "$s3sfs_pid" ${before_pid:-}; wait "$now_pid" "$s3sfs_pid" ${before_pid:-} 2>/dev/null || true
  before_pid=
done
kill "$(cat "$work/nginx/nginx.pid")"

# moto's server (PyPI), the second S3 peer: 4 KiB and 1 MiB only (it keeps objects in memory).
[[ -x bench/.venv/bin/moto_server ]] || { python3 -m venv bench/.venv && bench/.venv/bin/pip install -q "moto[server]==5.2.5"; }
bench/.venv/bin/moto_server -H 127.0.0.1 -p 19003 > "$work/moto.out" 2>&1 &
moto_pid=$!; pids+=("$moto_pid")
sleep 3
$L mkbucket http://127.0.0.1:19003 bench 0 1 0 > /dev/null
for size in 4096 1048576; do
  $L fill http://127.0.0.1:19003 bench "$size" 16 0 16 > /dev/null
  for c in 1 16 64; do
    $L put http://127.0.0.1:19003 bench "$size" "$c" "$secs" 2>/dev/null | record moto
    $L get http://127.0.0.1:19003 bench "$size" "$c" "$secs" 16 2>/dev/null | record moto
  done
done
kill "$moto_pid"

# Peak RSS of Wharf through a 5 GiB streaming PUT and GET (VmHWM of a fresh process).
start_wharf
$L mkbucket http://127.0.0.1:$WHARF_PORT bench 0 1 0 > /dev/null
$L put-stream http://127.0.0.1:$WHARF_PORT bench $((5 << 30)) 1 0 2>/dev/null | record wharf
$L get-stream http://127.0.0.1:$WHARF_PORT bench 0 1 0 2>/dev/null | record wharf
hwm=$(awk '/VmHWM/ {print $2}' /proc/$wharf_pid/status)
echo "{\"op\":\"peak-rss-5gib\",\"server\":\"wharf\",\"vmhwm_kib\":$hwm}" >> "$out/results.jsonl"
kill "$wharf_pid"

python3 bench/table.py "$out/results.jsonl"
