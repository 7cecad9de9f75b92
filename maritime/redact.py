"""Secrets never printed: passwords in URLs, tokens in query strings, webhook secrets.

:func:`redact` is applied to every log record by :class:`RedactingFilter`
(installed by the CLI on its log handlers), to the targets sinks name in
their messages and to the run summary, so a Redis password or a map token
reaches neither the console nor a log file.
"""

from __future__ import annotations

import logging
import re

#: ``scheme://user:password@host`` → ``scheme://user:***@host`` (and ``scheme://:password@host``)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
#: ``?token=…``, ``&secret=…``, ``password=…`` (query strings, key=value text)
_KEY_VALUE = re.compile(r"(?P<key>\b(?:token|secret|password|passwd|pwd|api_key|apikey)=)(?P<val>[^&\s\"',;]+)",
                        re.IGNORECASE)
#: ``AUTH``/``>password`` in Redis ACL command lines
_ACL_PASSWORD = re.compile(r"(?P<pre>\s>)(?P<pw>\S+)")

MASK = "***"


def redact(text: str) -> str:
    """``text`` with URL passwords, tokens and secrets replaced by ``***``."""
    if not text:
        return text
    out = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    out = _KEY_VALUE.sub(lambda m: f"{m['key']}{MASK}", out)
    return _ACL_PASSWORD.sub(lambda m: f"{m['pre']}{MASK}", out)


class RedactingFilter(logging.Filter):
    """Redacts every record's message (arguments merged first) and its exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a malformed record is passed on as it is
            return True
        clean = redact(msg)
        if clean != msg or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put a :class:`RedactingFilter` on every handler of ``logger`` (default: the root logger)."""
    lg = logger or logging.getLogger()
    for h in lg.handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())
