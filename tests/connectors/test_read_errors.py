"""A failing connectorx read leaves no trace of the URL: not in the message, the chain or any frame's locals."""

from __future__ import annotations

import traceback
from urllib.parse import quote

import pytest

from piot.connectors.catalog import load_catalog
from piot.connectors.read import read_arrow
from piot.errors import OperationalError

PASSWORD = "S3cret@PW/x?y"
ENCODED = quote(PASSWORD, safe="")


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://reader:{ENCODED}@127.0.0.1:99999/db",  # connectorx refuses the port at once
        f"postgresql://127.0.0.1:99999/db?user=reader&password={ENCODED}",
        f"mysql://reader:{ENCODED}@127.0.0.1:99999/db",
    ],
)
def test_a_failing_read_raises_a_piot_error_without_the_url(url: str) -> None:
    source = load_catalog({"sources": {"src": {"url": url}}}).source("src")
    with pytest.raises(OperationalError, match="source 'src', period p1: .*port") as caught:
        read_arrow(source, "SELECT 1", period="p1")
    error = caught.value
    assert error.__cause__ is None and error.__context__ is None
    stack = traceback.TracebackException.from_exception(error, capture_locals=True).stack
    # this test's own frame holds the URL (it wrote it): every frame below it must not
    shown = "".join(line for frame in stack if frame.filename != __file__ for line in stack.format_frame_summary(frame))
    assert "read_arrow" in shown and "source = Source(name='src'" in shown  # the frames are there, with locals
    for form in (PASSWORD, ENCODED, url):
        assert form not in shown and form not in repr(error)
