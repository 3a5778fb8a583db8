"""``heritage collection …`` as an operator uses it (real processes): create, rename, describe, move,
order, list; bad input named on stderr with exit code 2 and nothing changed."""

from __future__ import annotations

import json

from tests.conftest import make_settings
from tests.library.test_cli import heritage
from tests.library.test_collections import add_item


def test_collection_commands_drive_the_service(tmp_path):
    from library.container import build_platform

    settings = make_settings(tmp_path / "data")
    p = build_platform(settings)
    try:
        i1, i2, i3 = (add_item(p, t) for t in ("Một", "Hai", "Ba"))
    finally:
        p.close()
    r = heritage(settings, "collection", "create", "Báo cũ", "--description", "Báo trước 1945")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("Báo cũ (bao-cu)")
    assert heritage(settings, "collection", "move", i1, i2, i3, "--to", "bao-cu").stdout.strip() == \
        f"moved 3 item(s): {i1} {i2} {i3}"
    assert heritage(settings, "collection", "order", "bao-cu", i3, i1, i2).returncode == 0
    assert heritage(settings, "collection", "rename", "bao-cu", "Báo xưa").stdout.strip().endswith("(bao-xua)")
    assert heritage(settings, "collection", "describe", "bao-xua", "Báo in ở Hà Nội").returncode == 0
    assert heritage(settings, "collection", "move", i2, "--out").returncode == 0
    (row,) = json.loads(heritage(settings, "collection", "list", "--json").stdout)
    assert (row["name"], row["slug"], row["items"], row["description"]) == ("Báo xưa", "bao-xua", 2, "Báo in ở Hà Nội")
    assert "bao-xua\t2 item(s)\tpublic\tBáo xưa" in heritage(settings, "collection", "list").stdout

    # bad input: the field named, exit code 2, nothing changed
    for args, named in ((("create", "<i>x</i>"), "name:"), (("order", "bao-xua", i1), "order:"),
                        (("order", "bao-xua", i1, i1), "order:"), (("move", i1, "--to", "không có"), "to:"),
                        (("move", i1), "to:"), (("rename", "không có", "Mới"), "collection:")):
        r = heritage(settings, "collection", *args)
        assert r.returncode == 2 and f"error: {named}" in r.stderr, (args, r.stderr)
    assert json.loads(heritage(settings, "collection", "list", "--json").stdout) == [row]
    p = build_platform(settings)
    try:
        assert p.collections.item_ids("bao-xua") == [i3, i1]
    finally:
        p.close()
