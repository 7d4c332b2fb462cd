#!/usr/bin/env bash
# Runs every benchmark of issue 3 RUNS times (default 3) and prints each
# JSON line, then the median of each figure per shape. With --scale, also
# issue 14's: a million wide tasks and ten thousand idle agents (about two
# minutes a run more).
# Each run also counts the fsyncs of swarmd.db's WAL per hop of a 300-task
# chain (under strace, when it is installed) and times the disk's own
# fsync (p50 of 200, in the working directory), the baseline a chain hop
# is held to.
# Usage: bench/run.sh [RUNS] [--scale]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scale=${2:-}
cargo build --release -p swarm-bench >&2
out=$(mktemp)
for _ in $(seq "$runs"); do
  ./target/release/swarm-bench --shape wide --tasks 100000 --slots 64 | tee -a "$out"
  ./target/release/swarm-bench --shape chain --tasks 1000 | tee -a "$out"
  ./target/release/swarm-bench --agents 1000 --idle 30s | tee -a "$out"
  python3 - <<'PY' | tee -a "$out"
import json, os, statistics, tempfile, time
fd, path = tempfile.mkstemp(dir=".")
times = []
for _ in range(200):
    os.write(fd, b"x" * 4096)
    t = time.perf_counter()
    os.fsync(fd)
    times.append((time.perf_counter() - t) * 1000)
os.close(fd)
os.unlink(path)
print(json.dumps({"shape": "disk", "fsync_p50_ms": round(statistics.median(times), 3)}))
PY
  if command -v strace >/dev/null 2>&1; then
    # WAL fsyncs of a 300-task and a 1,000-task chain: per hop of the
    # first, and per added hop between the two (what the set-up costs —
    # agents registering, the load — falls out of the second).
    wal_of() {
      local trace
      trace=$(mktemp)
      (cd "$(mktemp -d)" && strace -f -y -e trace=fsync,fdatasync -o "$trace" \
        "$OLDPWD/target/release/swarm-bench" --shape chain --tasks "$1" >/dev/null)
      grep -c 'swarmd.db-wal>' "$trace" || true
      rm -f "$trace"
    }
    wal=$(wal_of 300)
    wal1k=$(wal_of 1000)
    echo "{\"shape\":\"chain_fsync\",\"hops\":300,\"wal_fsyncs\":$wal,\"fsyncs_per_hop\":$(python3 -c "print(round($wal/300, 3))"),\"fsyncs_per_added_hop\":$(python3 -c "print(round(($wal1k-$wal)/700, 3))")}" | tee -a "$out"
  fi
  if [ "$scale" = "--scale" ]; then
    ./target/release/swarm-bench --shape wide --tasks 1000000 --slots 64 | sed 's/"shape":"wide"/"shape":"wide1m"/' | tee -a "$out"
    ./target/release/swarm-bench --agents 10000 --idle 30s | sed 's/"shape":"idle"/"shape":"idle10k"/' | tee -a "$out"
  fi
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for shape in ("wide", "chain", "chain_fsync", "disk", "idle", "wide1m", "idle10k"):
    group = [r for r in rows if r["shape"] == shape]
    if not group:
        continue
    keys = [k for k, v in group[0].items() if isinstance(v, (int, float))]
    print(json.dumps({"shape": shape, "runs": len(group), "median": {k: statistics.median(r[k] for r in group) for k in keys}}))
PY
