"""Keep secrets out of messages: connection URLs are shown without their password.

Example:
    >>> redact_url("postgresql://reader:s3cret@db.internal:5432/markets")
    'postgresql://reader:***@db.internal:5432/markets'
    >>> redact_text("failed on mysql://root:pw@h/db today", ["pw"])
    'failed on mysql://root:***@h/db today'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<password>\S*)@")


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove URL passwords and any of ``secrets`` from free text (an error message, a log line)."""
    text = redact_url(text)
    for secret in secrets:
        if secret and len(secret) >= 2:
            text = text.replace(secret, "***")
    return text
