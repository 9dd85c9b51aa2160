"""Fragment text written once per scan: the tree rendered with placeholders, each period's window written into it.

The fragments of one scan differ only in their window on the split column (and in the
values of an IN list on that column). Rendering a sqlglot tree per fragment costs about a
millisecond; a ten-year daily split has 3,653 fragments. So a scan's tree is built once with
a placeholder identifier where the window goes, rendered once, and each period's text is
written where the placeholder was.

The window's text still comes from sqlglot: a window over sample edges is rendered once per
shape (which edges are inclusive, whether they are instants) and split where the sample's
edge texts are; each period's edge texts (:func:`edge_texts`) are written into the gaps. They
are produced by the functions that write them into the tree (``literal_text``, ``day_text``),
from datetimes the planner made, never from user text.

A placeholder is an identifier with a random token in its name. A rendering that does not
hold each placeholder exactly once (the user's SQL happened to hold one), or a shape whose
sample edges are not found exactly once, is not used: the caller writes those fragments from
their own trees.

Example:
    >>> from datetime import datetime as d
    >>> from piot.plan.periods import Edge
    >>> slots = Slots()
    >>> window = slots.new()
    >>> select = exp.select("x").from_("t").where(exp.and_(exp.Paren(this=window), "y > 1"))
    >>> writer = TextWithSlots.split(*write_tree(select, "mysql"), slots.marks("mysql"))
    >>> period = Period(Edge(d(2024, 1, 1), True), Edge(d(2024, 1, 1, 12), False))
    >>> writer.fill([source_window("ts", period, "mysql", is_date=False)])
    "SELECT x FROM t WHERE (`ts` >= CAST('2024-01-01 00:00:00' AS DATETIME(6)) AND `ts` < CAST('2024-01-01 12:00:00' AS DATETIME(6))) AND y > 1"
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp

from piot.plan.fragments import UTC_SESSION, in_list_picks, text_window, window_condition, write_tree
from piot.plan.periods import Edge, Period
from piot.plan.pushdown import day_text
from piot.sql.timefold import literal_text
from piot.sql.zones import UTC

#: a slot's text for one period, and whether a MySQL source must read it in a UTC session
Filled = tuple[str, bool]

#: the sample edges a window shape is rendered with: distinct texts, not midnights, with microseconds
_SAMPLE_START = dt.datetime(1987, 6, 5, 4, 3, 2, 123456)
_SAMPLE_END = dt.datetime(2345, 6, 7, 8, 9, 10, 654321)


class Slots:
    """Placeholders of one template: quoted identifiers named with a random token, never found in user text by chance."""

    def __init__(self) -> None:
        self._prefix = f"__piot_slot_{secrets.token_hex(8)}_"
        self._names: list[str] = []

    def new(self) -> exp.Column:
        """A new placeholder, to stand where a slot's text goes."""
        self._names.append(f"{self._prefix}{len(self._names)}")
        return exp.column(self._names[-1], quoted=True)

    def marks(self, dialect: str) -> list[str]:
        """Each placeholder as ``dialect`` writes it, in the order they were made."""
        return [exp.column(name, quoted=True).sql(dialect=dialect) for name in self._names]


