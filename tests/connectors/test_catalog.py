"""Tests of catalog loading: dicts and TOML files, environment expansion, SQLite paths, errors.

Every error and every printed form of a source is checked to keep the password out.
"""

from __future__ import annotations

import doctest
import pickle
from pathlib import Path

import pytest

import piot.connectors.catalog as catalog_module
from piot.connectors.catalog import Catalog, Source, TableSettings, load_catalog
from piot.errors import ProgrammingError

PASSWORD = "s3cr3t-pw"
PG_URL = f"postgresql://reader:{PASSWORD}@db.internal:5432/markets"


def _write(tmp_path: Path, text: str, name: str = "catalog.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(catalog: object) -> ProgrammingError:
    """The ProgrammingError that loading ``catalog`` raises, checked to be free of the password."""
    with pytest.raises(ProgrammingError) as info:
        load_catalog(catalog)  # type: ignore[arg-type]
    err = info.value
    for text in (str(err), repr(err), err.message, *map(str, err.args)):
        assert PASSWORD not in text
    return err


# --- loading -------------------------------------------------------------------------


def test_load_from_dict() -> None:
    cat = load_catalog(
        {
            "sources": {
                "pg": {
                    "url": PG_URL,
                    "tables": {"public.trades": {"date_column": "trade_date", "time_unit": "monthly"}},
                },
                "maria": {"url": "mariadb://root@127.0.0.1:3306/test"},
            }
        }
    )
    assert isinstance(cat, Catalog)
    assert cat.origin == "<dict>"
    assert set(cat.sources) == {"pg", "maria"}
    pg = cat.source("pg")
    assert pg.name == "pg"
    assert pg.url == PG_URL
    assert pg.kind.name == "postgres"
    assert pg.tables == {"public.trades": TableSettings(date_column="trade_date", time_unit="monthly")}
    assert cat.source("maria").kind.name == "mysql"
    assert cat.source("maria").tables == {}


def test_load_from_toml_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""
[sources.pg]
url = "{PG_URL}"

[sources.pg.tables."public.trades"]
date_column = "trade_date"
time_unit = "auto"

[sources.pg.tables.quotes]
date_column = "ts"
""",
    )
    for given in (path, str(path)):
        cat = load_catalog(given)
        assert cat.origin == str(path)
        pg = cat.source("pg")
        assert pg.url == PG_URL
        assert pg.settings_for("public", "trades") == TableSettings("trade_date", "auto")
        assert pg.settings_for(None, "quotes") == TableSettings("ts", None)


def test_load_catalog_passes_a_catalog_through() -> None:
    cat = load_catalog({"sources": {"demo": {"url": "sqlite:///tmp/demo.db"}}})
    assert load_catalog(cat) is cat


@pytest.mark.parametrize("unit", ["daily", "monthly", "yearly", "auto"])
def test_every_time_unit_is_accepted(unit: str) -> None:
    cat = load_catalog({"sources": {"pg": {"url": PG_URL, "tables": {"t": {"time_unit": unit}}}}})
    assert cat.source("pg").tables["t"].time_unit == unit


def test_unknown_source_lists_the_known_ones() -> None:
    cat = load_catalog({"sources": {"pg": {"url": PG_URL}, "lite": {"url": "sqlite:///tmp/x.db"}}})
    with pytest.raises(ProgrammingError, match="nope") as info:
        cat.source("nope")
    assert "lite, pg" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_module_doctests() -> None:
    result = doctest.testmod(catalog_module, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


# --- environment variables -----------------------------------------------------------


def test_env_expansion(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIOT_TEST_PW", PASSWORD)
    monkeypatch.setenv("PIOT_TEST_HOST", "db.internal")
    url = "postgresql://reader:${PIOT_TEST_PW}@${PIOT_TEST_HOST}:5432/markets"
    assert load_catalog({"sources": {"pg": {"url": url}}}).source("pg").url == PG_URL
    path = _write(tmp_path, f'[sources.pg]\nurl = "{url}"\n')
    source = load_catalog(path).source("pg")
    assert source.url == PG_URL
    assert source.password == PASSWORD
    assert PASSWORD not in repr(source)


def test_env_expansion_leaves_other_dollar_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIOT_TEST_PW", "a$b")
    url = "postgresql://reader:${PIOT_TEST_PW}@h/db$x"
    assert load_catalog({"sources": {"pg": {"url": url}}}).source("pg").url == "postgresql://reader:a$b@h/db$x"


def test_unset_env_variable_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PIOT_TEST_MISSING", raising=False)
    url = "postgresql://reader:${PIOT_TEST_MISSING}@h/db"
    err = _error({"sources": {"pg": {"url": url}}})
    assert "PIOT_TEST_MISSING" in str(err)
    assert "not set" in str(err)
    assert "'pg'" in str(err)
    path = _write(tmp_path, f'[sources.pg]\nurl = "{url}"\n')
    err = _error(path)
    assert "PIOT_TEST_MISSING" in str(err)
    assert str(path) in str(err)


def test_unset_env_variable_message_keeps_other_secrets_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIOT_TEST_MISSING", raising=False)
    err = _error({"sources": {"pg": {"url": f"postgresql://reader:{PASSWORD}@${{PIOT_TEST_MISSING}}/db"}}})
    assert "PIOT_TEST_MISSING" in str(err)


# --- SQLite paths ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite://data/demo.db", "sqlite:data/demo.db", "sqlite://./data/demo.db"])
def test_relative_sqlite_path_is_relative_to_the_catalog_file(tmp_path: Path, url: str) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = _write(folder, f'[sources.lite]\nurl = "{url}"\n')
    source = load_catalog(path).source("lite")
    expected = (folder / "data" / "demo.db").resolve()
    assert source.url == f"sqlite://{expected}"
    assert source.kind.name == "sqlite"
    assert source.connectorx_url == f"sqlite://{expected}"


def test_relative_sqlite_path_in_dict_is_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = load_catalog({"sources": {"lite": {"url": "sqlite://demo.db"}}}).source("lite")
    assert source.url == f"sqlite://{(tmp_path / 'demo.db').resolve()}"


def test_relative_sqlite_path_with_parent_directory(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = _write(folder, '[sources.lite]\nurl = "sqlite://../demo.db"\n')
    assert load_catalog(path).source("lite").url == f"sqlite://{(tmp_path / 'demo.db').resolve()}"


def test_absolute_sqlite_path_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sources.lite]\nurl = "sqlite:///var/data/demo.db"\n')
    assert load_catalog(path).source("lite").url == "sqlite:///var/data/demo.db"
    assert load_catalog({"sources": {"lite": {"url": "sqlite:///var/data/demo.db"}}}).source("lite").url == (
        "sqlite:///var/data/demo.db"
    )


def test_relative_path_rule_only_touches_sqlite(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sources.m]\nurl = "mysql://root@127.0.0.1:3306/test"\n')
    assert load_catalog(path).source("m").url == "mysql://root@127.0.0.1:3306/test"


# --- errors name the file or source and never show the password ---------------------


def test_unknown_scheme_is_a_programming_error_without_the_password() -> None:
    err = _error({"sources": {"pg": {"url": f"foo://reader:{PASSWORD}@h/db"}}})
    assert "'foo'" in str(err)
    assert "postgresql" in str(err)  # lists what is supported


def test_unknown_scheme_names_the_source_and_file(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sources.warehouse]\nurl = "foo://reader:{PASSWORD}@h/db"\n')
    err = _error(path)
    assert "warehouse" in str(err)
    assert str(path) in str(err)


def test_missing_url(tmp_path: Path) -> None:
    err = _error({"sources": {"pg": {"tables": {}}}})
    assert "'pg'" in str(err) and "url" in str(err) and "<dict>" in str(err)
    path = _write(tmp_path, "[sources.pg]\nhost = \"h\"\n")
    err = _error(path)
    assert str(path) in str(err) and "'pg'" in str(err) and "url" in str(err)


@pytest.mark.parametrize("url", [12, None, ["postgresql://h/db"]])
def test_url_that_is_not_text(url: object) -> None:
    err = _error({"sources": {"pg": {"url": url}}})
    assert "'pg'" in str(err)


@pytest.mark.parametrize("data", [{}, {"sources": {}}, {"sources": "pg"}, {"source": {"pg": {"url": PG_URL}}}])
def test_no_sources(data: dict[str, object]) -> None:
    err = _error(data)
    assert "<dict>" in str(err) and "sources" in str(err)


def test_no_sources_in_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "# nothing here\n")
    assert str(path) in str(_error(path))


@pytest.mark.parametrize("name", ["my-db", "1db", "a b", ""])
def test_source_name_must_be_an_identifier(name: str) -> None:
    err = _error({"sources": {name: {"url": PG_URL}}})
    assert repr(name) in str(err)


def test_bad_time_unit(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f'[sources.pg]\nurl = "{PG_URL}"\n[sources.pg.tables."public.trades"]\ntime_unit = "weekly"\n',
    )
    err = _error(path)
    message = str(err)
    assert str(path) in message and "'pg'" in message and "public.trades" in message
    assert "time_unit" in message and "daily" in message


def test_unknown_table_setting(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f'[sources.pg]\nurl = "{PG_URL}"\n[sources.pg.tables.trades]\ndate_colum = "d"\npassword = "x"\n',
    )
    err = _error(path)
    message = str(err)
    assert str(path) in message and "'pg'" in message and "'trades'" in message
    assert "date_colum" in message and "password" in message


@pytest.mark.parametrize("tables", ["trades", {"trades": "trade_date"}])
def test_badly_shaped_tables(tables: object) -> None:
    err = _error({"sources": {"pg": {"url": PG_URL, "tables": tables}}})
    assert "'pg'" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    err = _error(path)
    assert str(path) in str(err)
    assert "does not exist" in str(err)


def test_unreadable_path_is_a_directory(tmp_path: Path) -> None:
    err = _error(tmp_path)
    assert str(tmp_path) in str(err)


@pytest.mark.parametrize(
    "text",
    [
        f'[sources.pg]\nurl = "{PG_URL}\n',  # unterminated string
        f"[sources.pg]\nurl = {PG_URL}\n",  # unquoted value
        f'[sources.pg\nurl = "{PG_URL}"\n',  # unterminated table header
        f'[sources.pg]\nurl = "{PG_URL}"\nurl = "{PG_URL}"\n',  # duplicate key
    ],
)
def test_invalid_toml(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    err = _error(path)
    assert str(path) in str(err)
    assert "TOML" in str(err)


def test_errors_pickle_without_the_password(tmp_path: Path) -> None:
    path = _write(tmp_path, f'[sources.pg]\nurl = "{PG_URL}"\n[sources.pg.tables.t]\ntime_unit = "hourly"\n')
    err = _error(path)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is ProgrammingError and str(copy) == str(err)
    assert PASSWORD.encode() not in pickle.dumps(err)


# --- Source: printing, URLs, settings ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        PG_URL,
        f"postgres://reader:{PASSWORD}@db.internal/markets",
        f"mariadb://root:{PASSWORD}@127.0.0.1:3306/test",
        f"mysql://root:{PASSWORD}@127.0.0.1:3306/test?ssl=true",
    ],
)
def test_source_never_shows_the_password(url: str) -> None:
    cat = load_catalog({"sources": {"src": {"url": url}}})
    source = cat.source("src")
    assert source.password == PASSWORD
    assert PASSWORD not in repr(source)
    assert PASSWORD not in str(source)
    assert PASSWORD not in source.display_url
    assert PASSWORD not in repr(cat)
    assert PASSWORD not in f"{source!r} {source!s}"
    assert ":***@" in source.display_url
    assert repr(source) == f"Source(name='src', url={source.display_url!r})"


@pytest.mark.parametrize("scheme", ["mssql", "oracle"])
def test_kinds_nothing_tests_are_refused_without_showing_the_password(scheme: str) -> None:
    with pytest.raises(ProgrammingError, match="unsupported URL scheme") as caught:
        load_catalog({"sources": {"src": {"url": f"{scheme}://sa:{PASSWORD}@h:1433/db"}}})
    assert "postgresql, postgres, mysql, mariadb, sqlite" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_source_without_password() -> None:
    source = load_catalog({"sources": {"m": {"url": "mysql://root@127.0.0.1:3306/test"}}}).source("m")
    assert source.password is None
    assert source.display_url == "mysql://root@127.0.0.1:3306/test"
    assert repr(source) == "Source(name='m', url='mysql://root@127.0.0.1:3306/test')"


def test_settings_for_on_postgres_uses_public_schema() -> None:
    source = load_catalog(
        {"sources": {"pg": {"url": PG_URL, "tables": {"public.trades": {"date_column": "trade_date"}}}}}
    ).source("pg")
    expected = TableSettings(date_column="trade_date")
    assert source.settings_for(None, "trades") == expected
    assert source.settings_for("public", "trades") == expected
    assert source.settings_for("other", "trades") == TableSettings()
    assert source.settings_for(None, "quotes") == TableSettings()


def test_settings_for_prefers_the_qualified_key() -> None:
    source = load_catalog(
        {
            "sources": {
                "pg": {
                    "url": PG_URL,
                    "tables": {"trades": {"date_column": "bare"}, "public.trades": {"date_column": "qualified"}},
                }
            }
        }
    ).source("pg")
    assert source.settings_for("public", "trades").date_column == "qualified"
    assert source.settings_for("archive", "trades").date_column == "bare"
    assert source.settings_for(None, "trades").date_column == "bare"


def test_settings_for_without_default_schema() -> None:
    source = load_catalog(
        {"sources": {"m": {"url": "mysql://root@h/db", "tables": {"public.trades": {"date_column": "d"}}}}}
    ).source("m")
    assert source.settings_for(None, "trades") == TableSettings()
    assert source.settings_for("public", "trades") == TableSettings(date_column="d")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mariadb://root:pw@127.0.0.1:3306/test", "mysql://root:pw@127.0.0.1:3306/test"),
        ("mysql://root@127.0.0.1:3306/test", "mysql://root@127.0.0.1:3306/test"),
        ("postgres://u@h/db", "postgresql://u@h/db?options=-c%20default_transaction_read_only%3Don%20-c%20standard_conforming_strings%3Don"),
        (
            "postgresql://u:p%40w@h/db?sslmode=disable&options=-c%20search_path%3Dx",
            "postgresql://u:p%40w@h/db?sslmode=disable&options=-c%20search_path%3Dx%20-c%20default_transaction_read_only%3Don%20-c%20standard_conforming_strings%3Don",
        ),
    ],
)
def test_connectorx_url(url: str, expected: str) -> None:
    assert load_catalog({"sources": {"s": {"url": url}}}).source("s").connectorx_url == expected


def test_source_defaults() -> None:
    source = load_catalog({"sources": {"pg": {"url": PG_URL}}}).source("pg")
    assert isinstance(source, Source)
    assert source.tables == {}
    assert source.settings_for(None, "anything") == TableSettings(None, None)


def test_source_with_raw_at_sign_in_password_is_not_shown() -> None:
    source = load_catalog({"sources": {"pg": {"url": "postgresql://reader:p@ss-w0rd@h/db"}}}).source("pg")
    assert "ss-w0rd" not in repr(source)
    assert "ss-w0rd" not in source.display_url


ENCODED = "S3cret%40PW%2Fx%3Fy"
DECODED = "S3cret@PW/x?y"
LOWER_ESCAPES = "S3cret%40PW%2fx%3fy"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://reader:{ENCODED}@db.internal:5432/markets",
        f"postgresql://db.internal:5432/markets?user=reader&password={ENCODED}",
        f"postgresql://db.internal:5432/markets?user=reader&sslpassword={ENCODED}",
        f"mysql://db.internal:3306/markets?user=reader&pass={ENCODED}",
    ],
)
def test_source_hides_its_password_in_every_form(url: str) -> None:
    source = load_catalog({"sources": {"pg": {"url": url}}}).source("pg")
    shown = " ".join([source.display_url, repr(source), repr(load_catalog({"sources": {"pg": {"url": url}}}))])
    for form in (ENCODED, DECODED, LOWER_ESCAPES):
        assert form not in shown
    assert "db.internal" in source.display_url
    said = source.redact(f"driver said: password {DECODED} (from {url}) or {ENCODED}")
    assert DECODED not in said and ENCODED not in said


def test_values_from_the_environment_are_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIOT_TEST_PW", ENCODED)
    monkeypatch.setenv("PIOT_TEST_TOKEN", "tok-3141")
    url = "postgresql://reader:${PIOT_TEST_PW}@db.internal/markets?application_name=${PIOT_TEST_TOKEN}"
    catalog = load_catalog({"sources": {"pg": {"url": url}}})
    source = catalog.source("pg")
    assert source.display_url == "postgresql://reader:***@db.internal/markets?application_name=***"
    for text in (f"{DECODED} and tok-3141", LOWER_ESCAPES, "tok-3141"):
        assert "***" in source.redact(text) and catalog.redact(text) == source.redact(text)
        assert DECODED not in source.redact(text) and "tok-3141" not in catalog.redact(text)


def test_a_source_still_knows_its_secrets_after_pickling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIOT_TEST_TOKEN", "tok-2718")
    source = load_catalog({"sources": {"pg": {"url": "postgresql://u@h/db?application_name=${PIOT_TEST_TOKEN}"}}}).source("pg")
    assert pickle.loads(pickle.dumps(source)).redact("app tok-2718") == "app ***"


@pytest.mark.parametrize(
    "spec",
    [
        {"url": f"postgres+psycopg://reader:{ENCODED}@h/db"},
        {"url": f"postgresql://reader:{ENCODED}@h/db", "tables": 3},
        {"url": f"postgresql://reader:{ENCODED}@h/db?x=${{PIOT_TEST_UNSET_VARIABLE}}"},
    ],
)
def test_catalog_errors_carry_no_chain_and_no_frame_holding_the_url(spec: dict[str, object]) -> None:
    import traceback

    with pytest.raises(ProgrammingError) as caught:
        load_catalog({"sources": {"pg": spec}})
    error = caught.value
    assert error.__context__ is None and error.__cause__ is None
    frames = traceback.TracebackException.from_exception(error, capture_locals=True)
    # the test's own frame holds the dict (it wrote it): look at the frames of the catalog module only
    text = "".join(
        line for frame in frames.stack if frame.filename == catalog_module.__file__ for line in frames.stack.format_frame_summary(frame)
    )
    assert "load_catalog" in text
    assert ENCODED not in text and DECODED not in text and ENCODED not in str(error)
