"""library.ingest uploads, scan files, zips and folders: what an upload holds, and every way it can be bad.

Every bad input is built here, in ``tmp_path``: truncated and corrupt images,
disguised files, decompression bombs, hostile names, hostile zips. The valid
real TIFF comes from ``../shared/data/ocr/unlv-magazine`` (see its README).
"""

from __future__ import annotations

import io
import os
import random
import stat
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, features

from library.ingest import zips
from library.errors import InputRejected, LimitExceeded
from library.catalogue.naturalsort import natural_key
from library.settings import Limits
from library.ingest.scan_files import inspect_file
from library.ingest.scan_types import Expansion
from library.ingest.sniffing import sniff
from library.ingest.uploads import expand_upload

LIMITS = Limits()


# ------------------------------------------------------------------ builders


def page(size=(120, 160), mode="L", seed=0) -> Image.Image:
    im = Image.new(mode, size, 255)
    for x in range(5 + seed, size[0] - 10, 17):
        im.paste(0, (x, 20, x + 6, 40))
    return im


def png_bytes(size=(120, 160), seed=0) -> bytes:
    buf = io.BytesIO()
    page(size, seed=seed).save(buf, "PNG", dpi=(300, 300))
    return buf.getvalue()


def jpeg_bytes(size=(120, 160)) -> bytes:
    buf = io.BytesIO()
    page(size).save(buf, "JPEG", dpi=(300, 300), quality=90)
    return buf.getvalue()


def tiff_bytes(frames=3, size=(120, 160)) -> bytes:
    buf = io.BytesIO()
    ims = [page(size, seed=n) for n in range(frames)]
    ims[0].save(buf, "TIFF", save_all=True, append_images=ims[1:], dpi=(400, 400))
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header declares ``width`` × ``height`` 8-bit grey pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + png_chunk(b"IEND", b"")
    )


