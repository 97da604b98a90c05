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
* ``POST /store-derive`` does what ``/store`` does, then one Argon2id derivation at the
  receipt's cost (``$SEALBOX_BENCH_KDF_OPSLIMIT``, ``$SEALBOX_BENCH_KDF_MEMLIMIT``): the
  unavoidable work of a submission with a file, issue 19's upload baseline.
* ``POST /store-seal`` does what ``/store-derive`` does, and seals the body on its way to
  the file as raw libsodium secretstream in 64 KiB chunks, hashing the ciphertext with
  BLAKE2b (hashlib) as it goes: the floor with the cryptography a sealed upload cannot
  skip, for the analysis of the upload (one thread, no parsing: what is left is the app's).
* ``GET /sealed/<name>`` reads a sealed file of ``$SEALBOX_BENCH_BLOBS`` and decrypts it
  with raw libsodium secretstream as it streams, a 64 KiB chunk at a time, the key and the
  associated data in the ``X-Key`` and ``X-AAD`` headers (hex): the crypto floor, issue
  19's download baseline.

``GET /`` answers 200 (the readiness probe). ``bench._bare_pages`` adds a reporter's pages
with nothing behind them but the HTTP exchange and the receipt's one derivation (the floor
of the submission and follow-up journeys).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nacl.bindings as sodium
from flask import Flask, Response, abort, request

from bench._bare_pages import bp as bare_pages
from bench._bare_pages import derive

PIECE = 64 * 1024
READ_PIECE = 1024 * 1024
SEALED_HEAD = 8 + sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # preamble, header
SEALED_CHUNK = PIECE + sodium.crypto_secretstream_xchacha20poly1305_ABYTES

app = Flask(__name__)
# One key for every worker (a session cookie signed by one is read by the next), given by
# the benchmark that drives the pages; the others use no session.
app.secret_key = os.environ.get("SEALBOX_BENCH_SECRET_KEY") or secrets.token_hex(32)
app.register_blueprint(bare_pages)


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
    return str(_stored())


@app.post("/store-derive")
def store_derive() -> str:
    total = _stored()
    derive(os.urandom(32))
    return str(total)


@app.post("/store-seal")
def store_seal() -> str:
    total = _stored(seal=True)
    derive(os.urandom(32))
    return str(total)


def _stored(*, seal: bool = False) -> int:
    stream = request.stream
    total = 0
    folder = Path(os.environ["SEALBOX_BENCH_FILES"])
    sealer = _Sealer() if seal else None
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".bare-store-") as out:
        while piece := stream.read(READ_PIECE):
            out.write(piece if sealer is None else sealer.push(piece))
            total += len(piece)
        if sealer is not None:
            out.write(sealer.finish())
        out.flush()
        os.fsync(out.fileno())
    return total


class _Sealer:
    """Raw secretstream over 64 KiB chunks, BLAKE2b over the ciphertext."""

    def __init__(self) -> None:
        self.state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self.state, os.urandom(32))
        self.digest = hashlib.blake2b(digest_size=32)
        self.digest.update(header)
        self.pending = b""

    def push(self, data: bytes) -> bytes:
        data, out = self.pending + data, []
        cut = len(data) - len(data) % PIECE
        view = memoryview(data)
        for start in range(0, cut, PIECE):
            out.append(self._seal(bytes(view[start:start + PIECE]), 0))
        self.pending = bytes(view[cut:])
        return b"".join(out)

    def finish(self) -> bytes:
        return self._seal(self.pending, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL)

    def _seal(self, chunk: bytes, tag: int) -> bytes:
        sealed = sodium.crypto_secretstream_xchacha20poly1305_push(self.state, chunk, b"", tag)
        self.digest.update(sealed)
        return sealed


@app.get("/sealed/<name>")
def sealed(name: str) -> Response:
    path = Path(os.environ["SEALBOX_BENCH_BLOBS"]) / name
    if "/" in name or name.startswith(".") or not path.is_file():
        abort(404)
    key, aad = bytes.fromhex(request.headers["X-Key"]), bytes.fromhex(request.headers["X-AAD"])
    chunks = -(-(path.stat().st_size - SEALED_HEAD) // SEALED_CHUNK)
    size = path.stat().st_size - SEALED_HEAD - chunks * (SEALED_CHUNK - PIECE)

    def stream() -> Iterator[bytes]:
        state = sodium.crypto_secretstream_xchacha20poly1305_state()
        with path.open("rb") as source:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(
                state, source.read(SEALED_HEAD)[8:], key)
            while piece := source.read(SEALED_CHUNK):
                plaintext, _tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                    state, piece, aad)
                yield plaintext

    response = Response(stream(), mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(size)
    return response


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
