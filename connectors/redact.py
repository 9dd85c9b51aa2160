"""Keep secrets out of messages: the one place that decides what of a connection URL may be shown.

A secret is a URL's password (after ``user:`` or in a query parameter such as
``password=``, ``sslpassword=`` or ``pass=``) or a value the catalog took from the
environment. A driver may print it as written, percent-decoded or re-encoded, so every
one of those forms is hidden (:func:`secret_forms`).

Example:
    >>> redact_url("postgresql://reader:s3cret@db.internal:5432/markets")
    'postgresql://reader:***@db.internal:5432/markets'
    >>> redact_url("postgresql://db/markets?user=reader&password=s3cret&sslmode=require")
    'postgresql://db/markets?user=reader&password=***&sslmode=require'
    >>> redact_text("failed on mysql://root:pw@h/db today", ["pw"])
    'failed on mysql://root:***@h/db today'
    >>> redact_text("password 'S3cret@PW' rejected", url_secrets("postgresql://u:S3cret%40PW@h/db"))
    "password '***' rejected"
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, unquote_plus

__all__ = ["MASK", "redact_text", "redact_url", "secret_forms", "url_secrets"]

#: what a secret is replaced by.
MASK = "***"
#: secrets shorter than this are not searched for in text (they would mask every such letter).
MIN_SECRET_LENGTH = 2

#: the repeats are bounded (a scheme or a key name is short) so that a long run of letters in a message, such as
#: a huge literal quoted back in an error, costs linear time rather than quadratic.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]{0,63}://)(?P<user>[^:/@\s]*):(?P<password>\S*)@")
#: a ``key=value`` whose key names a password or a token, in a URL query or a libpq-style string.
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<key>\b[A-Za-z0-9_.\-]{0,64}(?:pass|pwd|secret|token)[A-Za-z0-9_.\-]{0,64}=)(?P<value>'[^']*'|\"[^\"]*\"|[^\s&;,'\")]*)",
    re.IGNORECASE,
)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def secret_forms(value: str) -> frozenset[str]:
    """Every way a driver or a repr may print ``value``: as given, percent-decoded, re-encoded, escaped.

    >>> sorted(secret_forms("a%40b"))
    ['a%252540b', 'a%2540b', 'a%40b', 'a@b']
    >>> "S3cret%40PW%2Fx" in secret_forms("S3cret@PW/x") and "S3cret%40PW/x" in secret_forms("S3cret@PW/x")
    True
    """
    plain = {value, unquote(value), unquote_plus(value)}
    encoded = {e for text in plain for e in (quote(text, safe=""), quote(text), quote_plus(text), quote_plus(text, safe="/"))}
    encoded |= {quote(text, safe="") for text in encoded}  # encoded twice, as in a URL inside a URL
    forms = plain | encoded | {_PERCENT_ESCAPE.sub(lambda m: m[0].lower(), text) for text in encoded}
    for text in plain:
        forms |= {text.encode("unicode_escape").decode("ascii"), repr(text)[1:-1], json.dumps(text)[1:-1]}
    return frozenset(f for f in forms if len(f) >= MIN_SECRET_LENGTH)


def url_secrets(url: str) -> frozenset[str]:
    """The secrets written in ``url`` (its userinfo password, secret-named query parameters), in every form.

    >>> sorted(url_secrets("mysql://root:pw@h/db?ssl=1"))
    ['pw']
    >>> {"k+y", "k%2By", "k%2by"} <= url_secrets("postgresql://h/db?user=u&sslpassword=k%2By")
    True
    """
    values = [m["password"] for m in _URL_CREDENTIALS.finditer(url)]
    values += [m["value"].strip("'\"") for m in _SECRET_ASSIGNMENT.finditer(url)]
    return frozenset(form for value in values if value for form in secret_forms(value))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove ``secrets`` (in every form), URL passwords and ``password=...`` values from free text.

    Longer secrets are replaced first, so that one secret inside another leaves nothing behind.
    """
    forms = {form for secret in secrets if secret for form in secret_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _SECRET_ASSIGNMENT.sub(lambda m: m["key"] + (m["value"] and MASK), text)


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """Return ``url`` as it may be shown: its passwords and any of ``secrets`` replaced by ``***``."""
    return redact_text(url, secrets)
