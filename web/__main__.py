"""``python -m web --host H --port P``: the portal on waitress (a production WSGI server).

With ``--reuse-port`` several such processes listen on the same port (SO_REUSEPORT)
and the kernel shares the connections among them: ``heritage serve --web-processes N``."""

from __future__ import annotations

import argparse
import socket

from waitress import serve

from web import create_app


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--reuse-port", action="store_true", help="share the port with other web processes")
    args = parser.parse_args()
    if args.reuse_port:
        serve(create_app(), sockets=[listening_socket(args.host, args.port)], threads=args.threads)
    else:
        serve(create_app(), host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()
