"""The file store: originals once under their sha256, read-only, atomic writes, no escape."""

import hashlib
import os
import stat

import pytest

from library.store import FileStore, sha256_of


def test_original_is_stored_once_unaltered_and_read_only(tmp_path):
    store = FileStore(tmp_path / "store")
    src = tmp_path / "scan.tif"
    src.write_bytes(b"II*\x00 pretend scan bytes" * 1000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()

    assert store.put_original(src, digest) is True
    assert store.put_original(src, digest) is False  # recognised, not stored twice
    stored = store.original_path(digest)
    assert stored.read_bytes() == src.read_bytes()
    assert sha256_of(stored) == digest
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert stored.relative_to(store.root).parts[:3] == ("originals", digest[:2], digest[2:4])
    assert [p.name for p in stored.parent.iterdir()] == [digest]  # no temporary file left


def test_a_file_that_does_not_match_its_digest_is_refused_and_leaves_nothing(tmp_path):
    store = FileStore(tmp_path / "store")
    src = tmp_path / "a.png"
    src.write_bytes(b"some bytes")
    wrong = "0" * 64
    with pytest.raises(ValueError, match="changed while it was being stored"):
        store.put_original(src, wrong)
    assert not store.original_path(wrong).exists()
    assert list(store.original_path(wrong).parent.iterdir()) == []


def test_derivative_paths_are_deterministic_and_writes_atomic(tmp_path):
    store = FileStore(tmp_path / "store")
    rel = store.page_derivative_relpath(7, 12, "alto")
    assert rel == "derivatives/items/7/pages/00012/page.alto.xml"
    first = store.write_bytes(rel, b"<alto/>")
    second = store.write_bytes(rel, b"<alto>v2</alto>")
    assert store.resolve(rel).read_bytes() == b"<alto>v2</alto>"
    assert first.sha256 != second.sha256 and second.size_bytes == len(b"<alto>v2</alto>")
    assert sorted(os.listdir(store.resolve(rel).parent)) == ["page.alto.xml"]


@pytest.mark.parametrize("bad", ["../outside", "derivatives/../../etc/passwd", "/etc/passwd"])
def test_paths_that_leave_the_store_are_refused(tmp_path, bad):
    store = FileStore(tmp_path / "store")
    with pytest.raises(ValueError, match="leaves the file store"):
        store.write_bytes(bad, b"x")
    assert not (tmp_path / "outside").exists()


def test_a_non_digest_is_never_a_path(tmp_path):
    with pytest.raises(ValueError, match="not a sha256"):
        FileStore(tmp_path).original_path("../../etc/passwd")


def test_a_text_original_kept_gzipped_reads_back_unchanged_and_is_checked(tmp_path):
    """Imported ALTO and METS are kept gzipped (a tenth of their size): they read back byte for byte,
    their checksum stays that of the bytes sent, a damaged copy is a fixity mismatch, and removal takes it."""
    import gzip

    from library.store import content_sha256

    store = FileStore(tmp_path / "store")
    src = tmp_path / "page.alto.xml"
    words = "".join(f'<String CONTENT="chữ{i}" HPOS="{i * 7}" VPOS="{i % 90}" WIDTH="40" HEIGHT="22" WC="0.9"/>'
                    for i in range(2000))
    src.write_bytes(f'<?xml version="1.0" encoding="UTF-8"?><alto><Layout>{words}</Layout></alto>'.encode())
    digest = hashlib.sha256(src.read_bytes()).hexdigest()

    assert store.put_original(src, digest, "page.alto.xml", compress=True) is True
    assert store.put_original(src, digest) is False and store.has_original(digest)  # one copy, whichever form
    rel = store.stored_original_relpath(digest)
    kept = store.root / rel
    assert rel == store.original_relpath(digest) + ".gz" and not store.original_path(digest).exists()
    assert kept.stat().st_size * 5 < src.stat().st_size  # much smaller
    assert not kept.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    with store.open_original(digest) as f:
        assert f.read() == src.read_bytes()
    assert gzip.decompress(kept.read_bytes()) == src.read_bytes()  # plain gzip: any tool reads it
    assert content_sha256(kept) == digest != sha256_of(kept)
    assert [p.name for p in kept.parent.iterdir()] == [digest + ".gz"]  # no temporary file left

    os.chmod(kept, 0o644)  # a damaged copy: a byte of the compressed stream changed, or the stream cut short
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0xFF
    kept.write_bytes(bytes(data))
    assert content_sha256(kept) != digest
    kept.write_bytes(bytes(data[:len(data) // 2]))
    assert content_sha256(kept).startswith("unreadable-gzip")

    store.remove_original(digest)
    assert not store.has_original(digest) and not kept.exists()
