"""The scanner finds what it is meant to find: a check that looks nowhere proves nothing."""

from __future__ import annotations

import base64
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from secutil import Scanner, encodings_of, marker
from sqlalchemy import text

from cases.store import Store


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "hex", "url", "base64"])
def test_finds_each_encoding_inside_noise(tmp_path: Path, encoding: str) -> None:
    secret = marker("enc") + " with/space & more"
    raw = secret.encode()
    for pad in range(3):  # base64 at every alignment inside a longer stream
        noise = os.urandom(1000 + pad)
        payload = {
            "utf-8": noise + raw + noise,
            "utf-16-le": noise + secret.encode("utf-16-le") + noise,
            "hex": noise.hex().encode() + raw.hex().encode() + noise.hex().encode(),
            "url": b"q=" + quote(secret).encode(),
            "base64": base64.b64encode(noise + raw + noise),
        }[encoding]
        f = tmp_path / f"blob{pad}"
        f.write_bytes(payload)
        s = Scanner()
        s.add_path(tmp_path)
        found = s.findings([secret])
        assert found, f"{encoding} at alignment {pad} not found"
        f.unlink()


def test_clean_data_passes(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(os.urandom(100_000))
    s = Scanner()
    s.add_path(tmp_path)
    s.assert_clean([marker("x")])
    s.assert_scanned(str(tmp_path / "a"))


def test_encodings_are_distinct_and_specific() -> None:
    forms = encodings_of(marker("y"))
    assert len(set(forms.values())) == len(forms)
    assert all(len(v) >= 12 for v in forms.values())


def test_scanner_sees_database_tempdir_and_logs(
    scanner: Scanner, store: Store, sec_tmpdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    in_db, in_tmp, in_log = marker("db"), marker("tmp"), marker("log")
    with store.transaction() as session:
        # A plaintext value written the way a careless column would hold it.
        session.execute(
            text("INSERT INTO instance_policy (key, value) VALUES ('probe', :v)"), {"v": in_db}
        )
    with tempfile.NamedTemporaryFile(delete=False) as fh:  # lands in sec_tmpdir
        fh.write(in_tmp.encode())
    assert Path(fh.name).parent == sec_tmpdir
    logging.getLogger("probe").warning("value %s", in_log)
    scanner.add_text("caplog", caplog.text)
    found = {f.marker for f in scanner.findings([in_db, in_tmp, in_log])}
    assert found == {in_db, in_tmp, in_log}
    if store.engine.dialect.name == "postgresql":
        scanner.assert_scanned("pg_dump of")
    else:
        scanner.assert_scanned("sealbox.db")


@pytest.mark.redis
def test_scanner_sees_redis(redis_url: str) -> None:
    import redis

    url = redis_url
    client = redis.Redis.from_url(url)
    m = marker("redis")
    key = b"LIMITER/probe/" + m.encode()
    client.set(key, b"1", ex=60)
    try:
        s = Scanner()
        s.add_redis(url)
        assert [f.marker for f in s.findings([m])] == [m]
    finally:
        client.delete(key)  # only our key: the database may be shared
        client.close()