def pdf_bytes(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF with a correct cross-reference table; object n is ``objects[n-1]``, object 1 the catalogue."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def text_pdf(pages=("Hello Hanoi 1858",), media_box=b"[0 0 612 792]") -> bytes:
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages))).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages))]
    font = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        stream = b"BT /F1 24 Tf 72 700 Td (%s) Tj ET" % text.encode("latin-1")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (media_box, font, 4 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_bytes(objects)


def encrypted_pdf() -> bytes:
    """A PDF encrypted with the standard handler and a user password (its /U does not match the empty one)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <%s> /U <%s> >>"
        % (b"11" * 32, b"22" * 32),
    ]
    return pdf_bytes(objects, b"/Encrypt 4 0 R /ID [<%s> <%s>]" % (b"ab" * 16, b"ab" * 16))


def zip_bytes(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def snapshot(root: Path, *, skip: Path | None = None) -> set[str]:
    """Every path under ``root`` (except under ``skip``), for "nothing was written here" checks."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            if skip is not None and (full == skip or skip in full.parents):
                continue
            found.add(str(full.relative_to(root)))
    return found


def rejected(path: Path, limits: Limits = LIMITS, **kwargs) -> InputRejected:
    with pytest.raises(InputRejected) as caught:
        inspect_file(path, limits=limits, **kwargs)
    return caught.value


def problems_text(expansion: Expansion) -> str:
    return "\n".join(str(p) for p in expansion.problems)


@pytest.fixture
def layout(tmp_path):
    """An upload folder, a staging folder, and a record of what existed around them."""
    uploads = tmp_path / "uploads"
    staging = tmp_path / "work" / "staging"
    uploads.mkdir()
    staging.mkdir(parents=True)
    return uploads, staging


def assert_only_staged(tmp_path: Path, staging: Path, before: set[str]) -> None:
    """Nothing new anywhere but directly in ``staging``, under generated names."""
    assert snapshot(tmp_path, skip=staging) == before
    for entry in staging.iterdir():
        assert entry.is_file() and not entry.is_symlink()
        assert entry.name[:6].isdigit() and "/" not in entry.name


# ------------------------------------------------------------- natural order


def test_natural_order_compares_digits_as_numbers_without_case():
    names = ["p10.tif", "p2.tif", "P3.TIF", "p1.tif", "p20.tif", "p01b.tif"]
    assert sorted(names, key=natural_key) == ["p1.tif", "p01b.tif", "p2.tif", "P3.TIF", "p10.tif", "p20.tif"]


def test_natural_order_is_nfc_and_diacritics_insensitive_and_total():
    nfd_dinh_10 = unicodedata.normalize("NFD", "đình 10")
    names = ["zebra", nfd_dinh_10, "dinh 3", "đình 2", "an", "p" + "9" * 5000]
    ordered = sorted(names, key=natural_key)
    assert ordered == ["an", "đình 2", "dinh 3", nfd_dinh_10, "p" + "9" * 5000, "zebra"]
    assert natural_key(nfd_dinh_10) == natural_key("đình 10")
    assert natural_key("p01") != natural_key("p1")  # equal numbers, still a total order


# -------------------------------------------------------------- valid files


def test_png_jpeg_and_multipage_tiff_are_described(tmp_path):
    png = inspect_file(write(tmp_path / "a.png", png_bytes((200, 300))), limits=LIMITS)
    assert (png.media_type, png.original_name, len(png.pages)) == ("image/png", "a.png", 1)
    assert (png.pages[0].width, png.pages[0].height, png.pages[0].dpi) == (200, 300, (300.0, 300.0))
    assert png.size_bytes == (tmp_path / "a.png").stat().st_size and len(png.sha256) == 64

    jpg = inspect_file(write(tmp_path / "b.jpg", jpeg_bytes()), limits=LIMITS)
    assert jpg.media_type == "image/jpeg" and jpg.pages[0].dpi == (300.0, 300.0)

    tif = inspect_file(write(tmp_path / "c.tif", tiff_bytes(frames=4)), limits=LIMITS)
    assert tif.media_type == "image/tiff"
    assert [p.page_index for p in tif.pages] == [0, 1, 2, 3]
    assert all((p.width, p.height, p.dpi) == (120, 160, (400.0, 400.0)) for p in tif.pages)


def test_real_unlv_tiff_is_accepted(shared_data):
    path = shared_data / "ocr" / "unlv-magazine" / "8087_054.3B.tif"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    scan = inspect_file(path, limits=LIMITS)
    assert scan.media_type == "image/tiff" and len(scan.pages) == 1
    assert scan.pages[0].dpi == (300.0, 300.0) and scan.pages[0].width > 2000


@pytest.mark.skipif(not features.check("jpg_2000"), reason="Pillow was built without OpenJPEG")
def test_jpeg2000_is_accepted(tmp_path):
    buf = io.BytesIO()
    page().convert("RGB").save(buf, "JPEG2000")
    scan = inspect_file(write(tmp_path / "page.jp2", buf.getvalue()), limits=LIMITS)
    assert scan.media_type == "image/jp2" and (scan.pages[0].width, scan.pages[0].height) == (120, 160)


def test_pdf_pages_sizes_at_pdf_dpi_and_text_hint(tmp_path):
    path = write(tmp_path / "doc.pdf", text_pdf(["Hello Hanoi 1858", "Second page"]))
    scan = inspect_file(path, limits=Limits(pdf_dpi=150))
    assert scan.media_type == "application/pdf" and len(scan.pages) == 2
    first = scan.pages[0]
    assert (first.width, first.height, first.dpi) == (1275, 1650, (150.0, 150.0))  # US letter at 150 dpi
    assert first.text_hint == "Hello Hanoi 1858" and scan.pages[1].text_hint == "Second page"


def test_pdf_without_text_layer_and_made_by_pdfium(tmp_path):
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(300, 400)
    path = tmp_path / "blank.pdf"
    pdf.save(str(path))
    pdf.close()
    scan = inspect_file(path, limits=LIMITS)
    assert scan.pages[0].text_hint is None and (scan.pages[0].width, scan.pages[0].height) == (1250, 1667)


# ---------------------------------------------------- disguised or not a scan


def test_content_decides_png_named_jpg_and_pdf_named_png_are_accepted(tmp_path):
    assert inspect_file(write(tmp_path / "p1.jpg", png_bytes()), limits=LIMITS).media_type == "image/png"
    assert inspect_file(write(tmp_path / "p2.png", text_pdf()), limits=LIMITS).media_type == "application/pdf"


@pytest.mark.parametrize(
    ("name", "data", "looks_like"),
    [
        ("page.jpg", b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "HTML web page"),
        ("page.tif", b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "ELF executable program"),
        ("page.png", b"MZ\x90\x00" + b"\x00" * 100, "Windows executable"),
        ("page.jpg", zip_bytes({"p1.png": b"x"}), "ZIP archive"),
        ("page.jpg", b"GIF89a" + b"\x00" * 50, "GIF image"),
        ("page.pdf", "Chỉ là văn bản".encode(), "plain text"),
        ("page.tif", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG drawing"),
        ("page.jpg", bytes(range(7, 200)), "unrecognised binary data"),
    ],
)
def test_disguised_and_unknown_content_is_named(tmp_path, name, data, looks_like):
    err = rejected(write(tmp_path / name, data))
    assert err.source == name
    assert looks_like in err.problem and "not a scan" in err.problem
    assert f"'{Path(name).suffix}'" in err.problem  # the misleading extension is pointed out


def test_empty_file_is_rejected(tmp_path):
    err = rejected(write(tmp_path / "empty.tif", b""))
    assert err.source == "empty.tif" and "empty (0 bytes)" in err.problem


def test_file_over_the_byte_limit_is_rejected_before_reading(tmp_path):
    err = rejected(write(tmp_path / "big.png", png_bytes()), Limits(max_file_bytes=100))
    assert isinstance(err, LimitExceeded) and "over the limit" in err.problem


# ---------------------------------------------------------- corrupt images


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [("cut.jpg", jpeg_bytes, "JPEG"), ("cut.png", png_bytes, "PNG"), ("cut.tif", tiff_bytes, "TIFF")],
)
def test_truncated_images_are_caught_by_decoding(tmp_path, name, make, kind):
    data = make()
    err = rejected(write(tmp_path / name, data[: len(data) * 2 // 3]))
    assert err.source == name and f"corrupt or truncated {kind}" in err.problem


def test_corrupt_bytes_after_a_valid_signature(tmp_path):
    rng = random.Random(7)
    for name, magic in [("x.jpg", b"\xff\xd8\xff\xe0"), ("x.png", b"\x89PNG\r\n\x1a\n"), ("x.tif", b"II*\x00")]:
        err = rejected(write(tmp_path / name, magic + bytes(rng.randrange(256) for _ in range(400))))
        assert err.source == name and "corrupt" in err.problem


def test_no_exception_but_input_rejected_escapes_on_mutated_files(tmp_path):
    """Truncations and byte flips of every format: inspect_file either accepts or explains."""
    rng = random.Random(1858)
    originals = {"m.png": png_bytes(), "m.jpg": jpeg_bytes(), "m.tif": tiff_bytes(2), "m.pdf": text_pdf()}
    for name, data in originals.items():
        for trial in range(25):
            mutated = bytearray(data)
            if trial % 3 == 0:
                mutated = mutated[: rng.randrange(1, len(mutated))]
            else:
                for _ in range(rng.randrange(1, 12)):
                    mutated[rng.randrange(8, len(mutated))] = rng.randrange(256)
            path = write(tmp_path / f"{trial}-{name}", bytes(mutated))
            try:
                inspect_file(path, limits=LIMITS)
            except InputRejected as exc:
                assert exc.source == path.name and exc.problem


# ---------------------------------------------------------------- bombs


def test_png_declaring_ten_billion_pixels_is_refused_before_decoding(tmp_path):
    path = write(tmp_path / "bomb.png", png_declaring(100_000, 100_000))
    assert path.stat().st_size < 200
    err = rejected(path)
    assert isinstance(err, LimitExceeded)
    assert err.source == "bomb.png" and "100,000 × 100,000" in err.problem and "decompression bomb" in err.problem


def test_pixel_limit_is_ours_not_pillows(tmp_path):
    path = write(tmp_path / "wide.png", png_bytes((400, 300)))
    assert isinstance(rejected(path, Limits(max_image_pixels=100_000)), LimitExceeded)
    assert inspect_file(path, limits=Limits(max_image_pixels=120_000)).pages[0].width == 400


def test_tiff_with_too_many_frames_is_refused(tmp_path):
    path = write(tmp_path / "many.tif", tiff_bytes(frames=6, size=(8, 8)))
    err = rejected(path, Limits(max_pages_per_file=5))
    assert isinstance(err, LimitExceeded) and "more than 5 pages" in err.problem
    assert len(inspect_file(path, limits=Limits(max_pages_per_file=6)).pages) == 6


def test_tiff_frame_over_the_pixel_limit_names_the_page(tmp_path):
    buf = io.BytesIO()
    small, large = page((50, 50)), page((400, 400))
    small.save(buf, "TIFF", save_all=True, append_images=[large])
    err = rejected(write(tmp_path / "mixed.tif", buf.getvalue()), Limits(max_image_pixels=10_000))
    assert isinstance(err, LimitExceeded) and "page 2 of 2" in err.problem


def test_pdf_page_over_the_pixel_limit_at_pdf_dpi(tmp_path):
    path = write(tmp_path / "poster.pdf", text_pdf(media_box=b"[0 0 14400 14400]"))
    err = rejected(path)
    assert isinstance(err, LimitExceeded) and "60,000 × 60,000 pixels at 300 dpi" in err.problem
    assert inspect_file(path, limits=Limits(pdf_dpi=36)).pages[0].width == 7200


def test_pdf_with_too_many_pages(tmp_path):
    err = rejected(write(tmp_path / "long.pdf", text_pdf(["a", "b", "c"])), Limits(max_pages_per_file=2))
    assert isinstance(err, LimitExceeded) and "3 pages" in err.problem


# ------------------------------------------------------------------ PDFs


def test_password_protected_pdf_says_what_to_do(tmp_path):
    err = rejected(write(tmp_path / "secret.pdf", encrypted_pdf()))
    assert err.source == "secret.pdf"
    assert err.problem == "password-protected PDF: remove the password and upload again"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + b"\x00garbage" * 50, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF"],
)
def test_broken_pdf_is_rejected_clearly(tmp_path, data):
    err = rejected(write(tmp_path / "broken.pdf", data))
    assert err.source == "broken.pdf" and ("broken PDF" in err.problem or "no pages" in err.problem)


# ---------------------------------------------------------- hostile names


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("p1\n.tif", "control character (U+000A LINE FEED)"),
        ("p1\r.tif", "control character"),
        ("photo\u202egnp.tif", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("x" * 300 + ".tif", "304 bytes long"),
        ("ả" * 100 + ".tif", "304 bytes long"),
        ("...", "only dots"),
        ("", "empty"),
    ],
)
def test_hostile_display_names_are_refused(tmp_path, name, says):
    path = write(tmp_path / "upload.bin", png_bytes())
    err = rejected(path, original_name=name)
    assert says in err.problem
    assert "\n" not in err.source and "\u202e" not in err.source and len(err.source) <= 120


def test_zip_style_display_names_are_fine(tmp_path):
    path = write(tmp_path / "000001.png", png_bytes())
    assert inspect_file(path, original_name="quyển 1/p2.png", limits=LIMITS).original_name == "quyển 1/p2.png"


def test_display_name_is_nfc(tmp_path):
    path = write(tmp_path / "up.png", png_bytes())
    nfd = unicodedata.normalize("NFD", "Hà Nội.png")
    assert inspect_file(path, original_name=nfd, limits=LIMITS).original_name == unicodedata.normalize("NFC", nfd)


# ----------------------------------------------------------------- folders


def test_folder_in_natural_order_skipping_junk(layout, tmp_path):
    uploads, staging = layout
    folder = uploads / "scans"
    for n in ("p10", "p2", "p1"):
        write(folder / f"{n}.png", png_bytes(seed=int(n[1:])))
    write(folder / "P3.PNG", png_bytes(seed=3))
    write(folder / "phần 2" / "p1.png", png_bytes(seed=21))
    for junk in (".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX/._p1.png", ".hidden/p0.png"):
        write(folder / junk, b"junk")
    write(folder / "metadata.csv", "tệp,nhan đề\np1.png,A\n".encode())
    before = snapshot(tmp_path)
    exp = expand_upload(folder, staging_dir=staging, limits=LIMITS)
    assert exp.problems == []
    assert [f.original_name for f in exp.files] == [
        "scans/p1.png", "scans/p2.png", "scans/P3.PNG", "scans/p10.png", "scans/phần 2/p1.png",
    ]
    assert all(f.path.parent in (folder, folder / "phần 2") for f in exp.files)  # read in place
    assert [s.original_name for s in exp.sheets] == ["scans/metadata.csv"]
    assert exp.package is None and snapshot(tmp_path) == before


def test_folder_refuses_symlinks_and_bad_files_but_goes_on(layout, tmp_path):
    uploads, staging = layout
    folder = uploads / "book"
    write(folder / "p1.png", png_bytes())
    secret = write(tmp_path / "outside" / "secret.png", png_bytes(seed=9))
    os.symlink(secret, folder / "p2.png")
    os.symlink(secret.parent, folder / "more")
    write(folder / "p3.jpg", b"<html>not an image</html>")
    write(folder / "p4\n.png", png_bytes())
    write(folder / "p5.zip", zip_bytes({"a.png": png_bytes()}))
    exp = expand_upload(folder, staging_dir=staging, limits=LIMITS)
    assert [f.original_name for f in exp.files] == ["book/p1.png"]
    text = problems_text(exp)
    assert "book/p2.png: a symbolic link" in text and "book/more: a symbolic link" in text
    assert "book/p3.jpg: the content is an HTML web page" in text
    assert "book/p4\\n.png: the file name contains a control character" in text
    assert "book/p5.zip: a zip inside a folder is not supported" in text
    assert list(staging.iterdir()) == []


def test_single_file_upload_is_itself(layout):
    uploads, staging = layout
    path = write(uploads / "tmp-upload-123", png_bytes())
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS, original_name="trang 1.png")
    assert [(f.original_name, f.path) for f in exp.files] == [("trang 1.png", path)]
    assert exp.problems == [] and list(staging.iterdir()) == []


# -------------------------------------------------------------------- zips


def test_zip_entries_are_extracted_under_generated_names_in_natural_order(layout, tmp_path):
    uploads, staging = layout
    entries = {f"trang/{n}": png_bytes(seed=i) for i, n in enumerate(["p10.png", "p2.png", "p1.png", "P3.PNG"])}
    entries["trang/"] = b""
    entries["__MACOSX/trang/._p1.png"] = b"junk"
    entries["bìa.pdf"] = text_pdf()
    path = write(uploads / "sách.zip", zip_bytes(entries))
    before = snapshot(tmp_path, skip=staging)
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS)
    assert exp.problems == []
    assert [f.original_name for f in exp.files] == ["bìa.pdf", "trang/p1.png", "trang/p2.png", "trang/P3.PNG", "trang/p10.png"]
    assert [f.path.name for f in exp.files] == ["000001.pdf", "000002.png", "000003.png", "000004.png", "000005.png"]
    assert all(f.path.parent == staging for f in exp.files)
    assert exp.package is not None and exp.package.media_type == "application/zip" and exp.package.path == path
    assert_only_staged(tmp_path, staging, before)


