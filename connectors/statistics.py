"""Run the planner's statistics queries on the sources, once per connection and statement.

The planner builds each query (see :mod:`piot.plan.statistics`); this cache reads its first row
with connectorx. Answers are hints for where to cut periods, never a condition on rows, so
a stale one costs only balance and a failing one is simply not used.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from piot.connectors.catalog import Source
from piot.connectors.read import read_arrow
from piot.errors import OperationalError

#: statistics answers kept per connection (least recently used dropped first).
MAX_CACHED = 256


class StatisticsCache:
    """The answers of statistics queries, per connection."""

    def __init__(self) -> None:
        self._answers: OrderedDict[tuple[str, str], tuple[object, object] | None] = OrderedDict()
        self._lock = threading.Lock()

    def first_row(self, source: Source, sql: str) -> tuple[object, object] | None:
        """The two values of the first row of ``sql`` on ``source``; None if the source could not answer."""
        key = (source.name, sql)
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        try:
            table = read_arrow(source, sql)
            row = tuple(_value(table.column(i)) for i in range(2)) if table.num_rows and table.num_columns >= 2 else None
        except OperationalError:
            return None  # a hint only: the query reads the whole range without it (and asks again next time)
        answer = (row[0], row[1]) if row is not None else None
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > MAX_CACHED:
                self._answers.popitem(last=False)
        return answer


def _value(column: object) -> object:
    try:
        return column[0].as_py()  # type: ignore[index]
    except (ValueError, OverflowError, TypeError):
        return None  # a value Python cannot hold (a date past year 9999)
