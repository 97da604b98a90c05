"""Start-up checks for the services a production instance depends on: PostgreSQL (or the
SQLite file) and the Redis rate-limit storage.

No Flask. The app factories, ``sealbox serve``/``sealbox db upgrade`` and the shipped
gunicorn configurations call these before serving, so an operator who started Sealbox
against a stopped database, a wrong password or an unmigrated schema reads one line that
says what is wrong and what to do — never a traceback, and never a password.

    from cases.health import check_services
    check_services(settings, store)      # raises ServiceError (a ConfigError)

``ServiceError`` is a ``config.ConfigError``: callers that already print ConfigError
problems one per line and exit need no new code path.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from cases.db import make_engine
from cases.store import Store, alembic_config
from config import ConfigError, Settings

CONNECT_TIMEOUT_SECONDS = 5
# flask-limiter (through ``limits``) keeps every counter under this prefix; the probe
# writes there too, so a Redis ACL restricted to ``~LIMITS:*`` passes the check.
REDIS_PROBE_KEY = "LIMITS:sealbox:startup-check"


class ServiceError(ConfigError):
    """A service Sealbox needs is unreachable or misconfigured; one line per problem."""


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return exc.__class__.__name__


def _shown(url: URL | str) -> str:
    """The URL without its password (safe for a log line)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def database_url_problems(url: str) -> list[str]:
    """Problems visible from the URL alone (scheme, driver); empty if it looks usable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return ["database_url: not a valid SQLAlchemy URL (postgresql+psycopg://user@host/db)"]
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        return [f"database_url: {_shown(parsed)}: only SQLite and PostgreSQL are supported"]
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        return [
            f"database_url: {_shown(parsed)} uses the {parsed.get_driver_name()!r} driver; "
            "Sealbox ships psycopg 3: write postgresql+psycopg://..."
        ]
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        return [f"database_url: the driver for {parsed.drivername!r} is not installed"]
    return []


def _probe_engine(url: str) -> Engine:
    """A throw-away engine whose connection attempts give up after a few seconds."""
    if make_url(url).get_backend_name() == "postgresql":
        return create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
    return make_engine(url, poolclass=NullPool)


def database_problems(url: str, *, schema: bool = True) -> list[str]:
    """Connect to the database at ``url`` and, with ``schema``, compare its Alembic
    revision with this code's head. Returns one line per problem."""
    problems = database_url_problems(url)
    if problems:
        return problems
    shown = _shown(url)
    engine = _probe_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if not schema:
                return []
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        return [f"database {shown} is not reachable: {_first_line(exc)}"]
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    if current == heads:
        return []
    if not current:
        return [
            f"database {shown} has no Sealbox tables: run `sealbox db upgrade` "
            "first (with the migration role's database URL)"
        ]
    unknown = sorted(rev for rev in current if _known(script, rev) is False)
    if unknown:
        return [
            f"database {shown} is at revision {', '.join(unknown)}, which this version of "
            "Sealbox does not know: the database is newer than the code (upgrade the code)"
        ]
    return [
        f"database {shown} is at revision {', '.join(sorted(current))} but this version "
        f"needs {', '.join(sorted(heads))}: run `sealbox db upgrade`"
    ]


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


def redis_problems(uri: str) -> list[str]:
    """For a ``redis://``/``rediss://`` rate-limit storage URI: connect, authenticate and
    write a short-lived probe key. ``memory://`` needs no check."""
    if not uri.startswith(("redis://", "rediss://")):
        return []
    import redis  # the dependency is only needed when Redis is configured

    shown = _redis_shown(uri)
    try:
        client = redis.Redis.from_url(
            uri,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=CONNECT_TIMEOUT_SECONDS,
        )
    except ValueError as exc:
        return [f"ratelimit_storage_uri: {shown} is not a valid Redis URL ({exc})"]
    try:
        client.ping()
        client.set(REDIS_PROBE_KEY, b"1", ex=10)
        client.delete(REDIS_PROBE_KEY)
    except redis.AuthenticationError as exc:
        if "@" not in uri:
            return [
                f"Redis {shown} requires a user and password: write them into "
                "ratelimit_storage_uri (redis://USER:PASSWORD@host:6379/0)"
            ]
        return [f"Redis {shown} refused the credentials: {_first_line(exc)}"]
    except redis.ConnectionError as exc:
        return [f"Redis {shown} is not reachable: {_first_line(exc)}"]
    except redis.TimeoutError:
        return [f"Redis {shown} did not answer within {CONNECT_TIMEOUT_SECONDS} s"]
    except redis.ResponseError as exc:  # NOAUTH, NOPERM, READONLY, bad db index...
        if str(exc).startswith("NOAUTH") and "@" not in uri:
            return [
                f"Redis {shown} requires a password: write it into ratelimit_storage_uri "
                "(redis://:PASSWORD@host:6379/0 or redis://USER:PASSWORD@...)"
            ]
        return [f"Redis {shown} refused the rate-limit storage: {_first_line(exc)}"]
    except redis.RedisError as exc:
        return [f"Redis {shown}: {_first_line(exc)}"]
    finally:
        client.close()
    return []


def _redis_shown(uri: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port else "")
        if parts.username:
            netloc = f"{parts.username}:***@{netloc}"
        elif parts.password:
            netloc = f":***@{netloc}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<unparseable URL>"


def _url_of(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def check_database(target: Store | Settings, *, schema: bool = True) -> None:
    """Raise ServiceError unless the database of a Store (or of Settings, before a Store
    is built) answers and, with ``schema``, is migrated to this code's head."""
    url = _url_of(target) if isinstance(target, Store) else target.sqlalchemy_url
    problems = database_problems(url, schema=schema)
    if problems:
        raise ServiceError(problems)


def check_redis(uri: str) -> None:
    """Raise ServiceError unless the rate-limit storage at ``uri`` accepts writes."""
    problems = redis_problems(uri)
    if problems:
        raise ServiceError(problems)


def check_services(settings: Settings, store: Store | None = None, *, schema: bool = True) -> None:
    """Check every external service the settings name; raise one ServiceError listing all
    the problems found (database and Redis are both checked even if the first fails)."""
    url = _url_of(store) if store is not None else settings.sqlalchemy_url
    problems = database_problems(url, schema=schema)
    problems += redis_problems(settings.ratelimit_storage_uri)
    if problems:
        raise ServiceError(problems)
