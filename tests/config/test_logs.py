"""The log filters keep what an operator needs to find a fault (the class, where our code
raised it) and nothing a reporter wrote (the message, source lines, arguments)."""

from __future__ import annotations

import json
import logging

import pytest

from config.logs import ExceptionClassOnly, where_raised

SECRET = "the depot manager sells the fuel"


def _raise_from_our_code() -> None:
    json.loads(SECRET)  # the message of the error quotes the text


def test_where_raised_names_our_frames_innermost_first_and_no_text() -> None:
    with pytest.raises(ValueError) as caught:
        _raise_from_our_code()
    place = where_raised(caught.value)
    assert place.startswith(" at tests/config/test_logs.py:")
    assert "in _raise_from_our_code <" in place and "json" not in place.split(" < ")[0]
    assert SECRET not in place and "site-packages" not in place
    assert where_raised(None) == "" and where_raised(ValueError("no traceback")) == ""


def test_a_logged_traceback_becomes_one_line_with_its_class_and_place() -> None:
    try:
        _raise_from_our_code()
    except ValueError:
        record = logging.LogRecord("intake", logging.ERROR, __file__, 1, "failed", None,
                                   exc_info=__import__("sys").exc_info())
    assert ExceptionClassOnly().filter(record)
    line = logging.Formatter().format(record)
    assert line.startswith("failed (JSONDecodeError at tests/config/test_logs.py:")
    assert SECRET not in line and "Traceback" not in line and "\n" not in line
