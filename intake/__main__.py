"""``python -m intake [--host 127.0.0.1] [--port 8080]``: the development server.

Werkzeug's request log starts every line with the client's address; this server's log
lines carry only the method, the route's pattern and the status: not the path itself,
whose language, case and file ids (``/ar/followup/files/<id>``) would tell, with the log's
timestamps, when a case's reporter was active. No address, user agent, referrer or
traceback is ever printed (config/logs.py), and no Server version header is sent.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.serving import WSGIRequestHandler, run_simple

from cases.health import check_services
from cases.store import Store
from config import ConfigError, load_settings
from config.logs import class_of_traceback, install

log = logging.getLogger("intake.server")


class AnonymousRequestHandler(WSGIRequestHandler):
    """Logs what happened, never who asked."""

    def address_string(self) -> str:
        return "-"

    def version_string(self) -> str:
        return "sealbox"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        command = getattr(self, "command", "-")
        log.info("%s %s %s", command, self._route(command), getattr(code, "value", code))

    def _route(self, command: str) -> str:
        """The pattern the path matched (``/<lang>/followup/files/<attachment_id>``)."""
        url_map: Map | None = getattr(getattr(self.server, "app", None), "url_map", None)
        path = getattr(self, "path", "").split("?", 1)[0]
        if url_map is None:
            return "-"
        try:
            rule, _args = url_map.bind("localhost").match(path, method=command, return_rule=True)
        except HTTPException:
            return "(no route)"
        return str(rule.rule)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server passes what the client sent ("Bad request syntax ('<request line>')"):
        # log the status code only, never the client's bytes.
        code = args[0] if args and format.startswith("code %d") else "-"
        log.warning("request error: code %s", code)

    def log_message(self, format: str, *args: Any) -> None:
        log.info(format, *args)

    def log(self, type: str, message: str, *args: Any) -> None:
        if message.startswith("Error on request"):  # Werkzeug hands over the traceback
            log.error("error on request: %s", class_of_traceback(str(args[-1]) if args else ""))
            return
        getattr(log, type if type in ("info", "warning", "error") else "info")(message, *args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m intake", description="Sealbox intake (development server)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        install(handler)
    try:
        settings = load_settings()
        check_services(settings, schema=False)  # reachable; migrate() below does the schema
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    store = Store(settings)
    store.migrate()

    from intake import create_app

    app = create_app(settings, store)
    print(
        f"Sealbox intake on http://{args.host}:{args.port}/ (no client addresses are logged)",
        file=sys.stderr,
        flush=True,
    )
    run_simple(
        args.host,
        args.port,
        app,
        request_handler=AnonymousRequestHandler,
        threaded=True,
        use_reloader=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
