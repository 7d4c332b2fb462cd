"""The schedule-quality benchmark of issue 15.

For seeded random role-constrained DAGs of several sizes (equal and random
priorities) and for the seed plan, compares three makespans: the real
placement policy (`swarmctl plan simulate --json`), first-in-first-out list
scheduling (the naive baseline), and the optimum proven by OR-Tools CP-SAT.
Prints, per size, the mean and worst ratio to the optimum and how many
instances the policy scheduled optimally.
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile

from ortools.sat.python import cp_model

ROLES = ["devops", "security", "sre", "performance", "backend", "database"]
SIZES = [8, 16, 24, 32, 40]
MINUTE = 60


def generate(n, seed, equal):
    """One instance: tasks (roles, minutes, deps, priority) and agents per role."""
    rng = random.Random(f"{n}-{seed}")
    roles = rng.sample(ROLES, rng.randint(4, 6))
    agents = {r: rng.randint(1, 2) for r in roles}
    tasks = []
    for i in range(n):
        need = [rng.choice(roles)]
        if rng.random() < 0.15:
            need.append(rng.choice([r for r in roles if r != need[0]]))
        k = min(i, rng.choice([0, 1, 1, 2, 2, 3]))
        deps = sorted(rng.sample(range(i), k))
        prio = 1 if equal else rng.randint(0, 2)
        tasks.append({"roles": need, "minutes": rng.randint(1, 4) * 60, "deps": deps, "priority": prio})
    return {"tasks": tasks, "agents": agents}


def toml_plan(inst):
    out = ['name = "schedule-bench"\n']
    for i, t in enumerate(inst["tasks"]):
        deps = ", ".join(f'"1.{d + 1}"' for d in t["deps"])
        out.append(
            f'[[task]]\nid = "1.{i + 1}"\ntitle = "t{i + 1}"\nagent = "{" + ".join(t["roles"])}"\n'
            f'priority = "P{t["priority"]}"\nduration = "{t["minutes"]} minutes"\ndepends_on = [{deps}]\n'
        )
    return "\n".join(out)


def agents_flag(agents):
    return ",".join(f"{r}={n}" for r, n in sorted(agents.items()))


def policy_makespan(swarmctl, path, agents, extra):
    run = subprocess.run(
        [swarmctl, "plan", "simulate", path, "--agents", agents_flag(agents), "--json", *extra],
        capture_output=True, text=True,
    )
    if run.returncode != 0:
        sys.exit(f"swarmctl plan simulate {path} failed ({run.returncode}): {run.stderr}")
    return round(json.loads(run.stdout)["makespan_hours"] * 60)


def take(free, roles):
    """Takes agents for these roles (`any`: the roles with most free agents)
    from `free`; returns the roles taken, or None when they are not free."""
    trial = dict(free)
    taken = []
    for r in sorted(roles, key=lambda r: r == "any"):
        if r == "any":
            r = max(trial, key=lambda k: trial[k])
        if trial.get(r, 0) == 0:
            return None
        trial[r] -= 1
        taken.append(r)
    free.update(trial)
    return taken


def fifo_makespan(inst):
    """List scheduling: ready tasks in the order they became ready, each
    started as soon as its roles have free agents; no reservations."""
    tasks, free = inst["tasks"], dict(inst["agents"])
    missing = [len(t["deps"]) for t in tasks]
    dependents = [[] for _ in tasks]
    for i, t in enumerate(tasks):
        for d in t["deps"]:
            dependents[d].append(i)
    queue = [i for i, m in enumerate(missing) if m == 0]
    running, now, done, end = [], 0, 0, 0
    while done < len(tasks):
        left = []
        for i in queue:
            taken = take(free, tasks[i]["roles"])
            if taken is not None:
                running.append((now + tasks[i]["minutes"], i, taken))
            else:
                left.append(i)
        queue = left
        running.sort()
        now = running[0][0]
        while running and running[0][0] == now:
            _, i, taken = running.pop(0)
            done += 1
            end = max(end, now)
            for r in taken:
                free[r] += 1
            for d in dependents[i]:
                missing[d] -= 1
                if missing[d] == 0:
                    queue.append(d)
    return end


def optimum(inst, limit):
    """Proven optimal makespan in minutes (agent-level model: a task needs
    a count of agents per role, or of any role; each agent one task at a
    time). Returns (makespan, proven)."""
    model = cp_model.CpModel()
    agents = [r for r, n in sorted(inst["agents"].items()) for _ in range(n)]
    horizon = sum(t["minutes"] for t in inst["tasks"])
    start, end, per_agent = [], [], [[] for _ in agents]
    for i, t in enumerate(inst["tasks"]):
        s = model.NewIntVar(0, horizon, f"s{i}")
        e = model.NewIntVar(0, horizon, f"e{i}")
        model.Add(e == s + t["minutes"])
        start.append(s)
        end.append(e)
        want = {}
        for r in t["roles"]:
            want[r] = want.get(r, 0) + 1
        chosen = {}
        for a, role in enumerate(agents):
            if role in want or "any" in want:
                x = model.NewBoolVar(f"x{i}_{a}")
                iv = model.NewOptionalIntervalVar(s, t["minutes"], e, x, f"iv{i}_{a}")
                per_agent[a].append(iv)
                chosen[a] = (role, x)
        for r, c in want.items():
            if r == "any":
                continue
            model.Add(sum(x for role, x in chosen.values() if role == r) == c)
        model.Add(sum(x for _, x in chosen.values()) == sum(want.values()))
    for ivs in per_agent:
        model.AddNoOverlap(ivs)
    for i, t in enumerate(inst["tasks"]):
        for d in t["deps"]:
            model.Add(start[i] >= end[d])
    mk = model.NewIntVar(0, horizon, "makespan")
    model.AddMaxEquality(mk, end)
    model.Minimize(mk)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = 2
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        sys.exit("CP-SAT found no schedule")
    return int(solver.ObjectiveValue()), status == cp_model.OPTIMAL


def seed_instance(swarmctl, path, agents):
    run = subprocess.run([swarmctl, "plan", "show", path, "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"swarmctl plan show {path} failed: {run.stderr}")
    shown = json.loads(run.stdout)
    ids = {t["id"]: i for i, t in enumerate(shown["tasks"])}
    tasks = []
    for t in shown["tasks"]:
        tasks.append({
            "roles": t["roles"],
            "minutes": round(t["duration_hours"] * 60),
            "deps": [ids[d] for d in t["depends_on"]],
            "priority": int(t["priority"].lstrip("P")),
        })
    return {"tasks": tasks, "agents": agents}


def cached_optimum(cache, inst, limit):
    key = hashlib.sha256(json.dumps(inst, sort_keys=True).encode()).hexdigest()
    if key not in cache:
        cache[key] = optimum(inst, limit)
    return tuple(cache[key])


def slipped(inst, seed, sigma):
    """The instance with the durations its tasks really take: each planned
    duration times a log-normal factor (median 1, this sigma), rounded to
    whole hours, at least 1."""
    rng = random.Random(f"slip-{sigma}-{seed}")
    out = json.loads(json.dumps(inst))
    for t in out["tasks"]:
        hours = t["minutes"] / 60 * rng.lognormvariate(0.0, sigma)
        t["minutes"] = max(1, round(hours)) * 60
    return out


def replayed_makespan(swarmctl, path, agents, actual, tmp, extra):
    """The makespan the policy realizes when tasks take `actual`'s times
    and it learns each only when the task ends."""
    file = os.path.join(tmp, "actual.json")
    with open(file, "w") as f:
        json.dump({f"1.{i + 1}": t["minutes"] / 60 for i, t in enumerate(actual["tasks"])}, f)
    return policy_makespan(swarmctl, path, agents, ["--actual", file, *extra])


def slip_table(args, cache, sigmas, tmp):
    """Realized makespan under slipping durations against the optimum
    with hindsight (every actual duration known, priorities ignored)."""
    print("| sigma | tasks | n | realized/hindsight mean | worst | plan-blind FIFO mean | tasks off plan | unproven |")
    print("|---|---|---|---|---|---|---|---|")
    n = 24
    for sigma in sigmas:
        ratios, fifo, off, unproven = [], [], 0, 0
        for seed in range(args.per_size):
            inst = generate(n, seed, True)
            actual = slipped(inst, seed, sigma)
            off += sum(a["minutes"] != p["minutes"] for a, p in zip(actual["tasks"], inst["tasks"]))
            path = os.path.join(tmp, "plan.toml")
            with open(path, "w") as f:
                f.write(toml_plan(inst))
            best, proven = cached_optimum(cache, actual, args.limit)
            unproven += not proven
            got = replayed_makespan(args.swarmctl, path, inst["agents"], actual, tmp, args.simulate_flag)
            ratios.append(got / best)
            fifo.append(fifo_makespan(actual) / best)
        json.dump(cache, open(args.cache, "w"))
        print(f"| {sigma} | {n} | {len(ratios)} | {sum(ratios) / len(ratios):.3f} | {max(ratios):.3f} | "
              f"{sum(fifo) / len(fifo):.3f} | {off / (n * len(ratios)):.0%} | {unproven} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swarmctl", required=True)
    ap.add_argument("--per-size", type=int, default=100)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--limit", type=float, default=60.0, help="CP-SAT seconds per instance")
    ap.add_argument("--seed-plan", default="examples/plan-a-execution-timeline.md")
    ap.add_argument("--simulate-flag", action="append", default=[],
                    help="extra flag for swarmctl plan simulate (repeatable)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)),
                    help="comma-separated task counts (default: all)")
    ap.add_argument("--priorities", choices=["both", "equal", "random"], default="both")
    ap.add_argument("--no-seed", action="store_true", help="skip the seed plan")
    ap.add_argument("--slip", default="",
                    help="comma-separated sigmas: instead, replay 24-task DAGs whose durations "
                         "slip (log-normal, whole hours) against the optimum with hindsight")
    args = ap.parse_args()
    if args.slip:
        cache = json.load(open(args.cache)) if os.path.exists(args.cache) else {}
        with tempfile.TemporaryDirectory() as tmp:
            slip_table(args, cache, [float(x) for x in args.slip.split(",")], tmp)
        return
    sizes = [int(x) for x in args.sizes.split(",")]
    kinds = {"both": (True, False), "equal": (True,), "random": (False,)}[args.priorities]
    cache = json.load(open(args.cache)) if os.path.exists(args.cache) else {}
    extra = args.simulate_flag
    print(f"| priorities | tasks | n | policy mean | policy worst | FIFO mean | FIFO worst | policy optimal | unproven |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for equal in kinds:
            for n in sizes:
                pol, fifo, hits, unproven = [], [], 0, 0
                for seed in range(args.per_size):
                    inst = generate(n, seed, equal)
                    path = os.path.join(tmp, "plan.toml")
                    with open(path, "w") as f:
                        f.write(toml_plan(inst))
                    best, proven = cached_optimum(cache, inst, args.limit)
                    unproven += not proven
                    got = policy_makespan(args.swarmctl, path, inst["agents"], extra)
                    pol.append(got / best)
                    fifo.append(fifo_makespan(inst) / best)
                    hits += got == best
                json.dump(cache, open(args.cache, "w"))
                label = "equal" if equal else "random"
                print(f"| {label} | {n} | {len(pol)} | {sum(pol) / len(pol):.3f} | {max(pol):.3f} | "
                      f"{sum(fifo) / len(fifo):.3f} | {max(fifo):.3f} | {hits} | {unproven} |", flush=True)
        if args.no_seed:
            return
        agents = {"devops": 2, "security": 2}
        for r in ["sre", "performance", "backend", "database", "data-engineer", "coder",
                  "reviewer", "tester", "qa", "writer", "architect"]:
            agents[r] = 1
        seed = seed_instance(args.swarmctl, args.seed_plan, agents)
        best, proven = cached_optimum(cache, seed, 600)
        got = policy_makespan(args.swarmctl, args.seed_plan, agents, extra)
        json.dump(cache, open(args.cache, "w"))
        print(f"\nseed, one agent per role (two DevOps, two Security): policy {got / 60:g} h, "
              f"FIFO {fifo_makespan(seed) / 60:g} h, optimum {best / 60:g} h "
              f"({'proven' if proven else 'best found'}), policy/optimum {got / best:.3f}")


if __name__ == "__main__":
    main()
