"""The long fuzz run (``make fuzz``): N cases or T minutes, a summary, and the findings in a file.

Usage:
    python tests/fuzz/fuzz_main.py --cases 5000 --minutes 15 --seed 1 --out build/fuzz-findings.jsonl
    python tests/fuzz/fuzz_main.py --replay 1000042      # one case, shown in full

Case ``i`` of a run with ``--seed S`` has the seed ``S * 1_000_000 + i``; ``--replay`` takes that
number and runs exactly the same query on the same sources with the same split.
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fuzz_mutate import Case, make_case
from fuzz_run import FINDINGS, OUTCOMES, Outcome, as_record, classify
from fuzz_seeds import seed_templates
from fuzz_world import World, world

import piot


def case_seed(run_seed: int, index: int) -> int:
    """The seed of case ``index`` in a run seeded ``run_seed``.

    >>> case_seed(3, 17)
    3000017
    """
    return run_seed * 1_000_000 + index


class Connections:
    """One piot connection per split, opened on first use."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cache: dict[str, piot.Connection] = {}

    def __call__(self, case: Case) -> piot.Connection:
        unit = case.time_unit
        if unit not in self.cache:
            split = unit != "unsplit"
            self.cache[unit] = piot.connect(self.world.catalog, split=split, time_unit=unit if split else None)
        return self.cache[unit]


@contextmanager
def local_ray() -> Iterator[None]:
    """A local Ray of two CPUs for the run (an already running one is used as it is)."""
    import ray

    started = not ray.is_initialized()
    if started:
        _ray_init()
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def warm_up(connections: Connections) -> None:
    """One plain query per source, so that starting Ray's workers is not counted in the first case's deadline."""
    for kind in ("sqlite", "postgres", "mysql"):
        case = Case(0, "SELECT COUNT(*) AS n FROM {trades}", "", (), kind, kind, "unsplit")
        connections(case).cursor().execute(case.render(connections.world.names(kind, kind))).fetchall()


def _ray_init(attempts: int = 6) -> None:
    """Start a local Ray of two CPUs; on a loaded machine its start may time out, so try again."""
    import ray

    for attempt in range(attempts):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
            return
        except Exception:
            ray.shutdown()
            if attempt == attempts - 1:
                raise
            time.sleep(10)


def settle(seconds: float = 180.0) -> None:
    """After a hang, let the abandoned case end (cancel() stops it at its next check) before the next case.

    Its Ray tasks still in flight would otherwise hold the two CPUs and make the next cases
    look hung too. A case that does not end in ``seconds`` is left running, with a warning.
    """
    for thread in [t for t in threading.enumerate() if t.name == "fuzz-case"]:
        thread.join(seconds)
        if thread.is_alive():
            print(f"  an abandoned case still runs after {seconds:.0f} s", file=sys.stderr)


def _summary(outcomes: list[Outcome], elapsed: float) -> str:
    counts = collections.Counter(o.status for o in outcomes)
    errors = collections.Counter(o.error_class for o in outcomes if o.error_class)
    lines = [f"cases: {len(outcomes)} in {elapsed:.0f} s ({len(outcomes) / max(elapsed, 1e-9):.2f} cases/s)"]
    lines.append("outcomes: " + ", ".join(f"{name} {counts[name]}" for name in OUTCOMES if counts[name]))
    lines.append("piot errors by class: " + (", ".join(f"{k} {v}" for k, v in errors.most_common()) or "none"))
    findings = [o for o in outcomes if o.finding]
    lines.append(f"findings: {len(findings)} (" + ", ".join(f"{name} {counts[name]}" for name in FINDINGS) + ")")
    groups: dict[str, list[Outcome]] = collections.defaultdict(list)
    from fuzz_run import signature

    for outcome in findings:
        groups[signature(outcome)].append(outcome)
    for key, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {len(items):4d} x {key}  (seed {items[0].case.seed})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="how many cases (default 1000)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    parser.add_argument("--start", type=int, default=0, help="the first case index")
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds before a case counts as a hang")
    parser.add_argument("--out", type=Path, default=Path("build/fuzz-findings.jsonl"), help="where the findings are written")
    parser.add_argument("--replay", type=int, nargs="*", default=None, help="case seeds to run and show in full")
    parser.add_argument("--verbose", action="store_true", help="print every case's outcome")
    parser.add_argument("--record-all", action="store_true", help="write every outcome to --out, not only the findings")
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints every thread's stack: where a run is stuck
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still drops its databases and its Ray
    seeds = seed_templates()
    with world() as w, local_ray():
        connect = Connections(w)
        if args.replay:
            for seed in args.replay:
                outcome = classify(make_case(seed, seeds), w, connect, args.deadline)
                print(json.dumps(as_record(outcome, w), indent=2, ensure_ascii=False))
            return 0
        warm_up(connect)
        outcomes: list[Outcome] = []
        start = time.monotonic()
        stop_at = start + args.minutes * 60 if args.minutes else None
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as findings:
            for index in range(args.start, args.start + args.cases):
                if stop_at is not None and time.monotonic() > stop_at:
                    break
                outcome = classify(make_case(case_seed(args.seed, index), seeds), w, connect, args.deadline)
                outcomes.append(outcome)
                if args.verbose:
                    print(f"  {outcome.case.seed} {outcome.status} {outcome.seconds:.1f}s {outcome.piot[:100]}", file=sys.stderr)
                if outcome.finding or args.record_all:
                    findings.write(json.dumps(as_record(outcome, w), ensure_ascii=False) + "\n")
                    findings.flush()
                if outcome.finding:
                    print(f"  {outcome.status}: seed {outcome.case.seed}: {outcome.piot[:120]}", file=sys.stderr)
                    if outcome.status == "hang":
                        settle()
                if len(outcomes) % 100 == 0:
                    print(f"  {len(outcomes)} cases, {sum(o.finding for o in outcomes)} findings", file=sys.stderr)
        print(_summary(outcomes, time.monotonic() - start))
        print(f"findings written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
