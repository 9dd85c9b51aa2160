"""Read a LazyFrame's optimised plan: is it row-wise, and what bounds its date column.

Polars exposes its optimised plan to Python through the ``NodeTraverser`` its GPU
engine uses (``LazyFrame._ldf.visit()``): plan nodes (``Filter``, ``HStack``,
``PythonScan``, ...) and expression nodes (``BinaryExpr``, ``Column``, ``Literal``, ...)
as plain Python objects. This module is the only user of that interface in piot, and
it reads it defensively: a node it does not know is treated as "not row-wise", an
expression it does not know adds no bound, so a change in Polars can make
``execute_on_ray`` refuse a plan but never split one wrongly.

The walk goes from the plan's output down to its scan, following the date column
through renames. Filters met on the way, and the predicate Polars pushed into the scan,
bound the column as long as it has not been redefined since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from piot.errors import NotSupportedError
from piot.lazy.bounds import bounds_for
from piot.lazy.predicate import FLIPPED, And, Between, Compare, Op, Opaque, Predicate
from piot.plan.bounds import Range

__all__ = ["PlanView", "read_plan"]

_PASS_THROUGH = frozenset({"SimpleProjection", "Cache"})
_SCANS = frozenset({"PythonScan", "Scan", "DataFrameScan"})
_NODE_NAMES = {
    "GroupBy": "an aggregation (group_by/agg)",
    "Join": "a join",
    "Sort": "a sort",
    "Distinct": "unique()",
    "Slice": "a slice (head/tail/limit/slice)",
    "Union": "a concat of frames",
    "HConcat": "a horizontal concat",
    "MergeSorted": "merge_sorted",
    "ExtContext": "with_context",
}
_ROW_WISE_EXPRS = frozenset({"Column", "Literal", "BinaryExpr", "Cast", "Ternary", "Function"})
_EXPR_NAMES = {
    "Agg": "an aggregation",
    "Window": "a window expression (over)",
    "Len": "pl.len()",
    "Sort": "a sort expression",
    "SortBy": "a sort_by expression",
    "Slice": "a slice expression",
    "Gather": "a gather expression",
    "Filter": "a filter expression",
}
_COMPARISONS: dict[str, Op] = {"Eq": "==", "NotEq": "!=", "Lt": "<", "LtEq": "<=", "Gt": ">", "GtEq": ">="}


@dataclass(frozen=True)
class PlanView:
    """What the plan says about its date column.

    Attributes:
        blocking: the first operation that is not row-wise, in words; None for a row-wise plan.
        bounds: bounds on the output's date column, from filters and the scan's predicate.
        scan_bounds: the part of those bounds that Polars pushed into the scan itself.
        scans: how many scans the walk reached (1 for a row-wise plan over one source).
    """

    blocking: str | None
    bounds: Range
    scan_bounds: Range
    scans: int


def read_plan(lf: pl.LazyFrame, column: str, time_zone: str | None = None) -> PlanView:
    """Walk the optimised plan of ``lf`` from its output to its scan, following ``column``.

    Raises:
        NotSupportedError: when this Polars version's plan cannot be read at all.
    """
    try:
        traverser = lf._ldf.visit()
        walk = _Walk(traverser, time_zone)
        walk.run(column)
    except NotSupportedError:
        raise
    except Exception as e:  # noqa: BLE001 - any surprise from a private interface
        raise NotSupportedError(
            f"execute_on_ray cannot read this plan with Polars {pl.__version__} ({type(e).__name__}: {e}); "
            "filter on the date column after execute_on_ray instead"
        ) from e
    return PlanView(walk.blocking, walk.bounds, walk.scan_bounds, walk.scans)


class _Walk:
    """One walk down a plan; the traverser is a cursor, so the walk is kept in one place."""

    def __init__(self, traverser: Any, time_zone: str | None) -> None:
        self.nt = traverser
        self.time_zone = time_zone
        self.blocking: str | None = None
        self.bounds = Range()
        self.scan_bounds = Range()
        self.scans = 0

    def run(self, column: str) -> None:
        name: str | None = column
        while True:
            node = self.nt.view_current_node()
            kind = type(node).__name__
            if kind in _SCANS:
                self._scan(node, kind, name)
                return
            if kind == "Filter":
                self._add(self._predicate(node.predicate.node), name, scan=False)
            elif kind in ("Select", "HStack"):
                exprs = node.expr if kind == "Select" else node.exprs
                self.blocking = self._non_row_wise(exprs)
                name = self._follow(exprs, name, replaces_all=kind == "Select")
            elif kind == "MapFunction":
                self.blocking = f"{node.function[0]} (a map over the whole frame)"
            elif kind not in _PASS_THROUGH:
                self.blocking = _NODE_NAMES.get(kind, f"a {kind} step")
            inputs = self.nt.get_inputs()
            if self.blocking is not None or len(inputs) != 1:
                self.blocking = self.blocking or f"a {kind} step with {len(inputs)} inputs"
                return
            self.nt.set_node(inputs[0])

    def _scan(self, node: Any, kind: str, name: str | None) -> None:
        self.scans += 1
        if kind == "PythonScan":
            pushed = node.options[3]
            node_id = pushed[1] if isinstance(pushed, tuple) and pushed[0] == "polars" else None
        else:
            expr_ir = getattr(node, "predicate" if kind == "Scan" else "selection", None)
            node_id = getattr(expr_ir, "node", None)
        if node_id is not None:
            self._add(self._predicate(node_id), name, scan=True)

    def _add(self, predicate: Predicate, name: str | None, *, scan: bool) -> None:
        if name is None:
            return
        found = bounds_for(predicate, name, self.time_zone)
        self.bounds = self.bounds.intersect(found)
        if scan:
            self.scan_bounds = self.scan_bounds.intersect(found)

    def _follow(self, exprs: list[Any], name: str | None, *, replaces_all: bool) -> str | None:
        """The column's name below a projection: renamed, kept, or lost (None)."""
        if name is None:
            return None
        for expr_ir in exprs:
            if expr_ir.output_name == name:
                source = self.nt.view_expression(expr_ir.node)
                return source.name if type(source).__name__ == "Column" else None
        return None if replaces_all else name

    def _non_row_wise(self, exprs: list[Any]) -> str | None:
        for expr_ir in exprs:
            found = self._expr_problem(expr_ir.node)
            if found is not None:
                return f"{found} in a select/with_columns"
        return None

    def _expr_problem(self, node_id: int) -> str | None:
        expr = self.nt.view_expression(node_id)
        kind = type(expr).__name__
        if kind not in _ROW_WISE_EXPRS:
            return _EXPR_NAMES.get(kind)
        for child in _children(expr, kind):
            found = self._expr_problem(child)
            if found is not None:
                return found
        return None

    def _predicate(self, node_id: int) -> Predicate:
        """The predicate at ``node_id``, as far as bounds need it (AND chains of comparisons)."""
        expr = self.nt.view_expression(node_id)
        kind = type(expr).__name__
        if kind == "BinaryExpr":
            op = str(expr.op).rsplit(".", 1)[-1]
            if op in ("And", "LogicalAnd"):
                return And((self._predicate(expr.left), self._predicate(expr.right)))
            if op in _COMPARISONS:
                return self._compare(expr.left, _COMPARISONS[op], expr.right)
        if kind == "Function" and expr.function_data and str(expr.function_data[0]).endswith(".IsBetween"):
            return self._between(expr)
        return Opaque(kind)

    def _compare(self, left: int, op: Op, right: int) -> Predicate:
        name, value = self._column(left), self._value(right)
        if name is not None and value is not None:
            return Compare(name, op, value)
        name, value = self._column(right), self._value(left)
        if name is not None and value is not None:
            return Compare(name, FLIPPED[op], value)
        return Opaque("comparison")

    def _between(self, expr: Any) -> Predicate:
        column, low, high = expr.input
        name, lo, hi = self._column(column), self._value(low), self._value(high)
        closed = expr.function_data[1] if len(expr.function_data) > 1 else None
        if name is None or lo is None or hi is None or closed not in ("both", "left", "right", "none"):
            return Opaque("is_between")
        return Between(name, lo, hi, closed)

    def _column(self, node_id: int) -> str | None:
        expr = self.nt.view_expression(node_id)
        return expr.name if type(expr).__name__ == "Column" else None

    def _value(self, node_id: int) -> Any:
        expr = self.nt.view_expression(node_id)
        if type(expr).__name__ != "Literal":
            return None
        dtype = expr.dtype
        if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
            return None
        return expr.value


def _children(expr: Any, kind: str) -> list[int]:
    if kind == "BinaryExpr":
        return [expr.left, expr.right]
    if kind == "Cast":
        return [expr.expr]
    if kind == "Ternary":
        return [expr.predicate, expr.truthy, expr.falsy]
    if kind == "Function":
        return list(expr.input)
    return []
