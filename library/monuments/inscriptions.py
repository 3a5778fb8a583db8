"""A stele's inscription published from its monument's 3D model (issue #14).

A curator marks an inscribed face on a published model (three corners, in the model's frame: lower left,
lower right, upper left, as one faces it). The platform renders that face straight on from the model's
texture (:func:`heritage3d.orthophoto.orthophoto`) at the resolution asked for, ingests the picture as a new
library item in Hán script (``lzh`` by default: the OCR workers read it with the Hán engine, and search
finds it by its characters and their Sino-Vietnamese readings), and links the item to the monument (its
related items) — and to the point of interest where the stele stands, when one is named.

One permission, ``publish_inscriptions`` (curators and admins), is checked here with the actor; the ingest
and the links then run for the same actor under that permission, in one transaction: the item, its pages,
the monument's link and the point's are committed together or not at all.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field

from library.access import Actor, require_permission
from library.errors import InputRejected, NotFound
from library.monuments.guides import FieldRejected

PUBLISH_ACTION = "publish_inscriptions"
MIN_COVERAGE = 0.6  # of the orthophoto on the model's surface
MIN_CONTRAST = 4.0  # grey levels (standard deviation) on the surface: less is a blank or burnt-out face
FIELD = "face"  # refusals are FieldRejected("face", "face_<code>", …): the edges say them in the user's language


@dataclass
class PublishedInscription:
    item_id: int
    link_id: int
    width_px: int
    height_px: int
    coverage: float  # the share of the picture on the model's surface
    warnings: list[str] = field(default_factory=list)
    again: bool = False  # the same face was published before: that item, its links made again


class InscriptionPublisher:
    def __init__(self, settings, monuments, ingest, guides, work):
        self.settings = settings
        self.work = work  # the platform's unit of work: a repeat publish links in one change
        self.monuments = monuments
        self.ingest = ingest
        self.guides = guides

    def publish(self, monument_id: int, version_id: int, corners, *, px_per_unit: float, title: str,
                languages: str = "lzh", point_id: int | None = None, actor: Actor) -> PublishedInscription:
        """Render the face with ``corners`` ((3, 3): lower left, lower right, upper left) of build
        ``version_id`` of one of the monument's models at ``px_per_unit`` pixels per model unit (metres when
        the model is to scale), and publish it as an item titled ``title``. Raises InputRejected naming the
        problem (corners that make no face, a face off the model, a blank face, a picture over the limit),
        NotFound for a build or point that is not the monument's."""
        require_permission(actor, PUBLISH_ACTION)
        import numpy as np  # here, not at import: the web process never loads numpy or the engines

        from heritage3d.errors import FaceError
        from heritage3d.gltf import read_glb
        from heritage3d.orthophoto import Face, orthophoto

        published = {p.version_id: p for p in self.monuments.published(monument_id)}
        if version_id not in published:
            raise NotFound(f"build {version_id} is not a published model of monument {monument_id}")
        if point_id is not None:
            self._check_point(point_id, published[version_id].model_id)
        try:
            corners = np.asarray(corners, dtype=np.float64).reshape(3, 3)
            face = Face.from_corners(*corners)
        except (ValueError, TypeError) as exc:
            raise FieldRejected(FIELD, "face_corners", f"three corners of three numbers each are needed ({exc})") from None
        except FaceError as exc:
            raise FieldRejected(FIELD, f"face_{exc.code}", str(exc)) from None
        if not (isinstance(px_per_unit, (int, float)) and np.isfinite(px_per_unit) and px_per_unit > 0):
            raise FieldRejected(FIELD, "face_px", f"pixels per unit must be a positive number, not {px_per_unit!r}")
        finest = max(published[version_id].levels, key=lambda level: level[2])  # (name, file, bytes)
        mesh = read_glb(self.monuments.model_file(version_id, finest[1]))
        try:
            image, mask = orthophoto(mesh, face, float(px_per_unit))  # holes: blank stone
        except FaceError as exc:
            raise FieldRejected(FIELD, f"face_{exc.code}", str(exc)) from None
        coverage = float(mask.mean())
        if coverage < MIN_COVERAGE:
            raise FieldRejected(FIELD, "face_off", f"only {coverage:.0%} of the marked face lies on the model's surface: "
                                                   "mark its corners on the stone itself", share=round(100 * coverage))
        grey = image[mask].astype(np.float64).mean(axis=1)
        if grey.std() < MIN_CONTRAST:
            raise FieldRejected(FIELD, "face_blank", "the marked face is blank or over-exposed in the model: there is "
                                                     "nothing to read (take photos of it in softer light)")
        warnings = [] if mesh.textured else ["the model has no texture: the picture is made of its vertex colours "
                                             "and small characters will not be legible"]
        work = self.settings.work_dir / "inscriptions" / uuid.uuid4().hex
        work.mkdir(parents=True, exist_ok=True)
        try:
            from PIL import Image

            from library.ingest.service import Upload

            picture = work / "inscription.png"
            Image.fromarray(image).save(picture)  # no resolution written: a model's units are not inches
            monument = self.monuments.monument(monument_id)
            described = json.dumps({"version": version_id, "corners": corners.round(6).tolist(),
                                    "px_per_unit": px_per_unit}, ensure_ascii=False)
            meta = {"title": title, "language": languages, "type": "other", "subject": monument.name_vi,
                    "description": f"Ảnh trực giao của mặt bia đánh dấu trên mô hình 3D ({described})"}
            links: list[int] = []

            def linked(change, item_id: int) -> None:  # the links, in the transaction that makes the item
                note = f"Văn bia, đọc từ mô hình 3D (bản dựng {version_id})"
                links.append(self.guides.link_within(change, monument_id, item_id, page_sequence=1, note=note,
                                                     action=PUBLISH_ACTION).id)
                if point_id is not None:
                    self.guides.attach_within(change, point_id, item_id, action=PUBLISH_ACTION)

            report = self.ingest.ingest_item([Upload(picture, f"{monument.slug}-inscription.png")], meta, actor=actor,
                                             action=PUBLISH_ACTION, within=linked)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        outcome = report.items[0]
        item_id = outcome.item_id if outcome.status == "created" else outcome.duplicate_of
        if outcome.status not in ("created", "duplicate") or item_id is None:
            raise outcome.problems[0] if outcome.problems else InputRejected(FIELD, f"not stored ({outcome.status})")
        if outcome.status == "duplicate":  # the same face published before: that item, its links made again
            with self.work(actor) as change:
                linked(change, item_id)
        return PublishedInscription(item_id, links[-1], image.shape[1], image.shape[0], coverage, warnings,
                                    again=outcome.status == "duplicate")

    def _check_point(self, point_id: int, model_id: int) -> None:
        point = self.guides.point(point_id)
        if point.model_id != model_id:
            raise NotFound(f"point {point_id} is not on this model")
