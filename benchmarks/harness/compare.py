"""Is every contender's answer the same? Frames compared after normalising and sorting.

Readers hand back the same rows in different dress: PostgreSQL's NUMERIC as decimal(38,10)
through connectorx, as decimal(12,2) through ODBC, as float through Daft; counts as UInt32 or
Int64; CHAR(n) padded or not; rows in any order. :func:`comparable` removes exactly those
differences (columns by position, numbers as Float64, timestamps as naive microseconds, text
without trailing blanks, rows sorted) and :func:`difference` says what still differs.
"""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

#: Numbers agree to this relative tolerance (an average summed in another order, or in decimal).
REL_TOL = 1e-6


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` normalised for comparison: names by position, numbers as Float64, text right-trimmed, rows sorted.

    >>> a = pl.DataFrame({"k": ["b ", "a"], "n": [2, 1]}, schema={"k": pl.String, "n": pl.UInt32})
    >>> comparable(a).rows()
    [('a', 1.0), ('b', 2.0)]
    """
    frame = frame.rename({name: f"c{i}" for i, name in enumerate(frame.columns)})
    casts = []
    for name, dtype in frame.schema.items():
        if dtype.is_numeric():
            casts.append(pl.col(name).cast(pl.Float64))
        elif isinstance(dtype, pl.Datetime):
            casts.append(pl.col(name).dt.replace_time_zone(None).dt.cast_time_unit("us"))
        elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            casts.append(pl.col(name).cast(pl.String).str.strip_chars_end(" "))
    frame = frame.with_columns(casts)
    if not frame.width:
        return frame
    keys = [pl.col(n).round_sig_figs(6) if d == pl.Float64 else pl.col(n) for n, d in frame.schema.items()]
    return frame.sort(keys, nulls_last=True)


def difference(
    answer: pl.DataFrame, reference: pl.DataFrame, rel_tol: float = REL_TOL, prepared: pl.DataFrame | None = None
) -> str | None:
    """None when ``answer`` holds the rows of ``reference``; else what differs, in a few words.

    ``prepared`` is ``comparable(reference)`` when the caller already has it (several answers, one reference).

    >>> ref = pl.DataFrame({"region": ["EMEA", "AMER"], "avg": [2.5, 1.0]})
    >>> difference(pl.DataFrame({"r": ["AMER", "EMEA"], "a": [1.0, 2.5000000001]}), ref) is None
    True
    >>> difference(pl.DataFrame({"r": ["AMER"], "a": [1.0]}), ref)
    'shape (1, 2), expected (2, 2)'
    >>> difference(pl.DataFrame({"r": ["AMER", "EMEA"], "a": [1.0, 2.6]}), ref)
    'column 2 (avg) differs'
    """
    if answer.shape != reference.shape:
        return f"shape {answer.shape}, expected {reference.shape}"
    mine, theirs = comparable(answer), comparable(reference) if prepared is None else prepared
    for index, (left, right) in enumerate(zip(mine.columns, theirs.columns)):
        try:
            assert_frame_equal(mine.select(left), theirs.select(right).rename({right: left}), check_dtypes=False, rel_tol=rel_tol)
        except AssertionError:
            return f"column {index + 1} ({reference.columns[index]}) differs"
    return None