def test_zip_is_recognised_by_content_whatever_its_name(layout):
    uploads, staging = layout
    path = write(uploads / "scans.jpg", zip_bytes({"p1.png": png_bytes()}))
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS)
    assert [f.original_name for f in exp.files] == ["p1.png"]


def test_hostile_zip_entries_are_refused_and_nothing_escapes(layout, tmp_path):
    uploads, staging = layout
    good = png_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in [
            "../../escaped.png", "/abs.png", "C:\\windows\\evil.png", "..\\..\\back.png", "ok/../../sneaky.png",
            "a\nb.png", "p\u202egnp.png", "x" * 300 + ".png", "....", "ok/p1.png",
        ]:
            z.writestr(name, good)
        link = zipfile.ZipInfo("link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
        fifo = zipfile.ZipInfo("fifo.png")
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        z.writestr(fifo, good)
        z.writestr("inner.zip", zip_bytes({"p.png": good}))
        z.writestr("disguised.png", zip_bytes({"p.png": good}))
    path = write(uploads / "evil.zip", buf.getvalue())
    before = snapshot(tmp_path, skip=staging)
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS)
    assert [f.original_name for f in exp.files] == ["ok/p1.png"]
    text = problems_text(exp)
    expectations = {
        "../../escaped.png (in evil.zip)": "'..'",
        "/abs.png (in evil.zip)": "absolute path",
        "C:\\windows\\evil.png (in evil.zip)": "drive letter",
        "..\\..\\back.png (in evil.zip)": "'..'",
        "ok/../../sneaky.png (in evil.zip)": "'..'",
        "a\\nb.png (in evil.zip)": "control character",
        "p\\u202egnp.png (in evil.zip)": "text-direction control",
        "....": "only dots",
        "link.png (in evil.zip)": "symbolic link",
        "fifo.png (in evil.zip)": "not a regular file",
        "inner.zip (in evil.zip)": "zip inside a zip is not supported",
        "disguised.png (in evil.zip)": "zip inside a zip is not supported",
    }
    for source, says in expectations.items():
        assert any(source in str(p) and says in str(p) for p in exp.problems), (source, text)
    assert any("bytes long" in p.problem for p in exp.problems)
    assert len(exp.problems) == len(expectations) + 1
    assert_only_staged(tmp_path, staging, before)
    assert not list(tmp_path.parent.rglob("escaped.png")) and not Path("/abs.png").exists()
    assert [p.name for p in staging.iterdir()] == [exp.files[0].path.name]


