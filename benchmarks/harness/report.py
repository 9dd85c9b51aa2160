"""The report: markdown tables of medians, ratios, driver peaks and answer checks (pure formatting).

``Results`` maps a query name to each contender's :class:`Outcome`. A time cell reads
``0.412 (1.18×)``: the median in seconds and its ratio to the baseline's median on the same
query; ``fails`` when the contender raised or timed out (the reason is listed under the
table), ``–`` where it does not apply, and a trailing **≠** when its answer differs from the
reference answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.child_process import Outcome

#: query name -> contender key -> outcome
Results = dict[str, dict[str, Outcome]]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    """A markdown table; columns from ``numeric_from`` on are right-aligned.

    >>> print(markdown_table(["query", "a"], [["q1", "0.1"]]))
    | query | a |
    | --- | ---: |
    | q1 | 0.1 |
    """
    align = ["---" if i < numeric_from else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(value: float | None, base: float | None) -> str:
    """``value / base`` as ``1.18×``, or empty when either is missing.

    >>> ratio(0.5, 0.25), ratio(None, 1.0)
    ('2.00×', '')
    """
    return f"{value / base:.2f}×" if value is not None and base else ""


def time_cell(outcome: Outcome | None, base: float | None) -> str:
    """Median seconds, ratio to ``base`` and the answer check, or ``fails`` / ``–``.

    >>> time_cell(Outcome(seconds=[0.2, 0.4, 0.3]), 0.15)
    '0.300 (2.00×)'
    >>> time_cell(Outcome(seconds=[1.0], difference="shape (1, 2), expected (2, 2)"), None)
    '1.000 **≠**'
    >>> time_cell(Outcome(error="boom"), 1.0), time_cell(None, 1.0)
    ('fails', '–')
    """
    if outcome is None:
        return "–"
    if outcome.median is None:
        return "fails"
    shown = f"{outcome.median:.3f}"
    if base:
        shown += f" ({ratio(outcome.median, base)})"
    return shown + (" **≠**" if outcome.difference else "")


def peak_cell(outcome: Outcome | None) -> str:
    """The driver's peak resident MiB over the timed runs (``*``: the whole process's peak).

    >>> peak_cell(Outcome(seconds=[1.0], peak_mib=812.44)), peak_cell(Outcome(seconds=[1.0], peak_mib=90.0, peak_exact=False))
    ('812', '90*')
    """
    if outcome is None or outcome.peak_mib is None or outcome.median is None:
        return "–"
    return f"{outcome.peak_mib:.0f}" + ("" if outcome.peak_exact else "*")


def time_table(results: Results, queries: Sequence[tuple[str, str]], columns: Sequence[tuple[str, str]], baseline: str) -> str:
    """One row per ``(name, title)`` query, one column per ``(key, heading)`` contender."""
    rows = []
    for name, title in queries:
        outcomes = results.get(name, {})
        base = outcomes[baseline].median if baseline in outcomes else None
        rows.append([title, *(time_cell(outcomes.get(key), base) for key, _ in columns)])
    return markdown_table(["query", *(heading for _, heading in columns)], rows)


def peak_table(results: Results, queries: Sequence[tuple[str, str]], columns: Sequence[tuple[str, str]]) -> str:
    """The driver peak (MiB) of every contender on every query."""
    rows = [[title, *(peak_cell(results.get(name, {}).get(key)) for key, _ in columns)] for name, title in queries]
    return markdown_table(["driver peak, MiB", *(heading for _, heading in columns)], rows)


def total_row(results: Results, names: Sequence[str], columns: Sequence[tuple[str, str]], baseline: str) -> list[str]:
    """Sums of medians over the queries every listed contender answered (TPC-H's total line).

    >>> r = {"q1": {"a": Outcome(seconds=[1.0]), "b": Outcome(seconds=[3.0])}, "q2": {"a": Outcome(error="x"), "b": Outcome(seconds=[1.0])}}
    >>> total_row(r, ["q1", "q2"], [("a", "A"), ("b", "B")], "b")
    ['total of 1 answered by all', '1.000 (0.33×)', '3.000 (1.00×)']
    """
    common = [
        n for n in names if all(results.get(n, {}).get(k) is not None and results[n][k].median is not None for k, _ in columns)
    ]
    sums = {key: sum(results[n][key].median or 0.0 for n in common) for key, _ in columns}
    base = sums.get(baseline)
    return [f"total of {len(common)} answered by all", *(f"{sums[key]:.3f} ({ratio(sums[key], base)})" for key, _ in columns)]


def problems(results: Results, headings: dict[str, str]) -> list[str]:
    """One line per failure or differing answer, loud for the latter.

    >>> problems({"q": {"a": Outcome(error="boom"), "b": Outcome(seconds=[1.0], difference="column 2 (x) differs")}}, {"a": "A", "b": "B"})
    ['- q, A: fails: boom', '- **q, B: ANSWER DIFFERS from the reference: column 2 (x) differs**']
    """
    lines = []
    for name, outcomes in results.items():
        for key, outcome in outcomes.items():
            if outcome.error:
                lines.append(f"- {name}, {headings.get(key, key)}: fails: {outcome.error}")
            elif outcome.difference:
                lines.append(f"- **{name}, {headings.get(key, key)}: ANSWER DIFFERS from the reference: {outcome.difference}**")
    return lines


def as_json(results: Results) -> dict[str, dict[str, dict[str, object]]]:
    """Every outcome as plain values (for ``latest.json``).

    >>> as_json({"q": {"a": Outcome(seconds=[0.5], peak_mib=10.0, rows=3)}})["q"]["a"]["median"]
    0.5
    """
    return {
        name: {
            key: {
                "median": o.median,
                "seconds": o.seconds,
                "peak_mib": o.peak_mib,
                "base_mib": o.base_mib,
                "rows": o.rows,
                "error": o.error,
                "difference": o.difference,
                "compared": o.compared,
            }
            for key, o in outcomes.items()
        }
        for name, outcomes in results.items()
    }


def machine_lines(info: dict[str, str]) -> str:
    """The machine description as a bullet list.

    >>> print(machine_lines({"CPUs": "2", "memory": "23.4 GiB"}))
    - CPUs: 2
    - memory: 23.4 GiB
    """
    return "\n".join(f"- {key}: {value}" for key, value in info.items())
