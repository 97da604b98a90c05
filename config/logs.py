"""Logging filters both apps and their servers install: a log line may say *what* went wrong,
never *who* asked or *what they wrote*.

* :class:`ExceptionClassOnly` turns a record carrying a traceback into one line naming the
  exception's class and where our code raised it (:func:`where_raised`): a traceback quotes
  source lines and the exception's message, and a message can quote report text (a decoding
  error shows the bytes, a ``KeyError`` the key). File names and line numbers quote nothing.
* :class:`RedactAddresses` removes the client address gunicorn writes into a few error-log
  lines (``Invalid request from ip=...``) and the bytes the client sent with them.

Plain ``logging``, no Flask: gunicorn's configuration files import this module too.
"""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path

# Frames in files under the project's folder are ours; a library's (its virtualenv's
# site-packages, the standard library) are left out of where_raised.
_PROJECT = Path(__file__).resolve().parents[1]
_FRAMES_SHOWN = 3


class ExceptionClassOnly(logging.Filter):
    """Keep the line and the exception's class; drop the traceback and its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            name = record.exc_info[0].__name__
            place = where_raised(record.exc_info[1])
            record.msg, record.args = f"{record.getMessage()} ({name}{place})", None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def where_raised(error: BaseException | None) -> str:
    """" at file:line in function < ..." for the innermost frames of our own code that the
    error went through, innermost first; "" when none is ours. Names and numbers only, so an
    operator can find the fault without the log ever holding what a reporter wrote."""
    if error is None:
        return ""
    places = []
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename).absolute()
        if not path.is_relative_to(_PROJECT) or "site-packages" in path.parts:
            continue
        places.append(f"{path.relative_to(_PROJECT).as_posix()}:{frame.lineno} in {frame.name}")
        if len(places) == _FRAMES_SHOWN:
            break
    return f" at {' < '.join(places)}" if places else ""


def class_of_traceback(text: str) -> str:
    """The exception class from a traceback a server hands over as text (Werkzeug's):
    its last line reads "Class: message"; the message is dropped."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    name = lines[-1].split(":", 1)[0].strip() if lines else ""
    return name if name.replace(".", "").replace("_", "").isalnum() else "error"


class RedactAddresses(logging.Filter):
    """gunicorn names the peer in a few error-log lines; keep the line, drop the address
    and, after "Invalid request from ip=...: <kind>", whatever the client sent. Its
    "Error handling request <path>" line loses the path (a path can name a case's file)."""

    _address = re.compile(r"\bip=\S+?(?=:\s|\s|$)")
    _client_text = re.compile(r"(Invalid request from ip=<redacted>: [^:'\"]*).*", re.DOTALL)
    _request_path = re.compile(r"^(Error handling request)\b.*", re.DOTALL)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ip=" in message or self._request_path.match(message):
            message = self._address.sub("ip=<redacted>", message)
            message = self._request_path.sub(r"\1", message)
            record.msg, record.args = self._client_text.sub(r"\1", message).rstrip(), None
        return True


def install(target: logging.Filterer) -> None:
    """Both filters on a logger or a handler (idempotent). On a handler they also see the
    records that child loggers propagate to it."""
    for kind in (RedactAddresses, ExceptionClassOnly):
        if not any(isinstance(f, kind) for f in target.filters):
            target.addFilter(kind())


def install_for_libraries() -> None:
    """The same filters for every other logger (SQLAlchemy's pool, psycopg...): they write
    through the root logger's handlers, and a library's own traceback ("Exception during
    reset or similar", with its frames and arguments) is cut to one line like ours. A
    process with no root handler gets one to stderr (where Python's last-resort handler
    would have printed the whole traceback)."""
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stderr)
    for handler in root.handlers:
        install(handler)