def test_zip_entry_name_with_nul_byte_is_refused(layout, tmp_path):
    uploads, staging = layout
    data = zip_bytes({"p1.pngX.exe": png_bytes(), "p2.png": png_bytes(seed=2)}).replace(b"p1.pngX.exe", b"p1.png\x00.exe")
    path = write(uploads / "nul.zip", data)
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS)
    assert [f.original_name for f in exp.files] == ["p2.png"]
    assert len(exp.problems) == 1 and "NUL byte" in exp.problems[0].problem
    assert "p1.png\\x00.exe (in nul.zip)" == exp.problems[0].source


def test_zip_bomb_entry_is_refused_by_ratio(layout, tmp_path):
    uploads, staging = layout
    path = write(uploads / "bomb.zip", zip_bytes({"p1.png": png_bytes(), "zeros.tif": b"\x00" * 3_000_000}))
    before = snapshot(tmp_path, skip=staging)
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS)
    assert [f.original_name for f in exp.files] == ["p1.png"]
    (problem,) = exp.problems
    assert isinstance(problem, LimitExceeded) and problem.source == "zeros.tif (in bomb.zip)"
    assert "zip bomb" in problem.problem and "the limit is 200:1" in problem.problem
    assert_only_staged(tmp_path, staging, before)


def test_zip_declared_total_over_the_limit_extracts_nothing(layout):
    uploads, staging = layout
    entries = {f"p{n}.png": png_bytes(seed=n) for n in range(4)}
    size = sum(len(v) for v in entries.values())
    path = write(uploads / "big.zip", zip_bytes(entries, zipfile.ZIP_STORED))
    exp = expand_upload(path, staging_dir=staging, limits=Limits(max_zip_total_bytes=size - 1))
    assert exp.files == [] and exp.package is None and list(staging.iterdir()) == []
    (problem,) = exp.problems
    assert isinstance(problem, LimitExceeded) and problem.source == "big.zip" and "expands to" in problem.problem


