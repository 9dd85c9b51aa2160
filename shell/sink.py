"""Results sent to a file with ``\\o FILE``: the format follows the file's extension."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from piot.errors import ProgrammingError

FILE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".parquet": "parquet"}


def file_format(path: Path) -> str:
    """The format a file is written in, from its extension.

    >>> file_format(Path("out/Trades.CSV")), file_format(Path("t.parquet"))
    ('csv', 'parquet')
    >>> file_format(Path("t.xlsx"))
    Traceback (most recent call last):
    ...
    piot.errors.ProgrammingError: cannot tell the format of 't.xlsx': name it .csv, .tsv, .json or .parquet
    """
    fmt = FILE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ProgrammingError(f"cannot tell the format of {str(path)!r}: name it .csv, .tsv, .json or .parquet")
    return fmt


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """Write all of ``frame`` to ``path`` (replacing the file), in the format of its extension.

    Raises:
        ProgrammingError: for an unknown extension.
        OSError: when the file cannot be written.
    """
    fmt = file_format(path)
    if fmt == "csv":
        frame.write_csv(path)
    elif fmt == "tsv":
        frame.write_csv(path, separator="\t")
    elif fmt == "json":
        frame.write_json(path)
    else:
        frame.write_parquet(path)
