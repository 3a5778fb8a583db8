"""The pages of a PDF: counted, sized at ``Limits.pdf_dpi``, their text layer kept as a hint.

A password-protected, encrypted, empty or broken PDF is refused with what to do
about it. PDFium is loaded only when a PDF is uploaded, and used by one thread
at a time.
"""

from __future__ import annotations

import math
import os
import re
import threading
from pathlib import Path

from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import _nfc
from library.ingest.messages import _fmt_pixels, _reason
from library.ingest.scan_types import PageRef
from library.settings import Limits

# A PDF text layer is only a hint; a hostile page could carry megabytes of it.
_MAX_TEXT_HINT_CHARS = 200_000

# PDFium is not thread-safe; a threaded web server may inspect two PDFs at once.
_PDFIUM_LOCK = threading.Lock()


def _pdf_pages(path: Path, label: str, limits: Limits) -> tuple[PageRef, ...]:
    import pypdfium2 as pdfium  # only PDF uploads pay for loading PDFium
    import pypdfium2.raw as pdfium_c

    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(os.fspath(path))
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            if code == pdfium_c.FPDF_ERR_PASSWORD:
                raise InputRejected(label, "password-protected PDF: remove the password and upload again") from None
            if code == pdfium_c.FPDF_ERR_SECURITY:
                raise InputRejected(
                    label, "the PDF is encrypted with an unsupported scheme: remove the encryption and upload again"
                ) from None
            if code == pdfium_c.FPDF_ERR_SUCCESS:
                raise InputRejected(label, "the PDF has no pages") from None
            raise InputRejected(
                label, f"broken PDF: it cannot be opened ({_reason(exc)}); export it again from the program that made it"
            ) from None
        except Exception as exc:
            raise InputRejected(label, f"broken PDF: it cannot be opened ({_reason(exc)})") from None
        try:
            count = len(pdf)
            if count > limits.max_pages_per_file:
                raise LimitExceeded(
                    label,
                    f"the PDF has {count:,} pages, over the limit of {limits.max_pages_per_file:,} per file; "
                    "split it into several files",
                )
            return tuple(_pdf_page(pdf, index, count, label, limits) for index in range(count))
        except InputRejected:
            raise
        except MemoryError:
            raise LimitExceeded(label, "there is not enough memory to read this PDF") from None
        except Exception as exc:
            raise InputRejected(label, f"broken PDF: a page cannot be read ({_reason(exc)})") from None
        finally:
            pdf.close()


def _pdf_page(pdf, index: int, count: int, label: str, limits: Limits) -> PageRef:
    page = pdf[index]
    try:
        width_pt, height_pt = page.get_size()
        where = f"page {index + 1} of {count}"
        if not (math.isfinite(width_pt) and math.isfinite(height_pt)) or width_pt <= 0 or height_pt <= 0:
            raise InputRejected(label, f"{where} has no usable size ({width_pt} × {height_pt} points)")
        dpi = limits.pdf_dpi
        width, height = max(1, round(width_pt * dpi / 72)), max(1, round(height_pt * dpi / 72))
        if width * height > limits.max_image_pixels:
            raise LimitExceeded(
                label,
                f"{where} would be {width:,} × {height:,} pixels at {dpi} dpi ({_fmt_pixels(width * height)}), "
                f"over the limit of {_fmt_pixels(limits.max_image_pixels)} per page",
            )
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
        return PageRef(page_index=index, width=width, height=height, dpi=(float(dpi), float(dpi)), text_hint=_clean_hint(text))
    finally:
        page.close()


_HINT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean_hint(text: str) -> str | None:
    text = _HINT_CONTROLS.sub("", _nfc(text.replace("\r\n", "\n").replace("\r", "\n")))
    text = text[:_MAX_TEXT_HINT_CHARS].strip()
    return text or None
