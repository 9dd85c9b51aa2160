"""Run one fuzzed case through piot (under a deadline) and the oracle, and say how it ended.

Outcomes that are fine: ``equal`` (the oracle's answer, compared after sorting, values only:
unnamed columns are named differently by design), ``undetermined`` (same row count, but the
query's answer depends on row order: LIMIT, ROW_NUMBER, string_agg ...), ``both_raise``,
``refused`` (a piot error where PostgreSQL answers: a construct piot does not support),
``lenient`` (piot answers where PostgreSQL refuses the text or the types, or divides by zero,
which piot documents as NULL) and ``oracle_timeout`` (PostgreSQL could not answer within its
timeout either: nothing to compare, piot is not run).

Findings: ``wrong_answer``, ``answered_error`` (piot answers where PostgreSQL raises a data,
reference or grouping error), ``internal_error`` (InternalError: a bug by definition),
``source_error`` (OperationalError where PostgreSQL answers: a source refused the SQL piot sent
it), ``non_piot`` (an exception outside the PEP 249 hierarchy, PanicException included),
``hang`` (past the deadline) and ``secret`` (the source password in an error or its chain).
"""

from __future__ import annotations

import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import connectorx
from fuzz_mutate import Case
from fuzz_world import World, corpus

import piot

FINDINGS = ("wrong_answer", "answered_error", "internal_error", "source_error", "non_piot", "hang", "secret")
OUTCOMES = ("equal", "undetermined", "both_raise", "refused", "lenient", "oracle_timeout", "oracle_unusable") + FINDINGS

#: PostgreSQL errors about the text or the types: piot may answer such a query (its parser and
#: the merge's casts are more permissive; an untyped literal beside an interval is a date to
#: piot, an interval to PostgreSQL), or divide by zero (documented to give NULL)
_LENIENT = re.compile(
    r"syntax error|unterminated|operator does not exist|division by zero|could not determine|argument of .* must be type"
    r"|cannot cast type|but expression is of type|types .* cannot be matched|is not unique|non-integer constant"
    r"|position \d+ is not in select list|subquery in FROM must have an alias|must be type boolean|zero-length delimited"
    r"|trailing junk|invalid hexadecimal|cannot be matched|invalid input syntax for type interval|parameterless aggregate",
    re.IGNORECASE,
)
#: PostgreSQL could not answer for reasons of its own: nothing to compare with
_ORACLE_UNUSABLE = re.compile(r"not supported|unsupported|Unknown type|cannot convert|ColumnNotFound|not implemented", re.IGNORECASE)
_TIMEOUT = re.compile(r"statement timeout|canceling statement", re.IGNORECASE)
_ORDER_DEPENDENT = re.compile(
    r"\b(LIMIT|OFFSET|FETCH|ROW_NUMBER|RANK|DENSE_RANK|PERCENT_RANK|CUME_DIST|NTILE|LAG|LEAD|FIRST_VALUE|LAST_VALUE|NTH_VALUE"
    r"|STRING_AGG|ARRAY_AGG|GROUP_CONCAT|DISTINCT\s+ON|random|now|current_timestamp|localtimestamp|current_time)\b",
    re.IGNORECASE,
)


def _lenient(oracle_error: str, origin: str) -> bool:
    """Whether PostgreSQL refused only the text or the types, not what the query means.

    A function PostgreSQL does not know with these argument types counts when the valid
    template already called it (a mutation changed an argument), not when a mutation put it
    there (``read_csv``, ``load_file``: piot must refuse those too).

    >>> _lenient("ERROR: function lead(date, bigint) does not exist", "SELECT LEAD(d, 2) OVER () FROM t")
    True
    >>> _lenient("ERROR: function read_csv(unknown) does not exist", "SELECT * FROM t")
    False
    """
    called = re.search(r"function ([\w.]+)\(", oracle_error)
    if called and "does not exist" in oracle_error:
        return re.search(rf"\b{re.escape(called.group(1).split('.')[-1])}\s*\(", origin, re.IGNORECASE) is not None
    return _LENIENT.search(oracle_error) is not None


@dataclass(frozen=True)
class Outcome:
    """How one case ended.

    Attributes:
        case: the case.
        status: one of :data:`OUTCOMES`.
        piot: what piot did: ``N rows``, or the error class and message.
        oracle: what PostgreSQL did.
        seconds: piot's wall time.
        detail: the differences, for a wrong answer.
    """

    case: Case
    status: str
    piot: str
    oracle: str
    seconds: float
    detail: str = ""
    error_class: str = ""

    @property
    def finding(self) -> bool:
        """Whether this outcome is a bug."""
        return self.status in FINDINGS


@dataclass
class _Attempt:
    answer: corpus.Answer | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _oracle(world: World, sql: str) -> tuple[corpus.Answer | None, str]:
    try:
        return corpus.answer_from_arrow(connectorx.read_sql(world.oracle_url, sql, return_type="arrow")), ""
    except BaseException as e:  # noqa: BLE001 - connectorx may panic; a KeyboardInterrupt still stops below
        if isinstance(e, KeyboardInterrupt):
            raise
        return None, " ".join(str(e).split())[:300] or type(e).__name__


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [item.__cause__, item.__context__]
    return seen