def test_zip_with_too_many_entries(layout):
    uploads, staging = layout
    path = write(uploads / "many.zip", zip_bytes({f"p{n}.png": b"x" for n in range(12)}))
    exp = expand_upload(path, staging_dir=staging, limits=Limits(max_zip_entries=10))
    assert exp.files == [] and list(staging.iterdir()) == []
    (problem,) = exp.problems
    assert isinstance(problem, LimitExceeded) and "more than 10 entries" in problem.problem


def test_zip_whose_end_record_understates_its_entries_is_counted_before_parsing(layout):
    uploads, staging = layout
    data = bytearray(zip_bytes({f"p{n}.png": b"x" for n in range(12)}))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # "1 entry", says the end record
    path = write(uploads / "liar.zip", bytes(data))
    assert zips._declared_entry_count(path, stop_after=10) == 11  # walked, stopped after the limit
    exp = expand_upload(path, staging_dir=staging, limits=Limits(max_zip_entries=10))
    assert exp.files == [] and "more than 10 entries" in exp.problems[0].problem


def test_zip_entry_over_the_file_limit(layout):
    uploads, staging = layout
    path = write(uploads / "z.zip", zip_bytes({"big.png": png_bytes((400, 400)), "ok.png": png_bytes()}))
    exp = expand_upload(path, staging_dir=staging, limits=Limits(max_file_bytes=len(png_bytes((400, 400))) - 1))
    assert [f.original_name for f in exp.files] == ["ok.png"]
    assert isinstance(exp.problems[0], LimitExceeded) and exp.problems[0].source == "big.png (in z.zip)"


