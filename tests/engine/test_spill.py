"""Raw rows past the connection's memory budget wait on disk, and the merge streams them back: same answers, no files left."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from corpus_data import KIND_PARAMS, CorpusSource, answer_of, assert_same

import piot
import piot.engine
from piot.run.spill import Spill

RANGE = "trade_date BETWEEN '2023-11-01' AND '2024-04-30'"


class CountingSpill(Spill):
    """A spill that remembers how many frames every run wrote."""

    written: list[int] = []

    def __exit__(self, *exc: object) -> None:
        CountingSpill.written.append(self.written)
        super().__exit__(*exc)  # type: ignore[arg-type]



@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_raw_rows_past_the_memory_budget_wait_on_disk(
    kind: str,
    corpus: CorpusSource,
    corpus_connect: Callable[..., piot.Connection],
    ray_session: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(piot.engine, "Spill", CountingSpill)
    CountingSpill.written.clear()
    connection = corpus_connect(corpus, memory_budget=0)
    rows = f"SELECT symbol, side, trade_id, price FROM {{trades}} WHERE {RANGE} AND quantity > 10 ORDER BY trade_id"
    assert_same(answer_of(connection, corpus.sql(rows)), corpus.oracle(rows), f"spilled rows on {kind}", ordered=True)
    joined = f"SELECT t.side, s.sector, COUNT(*) AS n FROM {{trades}} t JOIN {{symbols}} s ON s.symbol = t.symbol WHERE {RANGE} GROUP BY t.side, s.sector"
    assert_same(answer_of(connection, corpus.sql(joined)), corpus.oracle(joined), f"spilled join on {kind}")
    assert len(CountingSpill.written) == 2 and all(n >= 6 for n in CountingSpill.written), CountingSpill.written
    assert list(tmp_path.iterdir()) == []


def test_a_memory_budget_is_bytes() -> None:
    with pytest.raises(piot.ProgrammingError, match="memory_budget"):
        piot.connect({"sources": {}}, memory_budget=-1)
