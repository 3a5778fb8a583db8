"""Static files, with the precompressed copy (``name.br`` or ``name.gz``, made by scripts/frontend.sh)
sent to browsers that accept it, Brotli first: the 3D viewer's script shrinks from 1.07 MB to
0.24 MB (0.29 MB gzip), which is what a phone on a slow connection waits for. Every other text answer
(pages, styles, scripts, JSON, XML) is compressed as it is sent by Flask-Compress (zstd,
Brotli or gzip, as the browser accepts): a search page of 88 KB goes as about 12 KB."""

from __future__ import annotations

import mimetypes
import os

from flask import Flask, request, send_from_directory
from flask_compress import Compress
from werkzeug.security import safe_join

VENDOR_MAX_AGE_S = 7 * 86400  # front-end packages change only when the npm lock file does
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))  # the smaller first


def init_app(app: Flask) -> None:
    folder = app.static_folder

    def static(filename: str):
        max_age = VENDOR_MAX_AGE_S if filename.startswith("vendor/") else None
        copies = [(encoding, path) for encoding, suffix in PRECOMPRESSED
                  if (path := safe_join(folder, filename + suffix)) and os.path.isfile(path)]
        for encoding, path in copies:
            if request.accept_encodings[encoding]:
                mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
                resp = send_from_directory(folder, os.path.relpath(path, folder), mimetype=mimetype, max_age=max_age)
                resp.headers["Content-Encoding"] = encoding
                resp.headers["Vary"] = "Accept-Encoding"
                return resp
        resp = send_from_directory(folder, filename, max_age=max_age)
        if copies:
            resp.headers["Vary"] = "Accept-Encoding"
        return resp

    app.view_functions["static"] = static


COMPRESSED = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
              "application/ld+json", "application/manifest+json", "text/xml", "application/xml", "image/svg+xml",
              "text/plain"]


class _Compress(Compress):
    def after_request(self, response):
        if response.status_code == 206:  # a range of a file: compressing it would corrupt the range
            return response
        body = response.response
        response = super().after_request(response)
        if response.response is not body and hasattr(body, "close"):
            response.call_on_close(body.close)  # the file under a stream compressed as it goes is closed too
        return response


def init_compression(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED)
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_STREAMS", True)  # files and exports: compressed chunk by chunk as they go
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    _Compress(app)
