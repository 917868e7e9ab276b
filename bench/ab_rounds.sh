# Sourced by the A/B scripts (bench/edge_ab.sh, bench/nginx_logs_ab.sh): 1 KiB and 100 KiB
# hits on two servers taking turns round by round (wrk, 2 threads, 64 connections, `secs`
# seconds, `rounds` rounds; `work` is a scratch directory), one table row per size with each
# side's median round and the ratio B/A.
#
#   ab_rounds "edge hits" before "$A" after "$B"
ab_rounds() { # what, name A, port A, name B, port B
  local what=$1 a=$2 pa=$3 b=$4 pb=$5 f r side name port out
  printf '| %s (wrk, 64 connections, %ss, median of %s rounds) | %s | %s | %s / %s |\n|---|---|---|---|\n' \
    "$what" "$secs" "$rounds" "$a" "$b" "$b" "$a"
  for f in 1k 100k; do
    for port in $pa $pb; do curl -sf -o /dev/null "http://127.0.0.1:$port/$f"; done
    : > "$work/ab-$f"
    for ((r = 1; r <= rounds; r++)); do
      for side in "$a $pa" "$b $pb"; do
        read -r name port <<<"$side"
        out=$(wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:$port/$f")
        echo "$name $(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")" >> "$work/ab-$f"
      done
    done
    python3 bench/wrk_rounds.py "$f" "$work/ab-$f" "$a" "$b" -- "$b/$a"
  done
}