def _leaks(error: BaseException, secrets: tuple[str, ...]) -> bool:
    texts = [" ".join(traceback.format_exception(error))]
    texts += [f"{e!s} {e!r} {getattr(e, 'args', '')!r}" for e in _chain(error)]
    return any(secret in text for secret in secrets for text in texts)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"


def run_piot(connection: piot.Connection, sql: str, deadline: float, grace: float = 10.0) -> tuple[_Attempt, float, bool]:
    """Run ``sql`` in a thread; after ``deadline`` seconds cancel it. Returns (attempt, seconds, hung)."""
    attempt = _Attempt()
    cursor = connection.cursor()

    def work() -> None:
        try:
            cursor.execute(sql)
            attempt.answer = corpus.answer_from_arrow(cursor.fetch_arrow())
        except BaseException as e:  # noqa: BLE001 - PanicException is a BaseException: record everything
            attempt.error = e
        finally:
            attempt.done.set()

    start = time.monotonic()
    thread = threading.Thread(target=work, name="fuzz-case", daemon=True)
    thread.start()
    if attempt.done.wait(deadline):
        return attempt, time.monotonic() - start, False
    cursor.cancel()
    attempt.done.wait(grace)
    return attempt, time.monotonic() - start, True


def _positional(answer: corpus.Answer) -> corpus.Answer:
    return corpus.Answer(tuple(str(i) for i in range(len(answer.columns))), answer.rows)


def classify(
    case: Case,
    world: World,
    connect: Callable[[Case], piot.Connection],
    deadline: float,
) -> Outcome:
    """Run ``case`` on the oracle, then on piot, and classify what happened."""
    sql = case.render(world.names(case.trades_kind, case.symbols_kind))
    oracle_sql = case.render(world.oracle_names())
    expected, oracle_error = _oracle(world, oracle_sql)
    oracle_text = f"{len(expected.rows)} rows" if expected is not None else f"error: {oracle_error}"
    if expected is None and _TIMEOUT.search(oracle_error):
        return Outcome(case, "oracle_timeout", "not run", oracle_text, 0.0)
    attempt, seconds, hung = run_piot(connect(case), sql, deadline)

    def out(status: str, piot_text: str, detail: str = "", error_class: str = "") -> Outcome:
        return Outcome(case, status, piot_text, oracle_text, seconds, detail, error_class)

    if hung:
        state = "stopped after cancel()" if attempt.done.is_set() else "still running after cancel()"
        return out("hang", f"no answer after {deadline:.0f} s ({state})")
    error = attempt.error
    if error is not None:
        described = _describe(error)
        name = type(error).__name__
        if _leaks(error, world.secrets):
            return out("secret", described, error_class=name)
        if not isinstance(error, piot.Error):
            return out("non_piot", described, error_class=name)
        if isinstance(error, piot.InternalError):
            return out("internal_error", described, error_class=name)
        if expected is None:
            return out("both_raise", described, error_class=name)
        if isinstance(error, piot.OperationalError):
            return out("source_error", described, error_class=name)
        return out("refused", described, error_class=name)
    answer = attempt.answer
    assert answer is not None
    piot_text = f"{len(answer.rows)} rows"
    if expected is None:
        if _ORACLE_UNUSABLE.search(oracle_error):
            return out("oracle_unusable", piot_text)
        return out("lenient" if _lenient(oracle_error, case.origin) else "answered_error", piot_text)
    problems = corpus.differences(_positional(answer), _positional(expected))
    if not problems:
        return out("equal", piot_text)
    if _ORDER_DEPENDENT.search(case.template) and len(answer.rows) == len(expected.rows) and len(answer.columns) == len(expected.columns):
        return out("undetermined", piot_text)
    return out("wrong_answer", piot_text, "; ".join(problems)[:600])


def signature(outcome: Outcome) -> str:
    """A key that groups outcomes with the same cause: the status and the message without its specifics.

    >>> from fuzz_mutate import Case
    >>> case = Case(1, "", "", (), "sqlite", "sqlite", "monthly")
    >>> signature(Outcome(case, "internal_error", "InternalError: bad 'x' at 12", "1 rows", 0.1))
    "internal_error InternalError: bad '…' at N"
    """
    text = outcome.piot if outcome.status != "answered_error" else outcome.oracle
    if outcome.status in ("wrong_answer", "hang"):
        text = "+".join(outcome.case.mutations) or "unmutated"
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return f"{outcome.status} {text[:160]}"


def as_record(outcome: Outcome, world: World) -> dict[str, Any]:
    """The outcome as a JSON-able record, with both queries as run."""
    case = outcome.case
    return {
        "seed": case.seed,
        "status": outcome.status,
        "signature": signature(outcome),
        "mutations": list(case.mutations),
        "trades_kind": case.trades_kind,
        "symbols_kind": case.symbols_kind,
        "time_unit": case.time_unit,
        "piot_sql": case.render(world.names(case.trades_kind, case.symbols_kind)),
        "oracle_sql": case.render(world.oracle_names()),
        "piot": outcome.piot,
        "oracle": outcome.oracle,
        "detail": outcome.detail,
        "seconds": round(outcome.seconds, 3),
    }
