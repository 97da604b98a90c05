"""Helpers for the security suite: marker strings, and a scanner over every byte written.

Not a test module (no ``test_`` prefix); ``conftest.py`` puts this folder on ``sys.path``.

The :class:`Scanner` is told where the system under test may have written anything — files
and folders (the SQLite file and its WAL/SHM, the blob store, the instance folder, the
temporary directory, log files), captured text (``caplog``, a server's stdout/stderr), a
PostgreSQL database (dumped with ``pg_dump``) and a Redis database (every key and value) —
and :meth:`Scanner.assert_clean` fails if any marker appears in any of them, in any of the
encodings of :func:`encodings_of`.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import make_url


def marker(label: str) -> str:
    """A unique, lowercase ASCII marker, long enough that every encoding of it is specific."""
    return f"sbxmark{label}{secrets.token_hex(10)}"


def _b64_variants(data: bytes) -> set[bytes]:
    """The part of base64(... data ...) that is fixed whatever bytes surround ``data``.

    ``data`` can start at any offset modulo 3 inside a longer base64 stream; for each
    alignment, encode with a filler prefix, then drop the first group (mixed with the
    filler) and the last group (mixed with whatever follows)."""
    out: set[bytes] = set()
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * pad + data)
            core = text[4:-4] if pad else text[:-4]
            if len(core) >= 12:
                out.add(core)
    return out


def encodings_of(value: str) -> dict[str, bytes]:
    """The byte strings that betray ``value``: utf-8, utf-16 (both orders), base64 at every
    alignment (standard and URL-safe), hex (both cases), URL encodings."""
    raw = value.encode("utf-8")
    forms: dict[str, bytes] = {
        "utf-8": raw,
        "utf-16-le": value.encode("utf-16-le"),
        "utf-16-be": value.encode("utf-16-be"),
        "hex": binascii.hexlify(raw),
        "HEX": binascii.hexlify(raw).upper(),
        "url": quote(value, safe="").encode(),
        "url-path": quote(value).encode(),
        "url-plus": quote_plus(value).encode(),
    }
    for i, variant in enumerate(sorted(_b64_variants(raw))):
        forms[f"base64#{i}"] = variant
    # Drop duplicates (an alphanumeric marker URL-encodes to itself).
    unique: dict[str, bytes] = {}
    for name, data in forms.items():
        if data not in unique.values():
            unique[name] = data
    return unique


@dataclass(frozen=True)
class Finding:
    marker: str
    encoding: str
    source: str
    offset: int
    context: bytes

    def __str__(self) -> str:
        return (
            f"{self.marker!r} ({self.encoding}) found in {self.source} at byte {self.offset}: "
            f"...{self.context!r}..."
        )


@dataclass
class Scanner:
    """Collects every place the system wrote to, then searches them for markers."""

    paths: list[Path] = field(default_factory=list)
    texts: list[tuple[str, bytes]] = field(default_factory=list)
    pg_urls: list[str] = field(default_factory=list)
    redis_urls: list[str] = field(default_factory=list)
    # Files scanned from an offset only (shared logs: /var/log/postgresql/...).
    tails: dict[Path, int] = field(default_factory=dict)
    scanned: list[tuple[str, int]] = field(default_factory=list)

    def add_path(self, path: Path) -> None:
        self.paths.append(Path(path))

    def add_text(self, source: str, data: str | bytes) -> None:
        self.texts.append((source, data.encode("utf-8") if isinstance(data, str) else data))

    def add_postgres(self, url: str) -> None:
        self.pg_urls.append(url)

    def add_redis(self, url: str) -> None:
        self.redis_urls.append(url)

    def add_log_tail(self, path: Path) -> None:
        """A shared log file: only what is appended from now on is scanned."""
        path = Path(path)
        self.tails[path] = path.stat().st_size if path.exists() else 0

    # -- collecting ---------------------------------------------------------------------

    def _files(self) -> Iterator[Path]:
        seen: set[Path] = set()
        for root in self.paths:
            if root.is_file():
                candidates = [root]
            else:
                candidates = sorted(root.rglob("*")) if root.exists() else []
            for path in candidates:
                if path.is_file() and not path.is_symlink() and path not in seen:
                    seen.add(path)
                    yield path

    def sources(self) -> Iterator[tuple[str, bytes]]:
        for path in self._files():
            try:
                yield str(path), path.read_bytes()
            except OSError as exc:  # vanished between listing and reading, or unreadable
                if path.exists():
                    raise AssertionError(f"cannot read {path} to scan it: {exc}") from exc
        yield from self.texts
        for path, offset in self.tails.items():
            if path.exists():
                with path.open("rb") as fh:
                    fh.seek(offset)
                    yield f"{path} (appended)", fh.read()
        for url in self.pg_urls:
            yield f"pg_dump of {make_url(url).database}", pg_dump(url)
        for url in self.redis_urls:
            yield f"redis {url}", redis_dump(url)

    # -- searching ----------------------------------------------------------------------

    def findings(self, markers: Iterable[str]) -> list[Finding]:
        patterns = [(m, enc, data) for m in markers for enc, data in encodings_of(m).items()]
        found: list[Finding] = []
        self.scanned = []
        for source, blob in self.sources():
            self.scanned.append((source, len(blob)))
            for m, enc, data in patterns:
                at = blob.find(data)
                if at >= 0:
                    ctx = blob[max(0, at - 40) : at + len(data) + 40]
                    found.append(Finding(m, enc, source, at, ctx))
        return found

    def assert_clean(self, markers: Iterable[str]) -> None:
        markers = list(markers)
        assert markers, "nothing to look for"
        found = self.findings(markers)
        assert not found, "plaintext or identifier written:\n" + "\n".join(map(str, found))

    def assert_scanned(self, *must: str) -> None:
        """Guard against a scanner that looks nowhere: each fragment names a scanned source."""
        names = [s for s, _ in self.scanned]
        for fragment in must:
            assert any(fragment in n for n in names), f"nothing scanned matches {fragment!r}"


def pg_dump(url: str) -> bytes:
    """A plain-text dump (data and schema) of one database; bytea comes out as hex, so a
    marker stored in the clear shows up as its utf-8 or hex form."""
    exe = shutil.which("pg_dump")
    if exe is None:
        import pytest

        pytest.skip("pg_dump not installed: cannot dump the PostgreSQL database to scan it")
    u = make_url(url)
    cmd = [exe, "--no-owner", "--no-privileges", "-h", u.host or "127.0.0.1"]
    cmd += ["-p", str(u.port or 5432), "-U", u.username or "postgres", u.database or ""]
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = u.password
    done = subprocess.run(cmd, capture_output=True, env=env, check=False, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"pg_dump failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def redis_dump(url: str) -> bytes:
    """Every key and value (strings, hashes, lists, sets, sorted sets) of one Redis db."""
    import redis

    client = redis.Redis.from_url(url)
    out = bytearray()
    for key in client.scan_iter(count=1000):
        out += key + b"\n"
        kind = client.type(key)
        if kind == b"string":
            out += client.get(key) or b""
        elif kind == b"hash":
            for k, v in client.hgetall(key).items():
                out += k + b"=" + v + b"\n"
        elif kind == b"list":
            out += b"\n".join(client.lrange(key, 0, -1))
        elif kind == b"set":
            out += b"\n".join(client.smembers(key))
        elif kind == b"zset":
            out += b"\n".join(m for m, _ in client.zrange(key, 0, -1, withscores=True))
        out += b"\n"
    client.close()
    return bytes(out)
