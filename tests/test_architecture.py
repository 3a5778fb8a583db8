"""The dependency rule holds: edges → library → engines, and the web process never loads OCR code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_import_contracts_are_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    assert exe.exists() or shutil.which("lint-imports"), "import-linter is a test dependency"
    r = subprocess.run([str(exe) if exe.exists() else "lint-imports"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0 and "2 kept, 0 broken" in r.stdout, r.stdout[-3000:]


def test_the_web_process_does_not_load_the_ocr_engine(tmp_path):
    code = (
        "import sys; from web import create_app; from library.settings import Settings; "
        f"app = create_app(settings=Settings.from_env({{}}, data_dir={str(tmp_path)!r})); "
        "c = app.test_client(); assert c.get('/').status_code == 200; "
        "print(sorted(m for m in ('pytesseract', 'digitize', 'numpy', 'open3d') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]", r.stdout


def test_digitize_and_search_count_the_same_characters_as_han():
    """digitize (which joins Hán characters without spaces) and search (which makes each one a word) may not
    import each other, so each holds the ranges; they must agree on every code point of Unicode."""
    import re

    from digitize.reading import HAN_LETTER_RANGES, HAN_PUNCTUATION_RANGES, is_han
    from search.vietnamese import HAN, is_han_word

    han = re.compile(f"[{HAN}]")
    differ = [hex(c) for c in range(0x110000)
              if bool(han.match(chr(c))) != any(lo <= c <= hi for lo, hi in HAN_LETTER_RANGES)]
    assert differ == []
    assert is_han("進") and is_han_word("進") and is_han("。") and not is_han_word("。") and not is_han("a")
    assert all(not han.match(chr(c)) or c == 0x3005 for lo, hi in HAN_PUNCTUATION_RANGES for c in range(lo, hi + 1))
