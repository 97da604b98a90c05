"""Rate limits: per client (keyed on a digest nobody can reverse) and global."""

from __future__ import annotations

import re

import pytest

from crypto import new_receipt
from intake.limits import ROTATING_KEY, RotatingKey


def _storage_keys(app) -> list[str]:  # type: ignore[no-untyped-def]
    limiter = app.extensions["sealbox_limiter"]
    storage = limiter.storage
    return [
        str(k)
        for k in list(getattr(storage, "storage", {}).keys())
        + list(getattr(storage, "expirations", {}).keys())
    ]


def test_submissions_per_client_then_429_with_retry_after(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    app = make_app(submissions_per_hour_per_client=2)
    browser = new_browser(the_app=app)
    browser.submit()
    browser.submit()
    review = browser.review()
    blobs = app.config["SEALBOX_SETTINGS"].blob_path
    before = sorted(blobs.iterdir())
    response = browser.send(review, files=[("a.bin", b"x" * 100_000)])
    assert response.status_code == 429
    assert sorted(blobs.iterdir()) == before  # refused before the body was read
    retry = int(response.headers["Retry-After"])
    assert 0 < retry <= 3600
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html and re.search(r"try again in \d+ minutes", html)
    assert '<html lang="en"' in html
    # The review step is not a submission and is not counted.
    assert browser.review().status_code == 200
    # Another client is not affected by this one's limit.
    other = new_browser(the_app=app)
    other.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert other.send(other.review()).status_code == 200


def test_global_submission_limit_applies_to_everyone(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    app = make_app(submissions_per_minute_global=2)
    for i in range(2):
        b = new_browser(the_app=app)
        b.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{i + 10}"
        b.submit()
    late = new_browser(the_app=app)
    late.client.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    assert late.send(late.review()).status_code == 429


def test_lookups_are_limited_per_client_and_globally(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    app = make_app(lookups_per_hour_per_client=3, lookups_per_minute_global=5)
    browser = new_browser(the_app=app)
    for _ in range(3):
        assert browser.login(new_receipt()).status_code == 400
    limited = browser.login(new_receipt())
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert browser.client.get("/en/followup/").status_code == 200  # showing the form is free
    others = []
    for i in range(3):
        b = new_browser(the_app=app)
        b.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{i}"
        others.append(b.login(new_receipt()).status_code)
    # 5 look-ups a minute in total: failed look-ups count, those the per-client limit
    # refused (and that cost no derivation) do not.
    assert others == [400, 400, 429]


def test_limit_keys_never_contain_the_address(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    app = make_app(lookups_per_hour_per_client=50)
    browser = new_browser(the_app=app)
    browser.client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    browser.login(new_receipt())
    keys = _storage_keys(app)
    assert keys, "the limiter stored nothing"
    joined = " ".join(keys)
    assert "203.0.113.77" not in joined and "203-0-113-77" not in joined
    assert re.search(r"c-[0-9a-f]{32}", joined)


def test_rotating_key_changes_every_period_and_is_random() -> None:
    key = RotatingKey(period=3600)
    first = key.current(now=7200.0)
    assert key.current(now=7200.0 + 3599) == first
    second = key.current(now=7200.0 + 3600)
    assert second != first and len(second) == 32
    assert RotatingKey().current() != RotatingKey().current()
    assert len(ROTATING_KEY.current()) == 32


def test_onion_visitors_share_no_per_client_bucket(make_app, new_browser, accepted) -> None:  # type: ignore[no-untyped-def]
    listen, connection = accepted
    app = make_app(
        onion_listen=listen, submissions_per_hour_per_client=1, submissions_per_minute_global=3
    )
    codes = []
    for _ in range(4):
        b = new_browser(the_app=app)
        b.client.environ_base["gunicorn.socket"] = connection  # arrived on the onion bind
        codes.append(b.send(b.review()).status_code)
    assert codes == [200, 200, 200, 429]  # only the global limit applies behind Tor


def test_an_onion_host_header_on_the_clear_web_changes_nothing(  # type: ignore[no-untyped-def]
    make_app, new_browser, accepted
) -> None:
    """Claiming to be onion traffic (the Host header) skips no limit and earns no badge."""
    onion = "x" * 56 + ".onion"
    listen, clear_web = accepted
    app = make_app(
        onion_address=onion, onion_listen="127.0.0.1:1",  # some other listener
        submissions_per_hour_per_client=1, submissions_per_minute_global=100,
    )
    codes = []
    for _ in range(3):
        b = new_browser(the_app=app)
        b.client.environ_base.update({"gunicorn.socket": clear_web, "HTTP_HOST": onion})
        codes.append(b.send(b.review()).status_code)
    page = app.test_client().get("/en/", base_url=f"http://{onion}",
                                 environ_base={"gunicorn.socket": clear_web})
    assert codes == [200, 429, 429]
    assert "Confidential (ordinary browser)." in page.get_data(as_text=True)
    assert listen != "127.0.0.1:1"


def test_the_proxy_header_counts_clients_apart_only_from_the_proxy(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    app = make_app(submissions_per_hour_per_client=1, submissions_per_minute_global=100)

    def send(peer: str, claimed: str) -> int:
        b = new_browser(the_app=app)
        b.client.environ_base.update({"REMOTE_ADDR": peer, "HTTP_X_SEALBOX_CLIENT": claimed})
        return int(b.send(b.review()).status_code)

    # Behind nginx: every connection is from 127.0.0.1, the header tells clients apart.
    assert [send("127.0.0.1", "198.51.100.1"), send("127.0.0.1", "198.51.100.1")] == [200, 429]
    assert send("127.0.0.1", "198.51.100.2") == 200
    # From anyone but the proxy the header is ignored: no fresh bucket per forged value.
    assert send("203.0.113.9", "198.51.100.3") == 200
    assert send("203.0.113.9", "198.51.100.4") == 429
    # An IPv6 client is one client for its whole /64.
    assert send("::1", "2001:db8:1:2::a") == 200
    assert send("::1", "2001:db8:1:2:ffff::b") == 429
    assert send("::1", "2001:db8:1:3::a") == 200


def test_the_proxy_header_never_reaches_a_view(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    seen: list[dict[str, str]] = []

    @app.get("/probe-headers")
    def probe() -> str:
        from flask import request

        seen.append({k: v for k, v in request.environ.items() if isinstance(v, str)})
        return "ok"

    client = app.test_client()
    client.get("/probe-headers", headers={"X-Sealbox-Client": "198.51.100.77"},
               environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen and "198.51.100.77" not in repr(seen[0])
    assert re.fullmatch(r"c-[0-9a-f]{32}", seen[0]["sealbox.client_key"])


@pytest.mark.redis
def test_redis_storage(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    import secrets

    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    app = make_app(ratelimit_storage_uri="redis://127.0.0.1:6379/0", lookups_per_hour_per_client=1)
    app.config["RATELIMIT_KEY_PREFIX"] = "sealbox-test-" + secrets.token_hex(4)
    browser = new_browser(the_app=app)
    browser.client.environ_base["REMOTE_ADDR"] = "192.0.2." + str(secrets.randbelow(250))
    assert browser.login(new_receipt()).status_code == 400
    assert browser.login(new_receipt()).status_code == 429


def test_posts_with_a_bad_csrf_token_count_against_the_limits(make_app, new_browser) -> None:  # type: ignore[no-untyped-def]
    """A flood without valid tokens must be refused too, not parsed forever."""
    app = make_app(submissions_per_hour_per_client=2, submissions_per_minute_global=1000)
    browser = new_browser(the_app=app)
    for _ in range(2):
        refused = browser.client.post("/en/report/send", data={"csrf_token": "forged"})
        assert refused.status_code == 400
    third = browser.client.post("/en/report/send", data={"csrf_token": "forged"})
    assert third.status_code == 429
    assert browser.send(browser.review()).status_code == 429


def test_every_post_endpoint_requires_a_csrf_token(make_app) -> None:  # type: ignore[no-untyped-def]
    """CSRF is checked per view (inside the limits): no view may be left without it (the
    calls of sealing in the browser too, so they are switched on)."""
    app = make_app(seal_in_browser=True)
    client = app.test_client()
    client.get("/en/report/")  # a session, as a real browser would have
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()):
            continue
        values = {k: "en" if k == "lang" else "0000000000000000" for k in rule.arguments}
        url = rule.build(values)[1]
        response = client.post(url, data={"csrf_token": "forged", "text": "x"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        checked += 1
    assert checked >= 5
