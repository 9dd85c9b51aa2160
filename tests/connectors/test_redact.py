"""Tests of password redaction in URLs and in free text."""

from __future__ import annotations

import doctest

import pytest

import piot.connectors.redact as redact_module
from piot.connectors.redact import redact_text, redact_url, secret_forms, url_secrets


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


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://h/db?user=u&password=S3cret%40PW&sslmode=require",
            "postgresql://h/db?user=u&password=***&sslmode=require",
        ),
        ("postgresql://h/db?sslpassword=k3y-pw", "postgresql://h/db?sslpassword=***"),
        ("mysql://h/db?user=root&pass=pw1;x=1", "mysql://h/db?user=root&pass=***;x=1"),
        ("mssql://h/db?PWD=pw1&Trusted=no", "mssql://h/db?PWD=***&Trusted=no"),
        ("postgresql://u:a%40b@h/db?password=c%2Fd", "postgresql://u:***@h/db?password=***"),
    ],
)
def test_redact_url_hides_passwords_given_as_query_parameters(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_a_libpq_style_password_in_driver_text_is_hidden() -> None:
    text = "connection to host=h dbname=db user=u password='a b' failed; password=xyz"
    assert redact_text(text) == "connection to host=h dbname=db user=u password=*** failed; password=***"


def test_mysql_saying_whether_a_password_was_used_is_kept() -> None:
    text = "Access denied for user 'root'@'127.0.0.1' (using password: YES)"
    assert redact_text(text) == text


PASSWORD = "S3cret@PW/x?y"


@pytest.mark.parametrize(
    "shown",
    [
        PASSWORD,
        "S3cret%40PW%2Fx%3Fy",  # encoded as in a URL
        "S3cret%40pw%2fx%3fy".replace("pw", "PW"),  # lower-case escapes
        "S3cret%40PW/x%3Fy",  # encoded, keeping slashes
        "S3cret%40PW%2Fx%3Fy".replace("%", "%25"),  # encoded twice
    ],
)
@pytest.mark.parametrize("written", [PASSWORD, "S3cret%40PW%2Fx%3Fy", "S3cret%40PW/x%3Fy"])
def test_every_form_of_a_secret_is_hidden_whatever_form_it_was_given_in(written: str, shown: str) -> None:
    out = redact_text(f"the server said: bad password {shown}!", [written])
    assert out == "the server said: bad password ***!"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:S3cret%40PW%2Fx%3Fy@h/db",
        "postgresql://h/db?user=u&password=S3cret%40PW%2Fx%3Fy",
        "postgresql://h/db?sslpassword=S3cret%40PW%2Fx%3Fy&user=u",
    ],
)
def test_url_secrets_finds_the_password_wherever_the_url_holds_it(url: str) -> None:
    found = url_secrets(url)
    assert PASSWORD in found and "S3cret%40PW%2Fx%3Fy" in found
    assert redact_text(f"{url} said: {PASSWORD}", found).count("***") == 2


def test_url_secrets_of_a_url_without_password_is_empty() -> None:
    assert url_secrets("postgresql://u@h:5432/db?sslmode=require") == frozenset()


def test_secret_forms_skip_one_character_texts() -> None:
    assert secret_forms("x") == frozenset()
    assert "ab" in secret_forms("ab")
