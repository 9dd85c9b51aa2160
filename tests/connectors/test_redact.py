"""Tests of password redaction in URLs and in free text."""

from __future__ import annotations

import doctest

import pytest

import piot.connectors.redact as redact_module
from piot.connectors.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://reader:s3cr3t-pw@db.internal:5432/markets",
            "postgresql://reader:***@db.internal:5432/markets",
        ),
        ("mysql://root:pw@127.0.0.1:3306/test", "mysql://root:***@127.0.0.1:3306/test"),
        ("mariadb://root:pw@h/db?ssl=true", "mariadb://root:***@h/db?ssl=true"),
        ("postgres://:onlypw@h/db", "postgres://:***@h/db"),
        ("postgresql://reader:@h/db", "postgresql://reader:***@h/db"),
        ("mssql+pyodbc://sa:pw@h/db", "mssql+pyodbc://sa:***@h/db"),
    ],
)
def test_redact_url_with_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://reader@db.internal:5432/markets",
        "postgresql://db.internal:5432/markets",
        "mysql://root@127.0.0.1:3306/test",
        "sqlite:///var/data/demo.db",
        "sqlite://relative/demo.db",
        "no url at all",
        "",
    ],
)
def test_redact_url_without_password_is_unchanged(url: str) -> None:
    assert redact_url(url) == url


@pytest.mark.parametrize(
    "password",
    ["p%40ss", "a;b", "x;y%40z%3A", "p:w", "p/w", "p?w#x", "%2F%3B%40", "ümlaut", "p&w=1"],
)
def test_redact_url_special_characters(password: str) -> None:
    url = f"postgresql://reader:{password}@db.internal:5432/markets"
    out = redact_url(url)
    assert out == "postgresql://reader:***@db.internal:5432/markets"
    assert password not in out


def test_redact_url_raw_at_sign_in_password() -> None:
    out = redact_url("postgresql://reader:p@ss-w0rd@db.internal/markets")
    assert "ss-w0rd" not in out


def test_redact_url_is_idempotent() -> None:
    once = redact_url("postgresql://reader:s3cr3t@h/db")
    assert redact_url(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "could not connect to postgresql://reader:s3cr3t-pw@db.internal:5432/markets: timeout",
            "could not connect to postgresql://reader:***@db.internal:5432/markets: timeout",
        ),
        ("(mysql://root:pw@h/db)", "(mysql://root:***@h/db)"),
        ("url='mysql://root:a;b@h/db'", "url='mysql://root:***@h/db'"),
        (
            "first postgresql://a:one@h1/db then mysql://b:two@h2/db\nand sqlite:///x.db",
            "first postgresql://a:***@h1/db then mysql://b:***@h2/db\nand sqlite:///x.db",
        ),
        ("user a:b@c is not a url", "user a:b@c is not a url"),
        ("email me at someone@example.com at 10:30", "email me at someone@example.com at 10:30"),
    ],
)
def test_redact_url_inside_text(text: str, expected: str) -> None:
    assert redact_url(text) == expected
    assert redact_text(text) == expected


def test_redact_text_with_explicit_secrets() -> None:
    text = "auth failed for password s3cr3t-pw (token abc123), again s3cr3t-pw"
    assert redact_text(text, ["s3cr3t-pw", "abc123"]) == "auth failed for password *** (token ***), again ***"


def test_redact_text_combines_urls_and_secrets() -> None:
    text = "postgresql://reader:s3cr3t-pw@h/db said: password 's3cr3t-pw' rejected"
    out = redact_text(text, ["s3cr3t-pw"])
    assert "s3cr3t-pw" not in out
    assert out == "postgresql://reader:***@h/db said: password '***' rejected"


def test_redact_text_secret_with_special_characters() -> None:
    assert redact_text("pw was a;b%40c!", ["a;b%40c"]) == "pw was ***!"


def test_redact_text_catches_a_raw_at_sign_password_when_given_as_secret() -> None:
    out = redact_text("postgresql://reader:p@ss-w0rd@h/db failed", ["p@ss-w0rd"])
    assert "ss-w0rd" not in out


@pytest.mark.parametrize("secrets", [[], [""], ["x"], ["", "x", "t"]])
def test_redact_text_ignores_empty_and_one_character_secrets(secrets: list[str]) -> None:
    text = "x marks the spot"
    assert redact_text(text, secrets) == text


def test_redact_text_accepts_any_iterable() -> None:
    assert redact_text("a secret here", (s for s in ["secret"])) == "a *** here"


def test_module_doctests() -> None:
    result = doctest.testmod(redact_module, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
