"""File stream throughput: crypto/ against raw libsodium secretstream, and against gpg.

    .venv/bin/python -m bench.bench_file_stream [--size-mib 256] [--repeats 5]

In memory, on the same random bytes, key, associated data and 64 KiB chunks:
``crypto.encrypt_stream`` / ``crypto.decrypt_stream`` against a bare loop over
``nacl.bindings.crypto_secretstream_xchacha20poly1305_*``. Sources are pre-cut bytes
pieces (handed over without copying); outputs are discarded. Target: ratio >= 0.9.

On disk (warm page cache, no fsync, same for all): crypto encrypting the file to another
file against ``gpg --encrypt`` (SecureDrop's path) and ``gpg --symmetric``, each with
gpg's default compression and with ``--compress-algo none``. Target: >= 10x gpg --encrypt.
"""

from __future__ import annotations

import argparse
import collections
import functools
import io
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

import nacl.bindings as sodium

import crypto
from bench._common import MIB, best_of_interleaved, machine, print_machine, save

CHUNK = crypto.CHUNK_SIZE
CONTEXT = crypto.Context("case-bench", "attachment")
PREAMBLE = struct.pack(">3sBI", b"SBF", 1, CHUNK)  # docs/CRYPTO.md, file format v1
AAD = CONTEXT.binding(1) + PREAMBLE  # what crypto/ binds every chunk to
HEADER_BYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
SEALED_CHUNK = CHUNK + sodium.crypto_secretstream_xchacha20poly1305_ABYTES
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class PieceReader:
    """A binary source over pre-cut pieces: read(n) returns the next whole piece, uncopied."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = iter(pieces)

    def read(self, size: int = -1) -> bytes:
        piece = next(self._pieces, b"")
        if 0 <= size < len(piece):
            raise ValueError("reads must not split a piece")
        return piece


def raw_encrypt(key: bytes, pieces: list[bytes]) -> Iterator[bytes]:
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    yield sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    last = len(pieces) - 1
    for i, piece in enumerate(pieces):
        tag = TAG_FINAL if i == last else TAG_MESSAGE
        yield sodium.crypto_secretstream_xchacha20poly1305_push(state, piece, AAD, tag)


def raw_decrypt(key: bytes, source: PieceReader) -> Iterator[bytes]:
    source.read(len(PREAMBLE))
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, source.read(HEADER_BYTES), key)
    while True:
        plaintext, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
            state, source.read(SEALED_CHUNK), AAD
        )
        yield plaintext
        if tag == TAG_FINAL:
            return


def discard(pieces: Iterable[bytes]) -> None:
    collections.deque(pieces, maxlen=0)


def in_memory(plain: list[bytes], repeats: int) -> dict[str, float]:
    key = crypto.new_key()
    sealed = b"".join(crypto.encrypt_stream(key, plain, CONTEXT))
    cut = len(PREAMBLE) + HEADER_BYTES
    pieces = [sealed[: len(PREAMBLE)], sealed[len(PREAMBLE) : cut]]
    pieces += [sealed[i : i + SEALED_CHUNK] for i in range(cut, len(sealed), SEALED_CHUNK)]
    # Both sides do the same work: each one reads the other's output.
    raw_sealed = io.BytesIO(PREAMBLE + b"".join(raw_encrypt(key, plain)))
    if (
        list(raw_decrypt(key, PieceReader(pieces))) != plain
        or list(crypto.decrypt_stream(key, raw_sealed, CONTEXT)) != plain
    ):
        raise RuntimeError("the baseline and crypto/ disagree")
    del sealed, raw_sealed
    return best_of_interleaved(
        {
            "encrypt raw": lambda: discard(raw_encrypt(key, plain)),
            "encrypt crypto": lambda: discard(crypto.encrypt_stream(key, plain, CONTEXT)),
            "decrypt raw": lambda: discard(raw_decrypt(key, PieceReader(pieces))),
            "decrypt crypto": lambda: discard(
                crypto.decrypt_stream(key, cast(BinaryIO, PieceReader(pieces)), CONTEXT)
            ),
        },
        repeats,
    )


def crypto_file_to_file(key: bytes, src: Path, dst: Path) -> None:
    with src.open("rb") as fin, dst.open("wb") as fout:
        pieces = iter(functools.partial(fin.read, CHUNK), b"")
        fout.writelines(crypto.encrypt_stream(key, pieces, CONTEXT))


def on_disk(plain: list[bytes], repeats: int, workdir: Path) -> dict[str, float]:
    src, dst = workdir / "plain.bin", workdir / "sealed.bin"
    with src.open("wb") as out:
        out.writelines(plain)
    key = crypto.new_key()
    candidates = {"crypto file -> file": lambda: crypto_file_to_file(key, src, dst)}
    gpg = shutil.which("gpg")
    if gpg is None:
        print("skipping gpg: gpg is not installed (apt-get install -y gnupg)")
        return best_of_interleaved(candidates, repeats)
    home = workdir / "gnupg"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    uid = "Sealbox bench <bench@example.invalid>"
    keygen = [gpg, "--batch", "--passphrase", "", "--quick-gen-key", uid, "default", "default"]
    subprocess.run([*keygen, "never"], env=env, check=True, capture_output=True)
    batch = [gpg, "--batch", "--yes", "--quiet", "--output", str(workdir / "out.gpg")]
    encrypt = [*batch, "--trust-model", "always", "--recipient", "bench@example.invalid"]
    symmetric = [*batch, "--pinentry-mode", "loopback", "--passphrase", "bench"]
    no_zip = ["--compress-algo", "none"]
    commands = {
        "gpg --encrypt": [*encrypt, "--encrypt", str(src)],
        "gpg --encrypt, no compression": [*encrypt, *no_zip, "--encrypt", str(src)],
        "gpg --symmetric": [*symmetric, "--symmetric", str(src)],
        "gpg --symmetric, no compression": [*symmetric, *no_zip, "--symmetric", str(src)],
    }
    for name, command in commands.items():
        candidates[name] = functools.partial(subprocess.run, command, env=env, check=True)
    try:
        return best_of_interleaved(candidates, repeats)
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="in memory; on disk: 3")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    size = args.size_mib * MIB
    plain = [os.urandom(CHUNK) for _ in range(size // CHUNK)]
    print(f"{args.size_mib} MiB of random bytes, {CHUNK // 1024} KiB chunks; MB/s = 10^6 B/s")

    memory = in_memory(plain, args.repeats)
    with tempfile.TemporaryDirectory(prefix="sealbox-bench-") as tmp:
        disk = on_disk(plain, min(args.repeats, 3), Path(tmp))

    rates = {name: size / 1e6 / secs for name, secs in {**memory, **disk}.items()}
    for name, rate in rates.items():
        print(f"  {name:<34} {rate:8.0f} MB/s")
    ratios = {
        "encrypt crypto / raw": rates["encrypt crypto"] / rates["encrypt raw"],
        "decrypt crypto / raw": rates["decrypt crypto"] / rates["decrypt raw"],
    }
    ratios |= {
        f"crypto file -> file / {name}": rates["crypto file -> file"] / rate
        for name, rate in rates.items()
        if name.startswith("gpg")
    }
    for name, ratio in ratios.items():
        print(f"  {name:<52} {ratio:6.2f}x")
    targets = {
        "in memory >= 0.9x raw": min(ratios["encrypt crypto / raw"], ratios["decrypt crypto / raw"])
        >= 0.9,
    }
    if "crypto file -> file / gpg --encrypt" in ratios:
        targets[">= 10x gpg --encrypt"] = ratios["crypto file -> file / gpg --encrypt"] >= 10
    for name, met in targets.items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    save(
        "file_stream",
        {
            "size_mib": args.size_mib,
            "chunk_bytes": CHUNK,
            "repeats": args.repeats,
            "best_seconds": {**memory, **disk},
            "mb_per_s": rates,
            "ratios": ratios,
            "targets_met": targets,
        },
    )


if __name__ == "__main__":
    main()