def test_zip_that_lies_about_an_entry_size_is_refused_and_the_partial_file_deleted(layout, tmp_path):
    """The central directory says 1,000 bytes; the entry really holds 2 MB."""
    uploads, staging = layout
    real = b"\x00" * 2_000_000
    data = bytearray(zip_bytes({"p1.png": png_bytes(), "liar.tif": real}))
    cd = data.rfind(b"PK\x01\x02")  # the last central-directory record: liar.tif
    assert data[cd + 46 : cd + 54] == b"liar.tif"
    struct.pack_into("<L", data, cd + 24, 1000)  # uncompressed size
    path = write(uploads / "liar.zip", bytes(data))
    before = snapshot(tmp_path, skip=staging)
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS)
    assert [f.original_name for f in exp.files] == ["p1.png"]
    (problem,) = exp.problems
    assert problem.source == "liar.tif (in liar.zip)" and "cannot be extracted" in problem.problem
    assert_only_staged(tmp_path, staging, before)
    assert [p.name for p in staging.iterdir()] == [exp.files[0].path.name]


def test_real_bytes_are_counted_while_extracting(layout, tmp_path, monkeypatch):
    """Should a zip reader ever trust lying headers, the byte count stops it and the whole zip is refused."""
    uploads, staging = layout
    path = write(uploads / "sly.zip", zip_bytes({"a.png": png_bytes(), "b.tif": os.urandom(300_000)}))
    real_plan, real_extract = zips._plan_zip, zips._extract_zip
    real_sizes: dict[str, int] = {}

    def plan_on_lying_headers(infos, zip_label, limits):
        for info in infos:
            real_sizes[info.filename] = info.file_size
            info.file_size = 10  # what a lying header would declare
        return real_plan(infos, zip_label, limits)

    def extract_trusting_nothing(archive, plan, *args):
        for info, _, _ in plan:
            info.file_size = real_sizes[info.filename]  # a reader that yields every real byte
        return real_extract(archive, plan, *args)

    monkeypatch.setattr(zips, "_extract_zip", extract_trusting_nothing)
    monkeypatch.setattr(zips, "_plan_zip", plan_on_lying_headers)
    before = snapshot(tmp_path, skip=staging)
    exp = expand_upload(path, staging_dir=staging, limits=Limits(max_zip_total_bytes=100_000))
    assert exp.files == [] and exp.package is None
    (problem,) = exp.problems
    assert isinstance(problem, LimitExceeded) and problem.source == "sly.zip"
    assert "more bytes than its headers declare" in problem.problem
    assert_only_staged(tmp_path, staging, before)
    assert list(staging.iterdir()) == []


