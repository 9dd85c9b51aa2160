"""Running every contender over a family of queries, one process each, and checking their answers."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from harness.child_process import Outcome, run_child
from harness.compare import comparable, difference
from harness.contenders import REFERENCES, Contender, label
from harness.environments import Interpreter
from harness.jobs import job, tpch_job_query, trades_job_query
from harness.queries import TpchQuery, TradesQuery
from harness.report import Results


@dataclass(frozen=True)
class Settings:
    """How every contender process runs."""

    repeat: int
    num_cpus: int
    query_timeout: float
    work_dir: Path  # answers and logs go under it
    interpreters: dict[str, Interpreter]
    odbc: tuple[dict[str, str], str] | str  # (environment, connection string), or why there is none
    keep_answers: bool = False  # keep the Arrow files of the answers once compared


def _unavailable(contender: Contender, settings: Settings) -> str | None:
    """Why ``contender`` cannot run here, or None."""
    interpreter = settings.interpreters.get(contender.venv)
    if interpreter is None or interpreter.python is None:
        return f"not installed here: {interpreter.problem if interpreter else 'no interpreter'}"
    if contender.venv == "pit" and isinstance(settings.odbc, str):
        return f"no ODBC here: {settings.odbc}"
    return None


def _run(
    contender: Contender, kind: str, queries: list[dict], settings: Settings, step: str, **options: object
) -> dict[str, Outcome]:
    """One contender's process over ``queries``; an outcome per query."""
    problem = _unavailable(contender, settings)
    if problem is not None:
        print(f"{step} {label(contender, kind)}: {problem}", file=sys.stderr, flush=True)
        return {q["name"]: Outcome(error=problem) for q in queries}
    interpreter = settings.interpreters[contender.venv].python
    assert interpreter is not None
    env = settings.odbc[0] if contender.venv == "pit" and not isinstance(settings.odbc, str) else {}
    out_dir = settings.work_dir / "answers" / f"{queries[0]['family']}-{kind}" / contender.key
    the_job = job(contender, queries, settings.repeat, out_dir, settings.num_cpus, **options)
    log = settings.work_dir / "logs" / f"{queries[0]['family']}-{kind}-{contender.key}.log"
    print(f"{step} {label(contender, kind)}: {len(queries)} queries ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    outcomes = run_child(interpreter, the_job, env, log, settings.query_timeout)
    failed = sum(1 for o in outcomes.values() if o.error)
    note = f", {failed} failed (see {log})" if failed else ""
    print(f"{step}   done in {time.perf_counter() - started:.0f} s{note}", file=sys.stderr, flush=True)
    return outcomes


def _merge(results: Results, key: str, outcomes: dict[str, Outcome]) -> None:
    for name, outcome in outcomes.items():
        results.setdefault(name, {})[key] = outcome


def run_trades(
    queries: list[TradesQuery], kind: str, url: str, table: str, contenders: list[Contender], settings: Settings, step: str
) -> Results:
    """Every contender that reads ``kind`` over the trades queries on that database."""
    results: Results = {q.name: {} for q in queries}
    odbc = settings.odbc[1] if not isinstance(settings.odbc, str) else None
    for contender in contenders:
        if kind in contender.kinds and "trades" in contender.families:
            job_queries = [trades_job_query(q, kind, url, table, contender.key, odbc) for q in queries]
            _merge(results, contender.key, _run(contender, kind, job_queries, settings, step))
    check_answers(results, REFERENCES["trades"])
    _forget_answers(settings, f"trades-{kind}")
    return results


def run_tpch(
    queries: list[TpchQuery], url: str, schema: str, parquet: Path, contenders: list[Contender], settings: Settings, step: str
) -> Results:
    """Every TPC-H contender over ``queries`` (PostgreSQL's schema ``schema``; DuckDB reads ``parquet``)."""
    results: Results = {q.name: {} for q in queries}
    files = {path.stem: str(path) for path in sorted(parquet.glob("*.parquet"))}
    for contender in contenders:
        if "tpch" in contender.families:
            job_queries = [tpch_job_query(q, url, schema, contender.key) for q in queries]
            options = {"parquet": files} if contender.key == "duckdb" else {}
            _merge(results, contender.key, _run(contender, "postgres", job_queries, settings, step, **options))
    check_answers(results, REFERENCES["tpch"])
    _forget_answers(settings, "tpch-postgres")
    return results


def _forget_answers(settings: Settings, family_kind: str) -> None:
    """Remove the compared answers (a 24-month scan is gigabytes across contenders) unless asked to keep them."""
    if not settings.keep_answers:
        shutil.rmtree(settings.work_dir / "answers" / family_kind, ignore_errors=True)


def check_answers(results: Results, preference: tuple[str, ...]) -> None:
    """Compare every answer of each query with the first contender in ``preference`` that has one."""
    for name, outcomes in results.items():
        reference_key = next((k for k in preference if k in outcomes and outcomes[k].answer is not None), None)
        if reference_key is None:
            continue
        reference = pl.read_ipc(outcomes[reference_key].answer)
        prepared = comparable(reference)
        outcomes[reference_key].compared = True
        for key, outcome in outcomes.items():
            if key == reference_key or outcome.answer is None:
                continue
            answer = pl.read_ipc(outcome.answer)
            outcome.difference = difference(answer, reference, prepared=prepared)
            outcome.compared = True
            if outcome.difference:
                print(f"!! ANSWER DIFFERS: {name}, {key}: {outcome.difference} (reference: {reference_key})", file=sys.stderr)
            del answer
        del reference, prepared
