"""Tests of the PEP 249 exception classes: hierarchy, messages, pickling."""

from __future__ import annotations

import builtins
import doctest
import pickle

import pytest

import piot.errors as errors
from piot.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,  # noqa: A004 - the PEP 249 name
)

#: Each PEP 249 class and its direct base.
HIERARCHY: dict[str, str] = {
    "Warning": "Exception",
    "Error": "Exception",
    "InterfaceError": "Error",
    "DatabaseError": "Error",
    "DataError": "DatabaseError",
    "OperationalError": "DatabaseError",
    "IntegrityError": "DatabaseError",
    "InternalError": "DatabaseError",
    "ProgrammingError": "DatabaseError",
    "NotSupportedError": "DatabaseError",
}

ERROR_CLASSES: list[type[Error]] = [
    Error,
    InterfaceError,
    DatabaseError,
    DataError,
    OperationalError,
    IntegrityError,
    InternalError,
    ProgrammingError,
    NotSupportedError,
]


@pytest.mark.parametrize(("name", "base"), sorted(HIERARCHY.items()))
def test_pep249_class_and_base(name: str, base: str) -> None:
    cls = getattr(errors, name)
    assert isinstance(cls, type)
    assert name in errors.__all__
    expected_base = Exception if base == "Exception" else getattr(errors, base)
    assert cls.__bases__ == (expected_base,)
    assert issubclass(cls, Exception)


#: piot's own errors beside PEP 249's, each a PEP 249 class that is also a builtin one (for Polars-style code)
BESIDES = {"InvalidArgument": (errors.ProgrammingError, ValueError, TypeError), "RayNotInitialised": (errors.OperationalError, RuntimeError)}


def test_all_lists_exactly_the_pep249_classes_and_piots_own() -> None:
    assert sorted(errors.__all__) == sorted([*HIERARCHY, *BESIDES])
    for name, bases in BESIDES.items():
        assert all(issubclass(getattr(errors, name), base) for base in bases)


def test_warning_is_not_an_error_and_not_the_builtin() -> None:
    assert not issubclass(Warning, Error)
    assert not issubclass(Error, Warning)
    assert Warning is not builtins.Warning
    assert not issubclass(Warning, builtins.Warning)


def test_catching_by_base_class() -> None:
    with pytest.raises(DatabaseError):
        raise ProgrammingError("bad sql")
    with pytest.raises(Error):
        raise InterfaceError("cursor closed")
    with pytest.raises(Error):
        raise NotSupportedError("writes are not supported")
    assert not isinstance(InterfaceError("x"), DatabaseError)


@pytest.mark.parametrize("cls", ERROR_CLASSES)
def test_fields_default_to_none(cls: type[Error]) -> None:
    err = cls("something went wrong")
    assert err.message == "something went wrong"
    assert err.args == ("something went wrong",)
    assert (err.line, err.col, err.source, err.period) == (None, None, None, None)
    assert str(err) == "something went wrong"


@pytest.mark.parametrize("cls", ERROR_CLASSES)
def test_str_shows_line_and_column_when_both_are_set(cls: type[Error]) -> None:
    err = cls("unknown column 'x'", line=3, col=14, source="pg", period="2024-01-01..2024-02-01")
    assert str(err) == "unknown column 'x' (line 3, column 14)"
    assert err.message == "unknown column 'x'"


@pytest.mark.parametrize(("line", "col"), [(3, None), (None, 14), (None, None)])
def test_str_without_both_positions(line: int | None, col: int | None) -> None:
    err = ProgrammingError("bad", line=line, col=col, source="pg")
    assert str(err) == "bad"


def test_str_with_line_one_column_one() -> None:
    assert str(ProgrammingError("x", line=1, col=1)) == "x (line 1, column 1)"


def test_fields_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        ProgrammingError("x", 1, 2)  # type: ignore[misc]


@pytest.mark.parametrize("cls", ERROR_CLASSES)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(cls: type[Error], protocol: int) -> None:
    err = cls("fragment failed", line=2, col=7, source="maria", period="[2024-01-01, 2024-02-01)")
    copy = pickle.loads(pickle.dumps(err, protocol=protocol))
    assert type(copy) is cls
    assert copy.message == "fragment failed"
    assert (copy.line, copy.col, copy.source, copy.period) == (2, 7, "maria", "[2024-01-01, 2024-02-01)")
    assert str(copy) == str(err) == "fragment failed (line 2, column 7)"
    assert copy.args == err.args


@pytest.mark.parametrize("cls", ERROR_CLASSES)
def test_pickle_round_trip_without_fields(cls: type[Error]) -> None:
    copy = pickle.loads(pickle.dumps(cls("plain")))
    assert type(copy) is cls
    assert (copy.message, copy.line, copy.col, copy.source, copy.period) == ("plain", None, None, None, None)
    assert str(copy) == "plain"


class _LocalError(OperationalError):
    """A subclass outside piot.errors, as a front-end might define."""


def test_pickle_subclass_defined_elsewhere_keeps_its_class() -> None:
    copy = pickle.loads(pickle.dumps(_LocalError("mine", source="lite")))
    assert type(copy) is _LocalError
    assert copy.source == "lite"


def test_warning_pickles() -> None:
    copy = pickle.loads(pickle.dumps(Warning("rows truncated")))
    assert type(copy) is Warning
    assert str(copy) == "rows truncated"


def test_raised_and_pickled_error_keeps_its_message() -> None:
    try:
        raise DataError("fragments disagree", source="pg", period="2024")
    except Error as caught:
        copy = pickle.loads(pickle.dumps(caught))
    assert isinstance(copy, DataError)
    assert copy.source == "pg" and copy.period == "2024"


def test_module_doctests() -> None:
    result = doctest.testmod(errors, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