def test_encrypted_zip_entry_is_refused(layout):
    uploads, staging = layout
    data = bytearray(zip_bytes({"secret.png": png_bytes()}))
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 6] |= 0x01  # general-purpose flag bit 0: encrypted
    data[central + 8] |= 0x01
    exp = expand_upload(write(uploads / "locked.zip", bytes(data)), staging_dir=staging, limits=LIMITS)
    assert exp.files == []
    assert exp.problems[0].source == "secret.png (in locked.zip)" and "password" in exp.problems[0].problem


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04" + b"\x00garbage" * 40, zip_bytes({"p1.png": png_bytes()})[:-30]],
    ids=["garbage", "truncated"],
)
def test_corrupt_zip_is_rejected_clearly(layout, data):
    uploads, staging = layout
    exp = expand_upload(write(uploads / "broken.zip", data), staging_dir=staging, limits=LIMITS)
    assert exp.files == [] and list(staging.iterdir()) == []
    assert exp.problems[0].source == "broken.zip" and "corrupt zip" in exp.problems[0].problem


def test_bad_entries_inside_a_zip_are_named_and_deleted(layout, tmp_path):
    uploads, staging = layout
    cut = jpeg_bytes()
    entries = {
        "p1.png": png_bytes(),
        "p2.jpg": cut[: len(cut) // 2],
        "p3.jpg": b"<html>error</html>",
        "empty.tif": b"",
        "notes/sheet.csv": "tệp,nhan đề\np1.png,A\n".encode(),
    }
    path = write(uploads / "mixed.zip", zip_bytes(entries))
    exp = expand_upload(path, staging_dir=staging, limits=LIMITS)
    assert [f.original_name for f in exp.files] == ["p1.png"]
    assert [s.original_name for s in exp.sheets] == ["notes/sheet.csv"]
    assert exp.sheets[0].path.parent == staging and exp.sheets[0].path.read_bytes() == entries["notes/sheet.csv"]
    text = problems_text(exp)
    assert "p2.jpg (in mixed.zip): corrupt or truncated JPEG" in text
    assert "p3.jpg (in mixed.zip): the content is an HTML web page" in text
    assert "empty.tif (in mixed.zip): the file is empty" in text
    assert sorted(p.name for p in staging.iterdir()) == sorted([exp.files[0].path.name, exp.sheets[0].path.name])


def test_staging_names_never_collide_with_what_is_already_there(layout):
    uploads, staging = layout
    (staging / "000003.png").write_bytes(b"earlier")
    (staging / "000004.png").symlink_to(uploads / "target.png")  # dangling: O_EXCL still refuses it
    exp = expand_upload(write(uploads / "a.zip", zip_bytes({"p.png": png_bytes()})), staging_dir=staging, limits=LIMITS)
    assert exp.files[0].path.name == "000005.png"
    assert (staging / "000003.png").read_bytes() == b"earlier" and not (uploads / "target.png").exists()


def test_sniff_is_content_only():
    assert sniff(b"\x89PNG\r\n\x1a\n....")[0] == "image/png"
    assert sniff(b"junk before %PDF-1.4")[0] == "application/pdf"
    assert sniff(b"MM\x00*\x00\x00\x00\x08")[0] == "image/tiff"
    assert sniff(b"\x00\x00\x00\x0cjP  \r\n\x87\n")[0] == "image/jp2"
    assert sniff(b"\xef\xbb\xbf<html>")[1].startswith("an HTML web page")
