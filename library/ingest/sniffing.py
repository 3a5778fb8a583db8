"""What a file is, from its first bytes: content decides, never the name."""

from __future__ import annotations

import os

SCAN_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".jp2", ".j2k", ".jpx", ".jpf", ".pdf"}
ACCEPTED = "accepted are JPEG, PNG, TIFF, JPEG 2000 and PDF"

_HTML_STARTS = ("<!doctype html", "<html", "<head", "<body", "<meta", "<title", "<script", "<div", "<p>", "<table")


def sniff(head: bytes) -> tuple[str | None, str]:
    """``(media_type, description)`` of content that starts with ``head``.

    ``media_type`` is one of :data:`MEDIA_TYPES`, or ``None`` for content that
    is not an accepted scan; ``description`` says what it looks like
    (``"an HTML web page"``), for messages.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "a JPEG image"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "a PNG image"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "image/tiff", "a TIFF image"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "image/jp2", "a JPEG 2000 image"
    if b"%PDF-" in head[:1024]:
        return "application/pdf", "a PDF document"
    return None, _describe_other(head)


def _describe_other(head: bytes) -> str:
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        if b"[Content_Types].xml" in head or b"word/" in head or b"xl/" in head:
            return "a Microsoft Office document (a zip archive inside)"
        if b"mimetypeapplication/epub+zip" in head:
            return "an EPUB e-book (a zip archive inside)"
        if b"mimetypeapplication/vnd.oasis" in head:
            return "an OpenDocument file (a zip archive inside)"
        return "a ZIP archive"
    binary = [
        (b"\x7fELF", "an ELF executable program"),
        (b"MZ", "a Windows executable program"),
        (b"\xca\xfe\xba\xbe", "a Mach-O or Java program"),
        (b"\xcf\xfa\xed\xfe", "a macOS executable program"),
        (b"\xce\xfa\xed\xfe", "a macOS executable program"),
        (b"GIF87a", "a GIF image, which is not accepted for scans; convert it to PNG or TIFF"),
        (b"GIF89a", "a GIF image, which is not accepted for scans; convert it to PNG or TIFF"),
        (b"\x1f\x8b", "a gzip archive; only zip archives are accepted"),
        (b"BZh", "a bzip2 archive; only zip archives are accepted"),
        (b"\xfd7zXZ\x00", "an xz archive; only zip archives are accepted"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; only zip archives are accepted"),
        (b"Rar!\x1a\x07", "a RAR archive; only zip archives are accepted"),
        (b"AT&TFORM", "a DjVu document, which is not accepted; convert it to PDF or TIFF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.doc, .xls)"),
        (b"{\\rtf", "an RTF text document"),
        (b"8BPS", "a Photoshop document, which is not accepted; export it as TIFF or PNG"),
        (b"%!PS", "a PostScript document, which is not accepted; convert it to PDF"),
    ]
    for magic, what in binary:
        if head.startswith(magic):
            return what
    if head.startswith(b"BM") and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "a BMP image, which is not accepted for scans; convert it to PNG or TIFF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image, which is not accepted for scans; convert it to PNG or TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "a HEIC photo, which is not accepted; export it as JPEG"
        if brand in (b"avif", b"avis"):
            return "an AVIF image, which is not accepted; export it as JPEG or PNG"
        return "an MP4 or QuickTime video"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "a tar archive; only zip archives are accepted"
    text = _as_text(head)
    if text is not None:
        lowered = text.lstrip("\ufeff \t\r\n").lower()
        if lowered.startswith("<?xml"):
            if "<svg" in lowered:
                return "an SVG drawing"
            if "<html" in lowered:
                return "an XHTML web page"
            return "an XML document"
        if lowered.startswith(_HTML_STARTS) or ("<html" in lowered[:1024]):
            return "an HTML web page (perhaps a saved error page instead of the scan)"
        if lowered.startswith("<svg"):
            return "an SVG drawing"
        if lowered.startswith("#!"):
            return "a script (a program in text)"
        return "plain text"
    return "unrecognised binary data (it starts with bytes " + head[:8].hex(" ") + ")"


def _as_text(head: bytes) -> str | None:
    """``head`` as text when it is UTF-8 (or UTF-16 with a BOM) without NUL bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[: len(head) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the head
            return head[: exc.start].decode("utf-8")
        return None


def _rejected_content(name: str, description: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    claim = f" (the name ends in '{suffix}', but the content decides)" if suffix in SCAN_SUFFIXES else ""
    return f"the content is {description}, not a scan{claim}; {ACCEPTED}"
