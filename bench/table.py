"""Renders bench/out/results.jsonl as the Markdown tables kept in bench/RESULTS.md, with Wharf's
figure, the peer's from the same run, and their ratio (each the server's median round)."""

import json
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
rounds = defaultdict(lambda: defaultdict(list))
for r in rows:
    if r["op"] in ("put", "get", "get-unsigned"):
        op = "get" if r["op"] == "get-unsigned" else r["op"]
        rounds[(op, r["size"], r["concurrency"])][r["server"]].append(r)
# With several rounds (BENCH_ROUNDS), each server's median round by requests per second.
cells = {
    cell: {server: sorted(rs, key=lambda r: r["req_per_s"])[len(rs) // 2] for server, rs in by.items()}
    for cell, by in rounds.items()
}


def human(size):
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"


before = any("wharf-before" in by for by in cells.values())
extra = " Wharf before req/s | now / before |" if before else ""
print("| op | size | clients | Wharf req/s | Wharf MiB/s | Wharf p99 ms |" + extra + " s3s-fs req/s | s3s-fs MiB/s | s3s-fs p99 ms | Wharf / s3s-fs (req/s) | moto req/s | Wharf / moto | nginx MiB/s | Wharf / nginx |")
print("|---|---|---|---|---|---|" + ("---|---|" if before else "") + "---|---|---|---|---|---|---|---|")
for (op, size, c), by in sorted(cells.items(), key=lambda kv: (kv[0][0] != "put", kv[0][1], kv[0][2])):
    w, p, n, m = by.get("wharf"), by.get("s3s-fs"), by.get("nginx"), by.get("moto")
    if not w:
        continue
    b = by.get("wharf-before")
    bcol = ""
    if before:
        bcol = f" {b['req_per_s']:.0f} | {w['req_per_s'] / b['req_per_s']:.2f}× |" if b and b["req_per_s"] else " | |"
    ratio = f"{w['req_per_s'] / p['req_per_s']:.2f}×" if p and p["req_per_s"] else "—"
    nginx = f"{n['mib_per_s']:.0f}" if n else ""
    nratio = f"{w['mib_per_s'] / n['mib_per_s']:.2f}×" if n and n["mib_per_s"] else ""
    pcol = f"{p['req_per_s']:.0f} | {p['mib_per_s']:.0f} | {p['p99_ms']:.1f}" if p else "— | — | —"
    moto = f"{m['req_per_s']:.0f} | {w['req_per_s'] / m['req_per_s']:.1f}×" if m and m["req_per_s"] else " | "
    print(f"| {op.upper()} | {human(size)} | {c} | {w['req_per_s']:.0f} | {w['mib_per_s']:.0f} | {w['p99_ms']:.1f} |{bcol} {pcol} | {ratio} | {moto} | {nginx} | {nratio} |")
for r in rows:
    if r["op"] in ("put-stream", "get-stream"):
        print(f"\n5 GiB streaming {r['op'].split('-')[0].upper()} to Wharf: {r.get('mib_per_s', 0):.0f} MiB/s (status {r['status']})", end="")
    if r["op"] == "peak-rss-5gib":
        print(f"\n\nWharf peak RSS (VmHWM) across the 5 GiB PUT and GET: {r['vmhwm_kib'] / 1024:.1f} MiB")
