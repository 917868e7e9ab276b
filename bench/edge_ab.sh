#!/usr/bin/env bash
# A/B of edge hits between two Wharf builds, side by side on the same machine in the same run:
# 1 KiB and 100 KiB hits (wrk, 64 connections), the builds taking turns round by round, each
# build's median round shown. The quick check behind a change's cost on the hit path (e.g.
# issue 13's metrics); bench/edge.sh has the full comparison against nginx and Varnish.
#
#   BEFORE=/path/to/older/wharf bench/edge_ab.sh
#   BEFORE=... AFTER=target/release/wharf BENCH_SECONDS=8 BENCH_ROUNDS=5 bench/edge_ab.sh
#   BEFORE=target/release/wharf AFTER_LOGS=1 bench/edge_ab.sh
#                     # "after" with the distribution's access logs on (into its demo bucket):
#                     # the cost of logging, with the same build on both sides
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BEFORE:?BEFORE=path to the older wharf binary}"
after=${AFTER:-target/release/wharf}
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-5}
work=$(mktemp -d /var/tmp/wharf-edge-ab.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[[ -n ${AFTER:-} ]] || cargo build --quiet --release --bin wharf

ORIGIN=19200 A=19201 B=19202
source bench/edge_ab_fixture.sh
start() { # binary, name, edge port, extra arguments
  WHARF_ROOT_ACCESS_KEY=AKIABENCH0000000001 WHARF_ROOT_SECRET_KEY=benchsecretbenchsecret WHARF_LOG=warn \
    "$1" serve --config "$work/wharf-$2.toml" --data-dir "$work/$2" --api-listen 127.0.0.1:0 \
    --edge-listen "127.0.0.1:$3" "${@:4}" > "$work/$2.out" 2>&1 &
  pids+=($!)
}
start "$BEFORE" before $A
start "$after" after $B "${extra[@]}"
sleep 2
source bench/ab_rounds.sh
ab_rounds "edge hits" before $A after $B
