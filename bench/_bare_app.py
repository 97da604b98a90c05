"""The baseline server app: bare Flask, no Sealbox code, run by the same gunicorn config.

* ``POST /discard`` reads the request body in 1 MiB pieces and throws it away (1 MiB is
  the fastest read size on gunicorn, whose largest recv() is 1 MiB: smaller reads make it
  copy its read-ahead buffer again and again, larger ones gain nothing);
* ``GET /file/<name>`` streams a file of ``$SEALBOX_BENCH_FILES`` from disk in 64 KiB
  pieces (the size of the plaintext pieces the app's decrypting download yields), with a
  Content-Length, as a generator: what the app's attachment download does minus the
  decryption, the session and the database.

* ``POST /store`` reads the body the same way into a file, fsyncs and deletes it (the
  cost of durable storage alone, for the analysis of the upload).

``GET /`` answers 200 (the readiness probe).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Flask, Response, abort, request

PIECE = 64 * 1024
READ_PIECE = 1024 * 1024

app = Flask(__name__)


@app.get("/")
def ready() -> str:
    return "ok"


@app.post("/discard")
def discard() -> str:
    stream = request.stream
    total = 0
    while piece := stream.read(READ_PIECE):
        total += len(piece)
    return str(total)


@app.post("/store")
def store() -> str:
    """Like /discard, but the body goes to a file that is fsynced (as the app's blob store
    does) and then deleted: what durable storage alone costs, without parsing or crypto."""
    stream = request.stream
    total = 0
    folder = Path(os.environ["SEALBOX_BENCH_FILES"])
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".bare-store-") as out:
        while piece := stream.read(READ_PIECE):
            out.write(piece)
            total += len(piece)
        out.flush()
        os.fsync(out.fileno())
    return str(total)


@app.get("/file/<name>")
def file(name: str) -> Response:
    folder = Path(os.environ["SEALBOX_BENCH_FILES"])
    path = folder / name
    if "/" in name or name.startswith(".") or not path.is_file():
        abort(404)

    def stream() -> Iterator[bytes]:
        with path.open("rb") as source:
            while piece := source.read(PIECE):
                yield piece

    response = Response(stream(), mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(path.stat().st_size)
    return response
