"""Preferences of the prompt, read from ``~/.config/piot/config.toml`` (or ``$PIOT_CONFIG``).

Example file::

    format = "table"        # table | csv | tsv | json | markdown | vertical
    row_limit = 1000        # rows shown on screen; 0 shows every row
    timing = false          # print how long each query took
    expanded = false        # one block per row (as \\x)
    history_size = 5000     # statements kept in the history file
    history_file = "~/.local/share/piot/history"
    timezone = "UTC"        # zone of CURRENT_DATE / NOW() and of TIMESTAMPTZ periods (--timezone)
    query_timeout = 0       # seconds a query may run; 0 means no limit
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from piot.errors import ProgrammingError
from piot.shell.output import FORMATS
from piot.sql.zones import zone_for

CONFIG_ENV = "PIOT_CONFIG"
DEFAULT_CONFIG = "~/.config/piot/config.toml"
DEFAULT_HISTORY = "~/.local/share/piot/history"


@dataclass(frozen=True)
class Preferences:
    """What the config file may set; every field has a default."""

    format: str = "table"
    row_limit: int = 1000
    timing: bool = False
    expanded: bool = False
    history_size: int = 5000
    history_file: str = DEFAULT_HISTORY
    timezone: str = "UTC"
    query_timeout: float = 0.0

    @property
    def history_path(self) -> Path:
        """The history file with ``~`` expanded."""
        return Path(self.history_file).expanduser()


def config_path() -> Path:
    """``$PIOT_CONFIG`` if set, else ``~/.config/piot/config.toml``."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()


def load_preferences(path: Path | None = None) -> Preferences:
    """Read the preferences; defaults when the file does not exist.

    Raises:
        ProgrammingError: one line naming the file and what is wrong in it.
    """
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Preferences()
    except OSError as e:
        raise ProgrammingError(f"config file {str(path)!r} cannot be read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ProgrammingError(f"config file {str(path)!r} is not valid TOML: {e}") from None
    return preferences_from(data, str(path))


def preferences_from(data: Mapping[str, Any], origin: str = "<dict>") -> Preferences:
    """Check and convert the settings of a config file.

    >>> preferences_from({"format": "csv", "row_limit": 10}).row_limit
    10
    >>> preferences_from({"colour": "red"}, "c.toml")
    Traceback (most recent call last):
    ...
    piot.errors.ProgrammingError: config file 'c.toml': unknown setting 'colour' (known: format, row_limit, timing, expanded, history_size, history_file, timezone, query_timeout)
    """
    known = {f.name: f for f in fields(Preferences)}
    where = f"config file {origin!r}"
    for key, value in data.items():
        if key not in known:
            raise ProgrammingError(f"{where}: unknown setting {key!r} (known: {', '.join(known)})")
        expected = {"str": str, "int": int, "bool": bool, "float": (int, float)}[str(known[key].type)]
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            name = "number" if isinstance(expected, tuple) else expected.__name__
            raise ProgrammingError(f"{where}: {key} must be a {name}, not {value!r}")
    if data.get("format", "table") not in FORMATS:
        raise ProgrammingError(f"{where}: format must be one of {', '.join(FORMATS)}, not {data['format']!r}")
    for key in ("row_limit", "history_size", "query_timeout"):
        if data.get(key, 0) < 0:
            raise ProgrammingError(f"{where}: {key} must be 0 or more, not {data[key]}")
    if "timezone" in data:
        try:
            zone_for(data["timezone"])
        except ProgrammingError as e:
            raise ProgrammingError(f"{where}: {e.message}") from None
    return Preferences(**{key: float(value) if key == "query_timeout" else value for key, value in data.items()})
