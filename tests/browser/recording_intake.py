"""``python tests/browser/recording_intake.py RECORD --host H --port P``: the intake's own
development server (``python -m intake``), with every request body it receives appended to
RECORD as it arrives, before the app reads it: a test's proof of what reached the server
(tests/browser/test_browser_sealed_report_page.py). Each entry is the path, a tab, the
body's length and a newline, then the body."""

from __future__ import annotations

import base64
import io
import sys
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import intake
import intake.__main__ as server


class RecordingBodies:
    def __init__(self, app: Callable[..., Iterable[bytes]], record: Path) -> None:
        self.app = app
        self.record = record

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        stream = environ["wsgi.input"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = stream.read(length) if length else b""
        with self.record.open("ab") as out:
            out.write(f"{environ.get('PATH_INFO', '')}\t{len(body)}\n".encode() + body)
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def read_record(record: Path) -> list[tuple[str, bytes]]:
    """(path, body) of every request recorded, in order."""
    data, entries, at = record.read_bytes() if record.exists() else b"", [], 0
    while at < len(data):
        head_end = data.index(b"\n", at)
        path, length = data[at:head_end].decode().split("\t")
        body_end = head_end + 1 + int(length)
        entries.append((path, data[head_end + 1:body_end]))
        at = body_end
    return entries


def start_recording(sealbox: Any, record: Path) -> Path:
    """Run the browser tests' intake (browserkit.Sealbox) as this recording server, sealing
    in the browser; returns the record's path."""
    sealbox.env["SEALBOX_SEAL_IN_BROWSER"] = "true"
    sealbox.start("intake", [sys.executable, str(Path(__file__).resolve()), str(record)])
    return record


def _encodings(secret: str | bytes) -> list[bytes]:
    raw = secret.encode() if isinstance(secret, str) else secret
    text = raw.decode("utf-8", "replace")
    return [raw, base64.b64encode(raw), urllib.parse.quote_plus(text).encode(),
            urllib.parse.quote(text).encode(), raw.hex().encode()]


def seen_in(record: Path, secret: str | bytes) -> list[str]:
    """The paths of the requests whose body holds ``secret`` as it is, in base64, URL-encoded
    or in hex."""
    return [path for path, body in read_record(record)
            if any(form in body for form in _encodings(secret))]


def main(argv: list[str]) -> int:
    record = Path(argv[0])
    make_app = intake.create_app

    def recording_app(*args: Any, **kwargs: Any) -> Any:
        app = make_app(*args, **kwargs)
        app.wsgi_app = RecordingBodies(app.wsgi_app, record)  # type: ignore[method-assign]
        return app

    intake.create_app = recording_app  # type: ignore[assignment]
    return server.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
