"""One free-text catalogue value checked: NFC-normalised and stripped, then refused when it

- is longer than ``Limits.max_metadata_chars`` (:class:`LimitExceeded`);
- holds a control character (only ``description`` may hold line breaks) or an
  invisible text-direction control;
- holds markup: an HTML tag (``<b>``, ``</i>``, ``<script``), an HTML comment,
  an HTML entity (``&lt;``, ``&#60;``) or a ``javascript:``/``vbscript:``
  link. A lone ``<`` or ``&`` (``a < b``, ``Văn hóa & Thông tin``) is fine;
- could be run as a spreadsheet formula when the catalogue is exported and
  opened in Excel (CSV injection). **The rule:** a value that starts with
  ``=``, ``+``, ``-`` or ``@`` (after stripping), or whose raw cell starts with
  a tab or carriage return, is refused, *unless* the whole value is a plain
  number (``-5``, ``+3.5``, ``1.234,5``) or a telephone number (``+84 24 3825
  1234``): digits, spaces, dots, hyphens and parentheses after one leading
  ``+`` or ``-``. Those cannot call a function. Anything else (``=HYPERLINK(…)``,
  ``-2+3``, ``@SUM(…)``, ``- tập 1``) must lose its leading sign.

Pure validation: no database, no Flask.
"""

from __future__ import annotations

import re
import unicodedata

from library.errors import InputRejected, LimitExceeded
from library.ingest.filenames import describe_char, display_label, first_unsafe_char
from library.settings import Limits

__all__ = ["validate_text_value"]

_FORMULA_START = ("=", "+", "-", "@")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")
_PHONE_NUMBER = re.compile(r"[+-]?\(?\d[\d .()-]*\d")
_MARKUP = re.compile(
    r"</?[a-z][a-z0-9-]*(?=[\s/>]|$)"  # a tag: <b>, </i>, <script, <img src=…
    r"|<!--|<!\[cdata\[|<\?"
    r"|(?:javascript|vbscript|livescript)\s*:"
    r"|data\s*:\s*text/html"
    r"|&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]{1,31});",  # an entity: &lt; &#60; &amp;
    re.IGNORECASE | re.ASCII,
)


class _Problem(Exception):
    """One value's problem, raised inside validation and turned into InputRejected by the caller."""

    def __init__(self, problem: str, limit: bool = False):
        super().__init__(problem)
        self.problem = problem
        self.limit = limit


def _clean_text(field_name: str, raw: object, *, limits: Limits) -> str | None:
    """The value NFC-normalised and stripped (``None`` when empty), or :class:`_Problem`."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _Problem("the value must be text")
    value = unicodedata.normalize("NFC", raw)
    multiline = field_name == "description"
    if multiline:
        value = value.replace("\r\n", "\n")
    if value[:1] in ("\t", "\r"):
        raise _Problem("possible spreadsheet formula: the value starts with a tab or carriage return; remove it")
    value = value.strip()
    if not value:
        return None
    if len(value) > limits.max_metadata_chars:
        raise _Problem(
            f"the value is {len(value):,} characters long, over the limit of {limits.max_metadata_chars:,}", limit=True
        )
    bad = first_unsafe_char(value, allow="\n" if multiline else "")
    if bad is not None:
        kind = "a text-direction control" if unicodedata.category(bad) == "Cf" else "a control character"
        raise _Problem(f"the value contains {kind} ({describe_char(bad)}); remove it")
    if value[0] in _FORMULA_START and not (_PLAIN_NUMBER.fullmatch(value) or _PHONE_NUMBER.fullmatch(value)):
        raise _Problem(f"possible spreadsheet formula; remove the leading '{value[0]}'")
    markup = _MARKUP.search(value)
    if markup:
        raise _Problem(
            f"the value contains markup ('{display_label(markup.group(0))}'); write plain text, "
            "without HTML tags, entities or script links"
        )
    return value


def validate_text_value(raw: object, *, field: str, source: str, limit: int = 2_000) -> str | None:
    """One free-text value (a monument's name, a label) checked like catalogue metadata:
    NFC, stripped, no control characters, markup or spreadsheet formulas, at most ``limit``
    characters. ``None`` when empty; :class:`InputRejected` naming the field otherwise."""
    from dataclasses import replace

    try:
        multiline = "description" if field.startswith("description") else field
        return _clean_text(multiline, raw, limits=replace(Limits(), max_metadata_chars=limit))
    except _Problem as exc:
        cls = LimitExceeded if exc.limit else InputRejected
        raise cls(source, f"{field}: {exc.problem}") from None
