#!/usr/bin/env bash
# Side by side: two swarm-bench binaries (a commit before a change and the
# change), run alternately RUNS times (default 5) on the wide and chain
# shapes of bench/run.sh, so the machine's mood falls on both alike; then
# the median of each figure per binary and shape.
# Usage: bench/compare.sh BEFORE_BIN AFTER_BIN [RUNS]
# Build each with `cargo build --release -p swarm-bench` in a checkout of
# its commit (e.g. `git worktree add ../before COMMIT`).
set -euo pipefail
before=${1:?usage: bench/compare.sh BEFORE_BIN AFTER_BIN [RUNS]}
after=${2:?usage: bench/compare.sh BEFORE_BIN AFTER_BIN [RUNS]}
runs=${3:-5}
out=$(mktemp)
for i in $(seq "$runs"); do
  for side in before after; do
    bin=$before
    [ "$side" = after ] && bin=$after
    "$bin" --shape wide --tasks 100000 --slots 64 | sed "s/^{/{\"side\":\"$side\",/" | tee -a "$out"
    "$bin" --shape chain --tasks 1000 | sed "s/^{/{\"side\":\"$side\",/" | tee -a "$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# cpu_us_per_task (the coordinator's CPU time per task) only where both
# binaries print it.
for shape, figure in (("wide", "tasks_per_sec"), ("wide", "cpu_us_per_task"),
                      ("chain", "dispatch_p50_ms"), ("chain", "cpu_us_per_task")):
    med = {}
    for side in ("before", "after"):
        vals = [r[figure] for r in rows
                if r["shape"] == shape and r["side"] == side and figure in r]
        if vals:
            med[side] = statistics.median(vals)
            print(json.dumps({"shape": shape, "side": side, "runs": len(vals), figure: med[side],
                              "min": min(vals), "max": max(vals)}))
    if len(med) == 2:
        print(json.dumps({"shape": shape, "figure": figure,
                          "after_vs_before": round(med["after"] / med["before"], 3)}))
PY
