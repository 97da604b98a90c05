"""``python -m caseworker [--host 127.0.0.1] [--port 8081]``: the development server.

Its request log names neither the client address nor the query string."""

from __future__ import annotations

import argparse
import sys

from werkzeug.serving import WSGIRequestHandler, run_simple


class AnonymousRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the client address (and without query strings)."""

    def address_string(self) -> str:
        return "-"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s %s', self.command, path, code, size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caseworker", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    from caseworker import create_app
    from config import ConfigError

    try:
        app = create_app()
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    run_simple(args.host, args.port, app, request_handler=AnonymousRequestHandler, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
