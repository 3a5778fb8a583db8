"""The compact page layout codec (``library.catalogue.page_layout``): round trips of random layouts,
an empty page, Vietnamese text, words whose text is not the page text, offsets at the end."""
import random

import pytest

from library.catalogue.page_layout import EMPTY, VERSION, decode, encode, quantised


def _random_page(rng: random.Random, n_words: int, alphabet: str) -> tuple[str, dict]:
    parts, words, lines, blocks = [], [], [], []
    pos, y = 0, 100
    for b in range(1, 1 + max(1, n_words // 200)):
        if parts:
            parts.append("\n\n")
            pos += 2
        b_start = pos
        for ln in range(1, 11):
            if ln > 1:
                parts.append("\n")
                pos += 1
            l_start, x = pos, 50
            for n in range(rng.randint(1, 12)):
                if n:
                    parts.append(" ")
                    pos += 1
                t = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
                w = rng.randint(5, 300)
                words.append([t, pos, pos + len(t), x, y + rng.randint(-3, 3), w, rng.randint(10, 60),
                              rng.uniform(0, 100), b, 1, ln])
                parts.append(t)
                pos += len(t)
                x += w + rng.randint(5, 30)
            lines.append([b, 1, ln, 50, y, x - 50, 60, l_start, pos])
            y += rng.randint(40, 80)
        blocks.append([b, 40, 90, 4000, y - 90, b_start, pos])
    return "".join(parts), {"words": words, "lines": lines, "blocks": blocks}


@pytest.mark.parametrize("seed", range(5))
def test_random_layouts_round_trip(seed):
    rng = random.Random(seed)
    text, layout = _random_page(rng, rng.randint(1, 2000), "abcdefghij")
    blob = encode(layout, text)
    assert blob[0] == VERSION
    assert decode(blob, text).as_dict() == quantised(layout)


@pytest.mark.parametrize("offset", [2**41, -(2**50), 2**61])
def test_boxes_beyond_ordinary_sizes_round_trip(offset):
    """Numbers far beyond a page's pixels take the encoder's Python path (numpy's int64 could overflow in
    a box's sums and differences) and come back the same."""
    text, layout = _random_page(random.Random(3), 400, "abcdefghij")
    for row in layout["words"]:
        row[3] += offset
    for row in layout["lines"] + layout["blocks"]:
        row[3 if len(row) == 9 else 1] += offset
    assert decode(encode(layout, text), text).as_dict() == quantised(layout)


def test_a_number_beyond_64_bits_is_refused():
    text, layout = _random_page(random.Random(4), 50, "abc")
    layout["words"][3][4] = 2**64  # a y
    with pytest.raises(OverflowError, match="does not fit 64 bits"):
        encode(layout, text)


def test_vietnamese_text_and_a_word_that_differs_from_the_text():
    text = "Nhớ câu kiến nghĩa bất vi\nLàm người thế ấy cũng phi anh hùng"
    layout = {"words": [], "lines": [], "blocks": [[1, 0, 0, 900, 120, 0, len(text)]]}
    pos = 0
    for ln, line in enumerate(text.split("\n"), start=1):
        for t in line.split(" "):
            start = text.index(t, pos)
            layout["words"].append([t, start, start + len(t), start * 10, ln * 60, 40, 50, 91.7, 1, 1, ln])
            pos = start + len(t)
    layout["words"][2][0] = "kiến-"  # an ALTO hyphenated word: its own text, not the page's
    layout["words"][-1][7] = None
    layout["words"][-2][7] = -1
    layout["lines"] = [[1, 1, 1, 0, 60, 900, 50, 0, 25], [1, 1, 2, 0, 120, 900, 50, 26, len(text)]]
    got = decode(encode(layout, text), text)
    assert [w.text for w in got.words][:4] == ["Nhớ", "câu", "kiến-", "nghĩa"]
    assert got.words[-1].text == "hùng" and got.words[-1].char_end == len(text)
    assert [w.confidence for w in got.words[-3:]] == [91.0, -1.0, None]
    assert got.lines[1].char_end == len(text) and got.blocks[0].kind == "block"
    assert got.as_dict() == quantised(layout)


def test_empty_page_and_no_blob():
    blob = encode({"words": [], "lines": [], "blocks": []}, "")
    assert decode(blob, "") == EMPTY
    assert decode(None, "anything") == EMPTY


def test_without_the_text_every_word_keeps_its_own():
    layout = {"words": [["mặt", 0, 3, 1, 2, 3, 4, 99.9, 1, 1, 1]], "lines": [], "blocks": []}
    assert decode(encode(layout, None), None).words[0].text == "mặt"


def test_a_blob_read_with_another_text_is_refused():
    layout = {"words": [["mặt", 0, 3, 1, 2, 3, 4, 99.9, 1, 1, 1]], "lines": [], "blocks": []}
    with pytest.raises(ValueError, match="another text"):
        decode(encode(layout, "mặt"), "mắt")


def test_real_alto_pages_round_trip_and_stay_small(shared_data):
    """The vendor ALTO of the NDNP broadsheet and the BnL issue (read for their boxes and words only)."""
    from library.ingest.alto_reading import page_layout, read_alto

    paths = sorted((shared_data / "ocr" / "bnl-mets-alto-1858" / "text").glob("*.xml"))
    paths += sorted((shared_data / "ocr" / "ndnp-park-record-1935").rglob("12*.xml"))
    assert len(paths) == 6
    for path in paths:
        text, layout, _ = page_layout(read_alto(path, label=path.name))
        blob = encode(layout, text)
        assert decode(blob, text).as_dict() == quantised(layout), path
        assert len(blob) < 6.5 * len(layout["words"]), path


def test_a_page_of_1500_words_is_a_few_kilobytes():
    text, layout = _random_page(random.Random(7), 1500, "abcdefghijklmnopqrstuvwxyz")
    assert len(encode(layout, text)) < 5000


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format"):
        decode(bytes([VERSION + 1]) + b"x", "")


@pytest.mark.parametrize("seed", range(4))
def test_the_words_under_a_range_are_those_decode_gives(seed):
    """``words_under`` with one range gives exactly the words of ``decode`` that overlap it, in order —
    with words in text order (it may stop early) and out of it."""
    from library.catalogue.page_layout import words_under

    def words_between(blob, text, lo, hi):
        return words_under(blob, text, [(lo, hi)])[0]

    rng = random.Random(seed)
    text, layout = _random_page(rng, 600, "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạ")
    if seed % 2:  # two words swapped in reading order: offsets no longer increase
        layout["words"][3], layout["words"][4] = layout["words"][4], layout["words"][3]
    blob = encode(layout, text)
    words = decode(blob, text).words
    for lo, hi in ((0, 1), (0, len(text)), (len(text) // 2, len(text) // 2 + 40), (len(text) - 5, len(text)),
                   (words[3].char_start, words[3].char_end), (len(text), len(text) + 10)):
        assert words_between(blob, text, lo, hi) == [w for w in words if w.char_end > lo and w.char_start < hi]
    assert words_between(None, text, 0, 10) == []
    with pytest.raises(ValueError, match="another text"):
        words_between(blob, text + "!", 0, 10)


@pytest.mark.parametrize("seed", range(4))
def test_the_words_under_each_span_are_those_decode_gives(seed):
    """``words_under`` (one walk for all of a hit's spans) gives, for every span, exactly the words of
    ``decode`` that overlap it — with spans nested, overlapping, empty, beyond the text, and words out of order."""
    from library.catalogue.page_layout import words_under

    rng = random.Random(seed)
    text, layout = _random_page(rng, 600, "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạ")
    if seed % 2:
        layout["words"][10], layout["words"][11] = layout["words"][11], layout["words"][10]
    blob = encode(layout, text)
    words = decode(blob, text).words
    spans = sorted({(w.char_start, w.char_end) for w in rng.sample(words, 40)}
                   | {(0, len(text)), (words[5].char_start, words[9].char_end), (words[7].char_start, words[7].char_start),
                      (len(text) - 3, len(text) + 10), (len(text) + 5, len(text) + 9)})
    got = words_under(blob, text, spans)
    assert got == [[w for w in words if w.char_end > lo and w.char_start < hi] for lo, hi in spans]
    assert sum(map(len, got)) > len(spans)  # most spans hold a word, one holds them all
    assert words_under(None, text, spans) == [[] for _ in spans]
    assert words_under(blob, text, []) == []


@pytest.mark.parametrize("values", [
    [0, 1, -1, 127, -128],  # one byte
    [300, -300, 5, 0, 0, 0, 0, 0, 0, 1],  # two bytes, zigzagged or not
    [70_000, -70_000] + list(range(-20, 20)),  # four bytes
    [2**40, -(2**40), 3] + [7] * 10,  # eight bytes
    [2**62, -(2**62)] + [0] * 10,  # eight bytes at the edge of what zigzag holds
    [],
])
def test_a_column_comes_back_as_packed_at_every_width(values):
    """The numpy reading of a column (byte planes, zigzag) against the values packed."""
    from library.catalogue.page_layout import _pack, _Reader

    for column in (values, list(reversed(values)), [v // 3 for v in values][:9]):
        packed = _pack(column)
        reader = _Reader(packed + b"tail")
        assert reader.column(len(column)) == column
        assert reader.raw(4) == b"tail"


# made by format 1 (before blocks had roles) from _random_page(random.Random(7), 30, _V1_ALPHABET)
_V1_ALPHABET = "aăâbcdđeêôơư"
_V1_BLOB = bytes.fromhex(
    "01e0030c017f00001a80340873c45b9430a4baf4f4211b26668d7d023f504e6352b486edd1eb4d0ea75dd64b5ec4249742049663a3"
    "6428332a9b9e370b52ae3c522cf498f1cf3e4cb2d4f28656be8dcd2db0ca8e655ce2060b6389f51e0be2587b6f8c533a4d289900cd"
    "f05cfec82833d843aa61bef0eb41d0982ff27970c085ae7ae0b855094732327d510cd569039ff11b4964398861a45e21e7d5d1fb7d"
    "c9a8ab3c65ebd750cbc85a4b87b7eef622412dbb950c4d64d1ffb93f20e3a75734d85e3cd72ff49e2d5af230805b7c2347e85a84ca"
    "aa6b0639da3f4b4ebeda7d53303efaf2ba3c3db9dce507b2b8bb45a6fe7d70f9c54a0db70c3d92dc633f9fc0a623fe05fd8637e400"
    "2dbe96cf097a64f4d9c172017df879f45ca58240c9d73be834eff089231e71e4b9a95ebfb800702f1d8b80328eb7610607a010d1c5"
    "48ec38afde5158130cb9e1cf667020e62af93316e61ee7385107173fd1057de184b5f7676be618abb4934a88964d540bb79e4d38c0"
    "82d3a9cae0a9345bd596e7eae6dac82585129df900")


def test_a_format_1_blob_is_still_read_its_blocks_without_roles():
    """Pages stored before blocks had roles keep working: same words, lines and blocks, no role."""
    text, layout = _random_page(random.Random(7), 30, _V1_ALPHABET)
    assert _V1_BLOB[0] == 1
    got = decode(_V1_BLOB, text)
    assert got.as_dict() == quantised(layout)
    assert all(b.role is None and b.article is None for b in got.blocks) and got.articles() == {}


def test_blocks_keep_their_role_and_article():
    """A newspaper page's blocks: a headline and two text blocks of article 0, a caption without one,
    a block the analysis did not type; all come back, and re-encoding the decoded layout keeps them."""
    rng = random.Random(3)
    text, layout = _random_page(rng, 1000, "abcdefghij")
    assert len(layout["blocks"]) == 5
    extra = [("headline", 0), ("text", 0), ("text", 0), ("caption", None), (None, None)]
    for row, (role, article) in zip(layout["blocks"], extra):
        row += [role, article]
    blob = encode(layout, text)
    got = decode(blob, text)
    assert [(b.role, b.article) for b in got.blocks] == extra
    assert got.as_dict() == quantised(layout)
    assert [b.block for b in got.articles()[0]] == [1, 2, 3]
    assert encode(got.as_dict(), text) == blob


def test_a_block_with_an_unknown_role_is_refused():
    layout = {"words": [], "lines": [], "blocks": [[1, 0, 0, 10, 10, 0, 0, "sidebar", None]]}
    with pytest.raises(ValueError, match="role must be one of text, headline"):
        encode(layout, "")
    layout["blocks"][0][7:] = ["text", -2]
    with pytest.raises(ValueError, match="article must be a whole number"):
        encode(layout, "")