@dataclass(frozen=True)
class TextWithSlots:
    """A rendered text cut at its placeholders: ``pieces[0] slot pieces[1] slot ... pieces[-1]``.

    Attributes:
        pieces: the text between the placeholders.
        order: which slot fills each gap (slots are numbered as their placeholders were made).
        instants: the text outside the slots holds instants (a MySQL source reads it in a UTC session).
    """

    pieces: tuple[str, ...]
    order: tuple[int, ...]
    instants: bool = False

    @classmethod
    def split(cls, text: str, instants: bool, marks: Sequence[str]) -> TextWithSlots | None:
        """``text`` cut at each of ``marks``; None unless each occurs exactly once.

        >>> TextWithSlots.split("a X b Y c", False, ["Y", "X"])
        TextWithSlots(pieces=('a ', ' b ', ' c'), order=(1, 0), instants=False)
        >>> TextWithSlots.split("a X b X", False, ["X"]) is None
        True
        """
        if any(text.count(mark) != 1 for mark in marks):
            return None
        found = sorted((text.index(mark), slot) for slot, mark in enumerate(marks))
        pieces, start = [], 0
        for position, slot in found:
            pieces.append(text[start:position])
            start = position + len(marks[slot])
        pieces.append(text[start:])
        return cls(tuple(pieces), tuple(slot for _, slot in found), instants)

    def fill(self, slots: Sequence[Filled]) -> str:
        """The text with each slot's own, and the MySQL UTC-session prefix when any part holds instants.

        Only a text split from a MySQL rendering says it holds instants (see :func:`write_tree`).
        """
        parts = [self.pieces[0]]
        for slot, piece in zip(self.order, self.pieces[1:]):
            parts.append(slots[slot][0])
            parts.append(piece)
        instants = self.instants or any(filled[1] for filled in slots)
        return (UTC_SESSION if instants else "") + "".join(parts)


@dataclass(frozen=True)
class WindowShape:
    """A window's text around its two edge texts, and whether it holds instants (MySQL)."""

    before: str
    between: str
    after: str
    instants: bool

    @classmethod
    def find(cls, text: str, instants: bool, start: str, end: str) -> WindowShape | None:
        """``text`` cut at ``start`` and then ``end``; None unless each occurs exactly once, in that order.

        >>> WindowShape.find("d >= 'S' AND d < 'E'", False, "S", "E")
        WindowShape(before="d >= '", between="' AND d < '", after="'", instants=False)
        """
        if text.count(start) != 1 or text.count(end) != 1 or text.index(start) + len(start) > text.index(end):
            return None
        head, _, rest = text.partition(start)
        middle, _, tail = rest.partition(end)
        return cls(head, middle, tail, instants)

    def fill(self, start: str, end: str) -> Filled:
        """The window over these edge texts."""
        return f"{self.before}{start}{self.between}{end}{self.after}", self.instants


def shape_key(period: Period) -> tuple[bool, bool, bool, bool]:
    """What decides a window's text besides its edge values: inclusive edges, and edges that are instants."""
    return period.start.inclusive, period.end.inclusive, period.start.value.tzinfo is not None, period.end.value.tzinfo is not None


def sample_period(key: tuple[bool, bool, bool, bool]) -> Period:
    """A period of the shape ``key`` whose edge texts are distinct and found nowhere else in a window."""
    start_inclusive, end_inclusive, start_aware, end_aware = key
    start = _SAMPLE_START.replace(tzinfo=UTC) if start_aware else _SAMPLE_START
    end = _SAMPLE_END.replace(tzinfo=UTC) if end_aware else _SAMPLE_END
    return Period(Edge(start, start_inclusive), Edge(end, end_inclusive))


def edge_texts(period: Period, *, is_date: bool, text_dates: bool = False, utc_wall: bool = False) -> tuple[str, str]:
    """The texts :func:`~piot.plan.fragments.window_condition` writes for the period's edges.

    ``utc_wall``: instants are written as UTC wall time, as :func:`~piot.plan.fragments.mysql_time_casts`
    rewrites them for MySQL.

    >>> from datetime import datetime as d
    >>> p = Period(Edge(d(2024, 1, 1, 22, tzinfo=UTC), True), Edge(d(2024, 1, 2, 22, tzinfo=UTC), False))
    >>> edge_texts(p, is_date=False), edge_texts(p, is_date=False, utc_wall=True), edge_texts(p, is_date=False, text_dates=True)
    (('2024-01-01 22:00:00+00:00', '2024-01-02 22:00:00+00:00'), ('2024-01-01 22:00:00', '2024-01-02 22:00:00'), ('2023-12-31', '2024-01-04'))
    """
    if text_dates:
        start, end, inclusive = text_window(period)
        return day_text(start, lower=True), day_text(end, lower=False, inclusive=inclusive)
    return _literal(period.start.value, is_date, utc_wall), _literal(period.end.value, is_date, utc_wall)


