"""One table row from `wrk` rounds: median req/s (p99) per server, ratios, and every round.

    python3 bench/wrk_rounds.py FILE CELLS_FILE SERVER... -- NUM/DEN...

CELLS_FILE has one line per round: `server req_per_s p99`. The row shows each SERVER's
median round, then each NUM/DEN ratio of medians; an HTML comment per server lists its rounds.
"""
import sys

args = sys.argv[1:]
f, path = args[0], args[1]
sep = args.index("--")
servers, ratios = args[2:sep], args[sep + 1:]
runs = {}
for line in open(path):
    p, rps, p99 = line.split()
    runs.setdefault(p, []).append((float(rps), p99))
med = {p: sorted(v)[len(v) // 2] for p, v in runs.items()}
cells = [f"{med[p][0]:,.0f} ({med[p][1]})" for p in servers]
for r in ratios:
    num, den = r.split("/")
    cells.append(f"{med[num][0] / med[den][0]:.2f}x")
print(f"| {f} hit: req/s (p99) | " + " | ".join(cells) + " |")
for p, v in runs.items():
    print(f"<!-- {f} {p} rounds: " + ", ".join(f"{x:,.0f} ({y})" for x, y in v) + " -->")
