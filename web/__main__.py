"""``python -m web --host H --port P``: the portal on waitress (a production WSGI server)."""

from __future__ import annotations

import argparse

from waitress import serve

from web import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    serve(create_app(), host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()
