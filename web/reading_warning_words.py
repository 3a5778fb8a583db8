"""Why a machine reading may be poor or partial, in the portal's words: the engine's warnings
(:mod:`digitize.pipeline`, :mod:`digitize.han_page`: "white on dark: read inverted", "low confidence
(mean 41 of 100): …") said in Vietnamese or English on the page's correction view. The engine's own
English stays in the catalogue (``transcriptions.warnings``) and on the command line; a warning this
table does not know is shown as the engine said it. Added to the portal's words by :mod:`web.staff`."""

from __future__ import annotations

import re

VI = {
    "rw_title": "Lưu ý khi máy đọc trang này",
    "rw_help": "Những điều này có thể làm bản đọc kém hoặc thiếu; hãy đối chiếu văn bản với ảnh trang.",
    "rw_pending": "Lưu ý về bản đọc mới",
}
EN = {
    "rw_title": "How the machine read this page",
    "rw_help": "These may make the reading poor or partial; check the text against the page image.",
    "rw_pending": "About the new reading",
}

# (the engine's words, as a pattern) → (Vietnamese, English); {0}, {1}: the pattern's groups
_SAID: list[tuple[re.Pattern, str, str]] = [(re.compile(p), vi, en) for p, vi, en in [
    (r"blank page", "trang trắng", "blank page"),
    (r"mostly margin: the text covers (\d+)% of the page", "phần lớn là lề: chữ chỉ chiếm {0}% trang",
     "mostly margin: the text covers {0}% of the page"),
    (r"no text found: picture", "không thấy chữ: trang là hình ảnh", "no text found: the page is a picture"),
    (r"no text found", "không thấy chữ", "no text found"),
    (r"little text found: (\d+) unreadable marks left out", "ít chữ: bỏ qua {0} dấu không đọc được",
     "little text found: {0} unreadable marks left out"),
    (r"low confidence \(mean (\d+) of 100\): check the text against the page",
     "độ tin cậy thấp (trung bình {0}/100): hãy đối chiếu văn bản với trang",
     "low confidence (mean {0} of 100): check the text against the page"),
    (r"upside down: turned", "trang lộn ngược: máy đã xoay lại", "upside down: turned"),
    (r"sideways: turned (\d+)°", "trang nằm ngang: máy đã xoay {0}°", "sideways: turned {0}°"),
    (r"mirrored: flipped", "trang bị lật như trong gương: máy đã lật lại", "mirrored: flipped"),
    (r"white on dark: read inverted", "chữ sáng trên nền tối (bản rập, đá khắc): đọc sau khi đảo màu",
     "white on dark (a rubbing, carved stone): read inverted"),
    (r"grainy: read after a (\d+)-pixel median filter",
     "trang nhiều hạt: đọc sau khi lọc trung vị {0} điểm ảnh", "grainy: read after a {0}-pixel median filter"),
    (r"worn ink: read with its faint strokes strengthened", "mực mòn: đọc sau khi làm đậm các nét mờ",
     "worn ink: read with its faint strokes strengthened"),
    (r"another script: the page reads as Hán \((\d+) characters\), which the item's languages do not include: "
     r"declare lzh and read it again",
     "chữ khác: trang đọc ra chữ Hán ({0} chữ) mà ngôn ngữ của tài liệu không có chữ Hán: hãy khai lzh rồi đọc lại",
     "another script: the page reads as Hán ({0} characters), which the item's languages do not include: declare "
     "lzh and read it again"),
    (r"another script: the page reads as Latin letters \((\d+)\), which lzh reads without Vietnamese diacritics: "
     r"declare vie and read it again",
     "chữ khác: trang đọc ra chữ Latinh ({0} chữ cái), mà lzh đọc không có dấu tiếng Việt: hãy khai vie rồi đọc lại",
     "another script: the page reads as Latin letters ({0}), which lzh reads without Vietnamese diacritics: "
     "declare vie and read it again"),
]]


def say(warning: str, lang: str) -> str:
    """``warning`` (as the engine said it) in ``lang`` ("vi" or "en")."""
    for pattern, vi, en in _SAID:
        found = pattern.fullmatch(warning.strip())
        if found:
            return (vi if lang == "vi" else en).format(*found.groups())
    return warning