def _literal(value: dt.datetime, is_date: bool, utc_wall: bool) -> str:
    if utc_wall and value.tzinfo is not None:
        return literal_text(value.astimezone(UTC).replace(tzinfo=None), is_date=False)
    return literal_text(value, is_date=is_date)


def source_window(column: str, period: Period, dialect: str, *, is_date: bool, text_dates: bool = False) -> Filled | None:
    """The text of ``window_condition`` on source column ``column`` as a fragment in ``dialect`` holds it; None if unknown.

    >>> from datetime import datetime as d
    >>> p = Period(Edge(d(2024, 1, 1), True), Edge(d(2024, 1, 2), True))
    >>> source_window("day", p, "postgres", is_date=True)
    ('"day" >= CAST(\\'2024-01-01\\' AS DATE) AND "day" <= CAST(\\'2024-01-02\\' AS DATE)', False)
    """
    if period.start is None or period.end is None:
        return None  # an open-ended period: written from its tree
    shape = _source_shape(column, dialect, is_date, text_dates, shape_key(period))
    if shape is None:
        return None
    return shape.fill(*edge_texts(period, is_date=is_date, text_dates=text_dates, utc_wall=dialect == "mysql"))


@lru_cache(maxsize=512)
def _source_shape(column: str, dialect: str, is_date: bool, text_dates: bool, key: tuple[bool, bool, bool, bool]) -> WindowShape | None:
    sample = sample_period(key)
    condition = window_condition(exp.column(column, quoted=True), sample, is_date=is_date, text_dates=text_dates)
    text, instants = write_tree(condition, dialect)
    return WindowShape.find(text, instants, *edge_texts(sample, is_date=is_date, text_dates=text_dates, utc_wall=dialect == "mysql"))


def window_shape(render: Callable[[Period], str], key: tuple[bool, bool, bool, bool], *, is_date: bool) -> WindowShape | None:
    """The shape of a typed window as ``render`` writes the window of a period (as the exact filter of a fragment writes it)."""
    sample = sample_period(key)
    return WindowShape.find(render(sample), False, *edge_texts(sample, is_date=is_date))


@dataclass(frozen=True)
class InListText:
    """An IN list of times on the split column, written for each period with only the values inside it (see ``in_list_by_period``)."""

    picks: Callable[[Period], list[int] | None]
    items: tuple[Filled, ...]
    shape: TextWithSlots
    whole: Filled
    none: Filled

    @classmethod
    def build(cls, condition: exp.Expression, column: str, kind: str, dialect: str) -> InListText | None:
        """The writer of ``condition`` (over source column ``column`` of type ``kind``); None when it is not such a list.

        >>> import sqlglot
        >>> listed = sqlglot.parse_one("d IN ('2024-02-07', '2024-01-05', '2024-01-31')")
        >>> writer = InListText.build(listed, "d", "DATE", "postgres")
        >>> writer.text(Period(Edge(dt.datetime(2024, 1, 1), True), Edge(dt.datetime(2024, 2, 1), False)))
        ("d IN ('2024-01-05', '2024-01-31')", False)
        """
        picks = in_list_picks(condition, column, kind)
        if picks is None or not condition.expressions or any(node.comments for node in condition.walk()):
            return None
        slots = Slots()
        listed = exp.In(this=condition.this.copy(), expressions=[slots.new(), slots.new()])
        shape = TextWithSlots.split(*write_tree(listed, dialect), slots.marks(dialect))
        if shape is None or shape.order != (0, 1):
            return None
        items = tuple(write_tree(item.copy(), dialect) for item in condition.expressions)
        return cls(picks, items, shape, write_tree(condition.copy(), dialect), write_tree(exp.false(), dialect))

    def text(self, period: Period) -> Filled:
        """The condition's text in the fragment of ``period``."""
        kept = self.picks(period)
        if kept is None:
            return self.whole
        if not kept:
            return self.none
        head, between, tail = self.shape.pieces
        instants = self.shape.instants or any(self.items[i][1] for i in kept)
        return head + between.join(self.items[i][0] for i in kept) + tail, instants
