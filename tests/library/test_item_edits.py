"""Items after ingest (issue #10): the record edited with every previous value kept, search following
at once with no worker running, concurrent edits refused, pages read again with other settings."""

from __future__ import annotations

import pytest

from library.access import Actor
from library.errors import Conflict, InputRejected, NotFound, PermissionDenied
from library.ingest.service import Upload
from library.catalogue.models import Item, ItemStatus, PageStatus
from tests.library.test_jobs import small_scans

SYSTEM = Actor.system("tests")  # the tests act as the machine (trusted, like the command line)

CLI = Actor.system("cli")


def _read_item(platform, tmp_path, count=1, **meta):
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in small_scans(tmp_path, count)],
                                         {"title": "Hà Nội xưa", "date": "1930", **meta}, actor=SYSTEM)
    item_id = report.items[0].item_id
    for row in platform.catalogue.page_statuses(item_id):
        platform.reader.read(row.page_id)
    platform.indexer.flush()
    return item_id


def _titles(platform, query):
    page = platform.search.search(query, actor=CLI, kinds=("item",))
    return [h.title for h in page.hits]


def test_an_edit_keeps_the_previous_values_and_search_follows_at_once(platform, tmp_path):
    item_id = _read_item(platform, tmp_path)
    librarian = platform.users.create(Actor.system("tests"), "thu.thu", "mat-khau-thu-thu", "librarian")
    actor = Actor.for_user(librarian)
    before = platform.catalogue.item(item_id).metadata_revision
    item = platform.items.edit(actor, item_id, {"title": "Đông Dương tạp chí", "date": "1913", "nhà xuất bản": "IDEO"},
                               expected_revision=before)
    assert (item.title, item.year_start, item.publisher) == ("Đông Dương tạp chí", 1913, "IDEO")
    assert item.metadata_revision == before + 1
    (change,) = platform.items.history(item_id)
    assert change.kind == "metadata" and change.actor == "user:thu.thu"
    assert change.changes["title"] == ["Hà Nội xưa", "Đông Dương tạp chí"]
    assert change.changes["date_text"] == ["1930", "1913"] and change.changes["publisher"] == [None, "IDEO"]
    # no worker runs in this test: the unit of work sent the change to search after its commit
    assert _titles(platform, "dong duong tap chi") == ["Đông Dương tạp chí"]
    assert _titles(platform, "\"Hà Nội xưa\"") == []
    # the page documents carry the new record too: found by the new year, no longer by the old one
    assert platform.search.search("Văn Miếu", actor=CLI, kinds=("page",), year_from=1913, year_to=1913).total == 1
    assert platform.search.search("Văn Miếu", actor=CLI, kinds=("page",), year_from=1930, year_to=1930).total == 0


def test_an_edit_that_breaks_a_rule_names_the_field_and_changes_nothing(platform, tmp_path):
    item_id = _read_item(platform, tmp_path)
    for fields, named in (({"date": "1858-02-30"}, "date"), ({"language": "klingon"}, "language"),
                          ({"title": ""}, "title"), ({"title": "x" * 5000}, "title"),
                          ({"colour": "đỏ"}, "colour")):
        with pytest.raises(InputRejected) as refused:
            platform.items.edit(CLI, item_id, fields)
        assert named in str(refused.value).lower(), (fields, str(refused.value))
    item = platform.catalogue.item(item_id)
    assert (item.title, item.date_text, item.metadata_revision) == ("Hà Nội xưa", "1930", 1)
    assert platform.items.history(item_id) == []
    with pytest.raises(NotFound):
        platform.items.edit(CLI, 999_999, {"title": "Không có"})


def test_the_later_of_two_concurrent_edits_is_refused_never_lost(platform, tmp_path):
    item_id = _read_item(platform, tmp_path)
    opened = platform.catalogue.item(item_id).metadata_revision  # two librarians open the same item
    platform.items.edit(CLI, item_id, {"creator": "Nguyễn Văn Vĩnh"}, expected_revision=opened)
    with pytest.raises(Conflict, match="edited by someone else"):
        platform.items.edit(CLI, item_id, {"creator": "Phạm Quỳnh"}, expected_revision=opened)
    assert platform.catalogue.item(item_id).creator == "Nguyễn Văn Vĩnh"


def test_only_librarians_and_admins_edit(platform, tmp_path):
    item_id = _read_item(platform, tmp_path)
    archivist = platform.users.create(Actor.system("tests"), "luu.tru", "mat-khau-luu-tru", "archivist")
    with pytest.raises(PermissionDenied, match="luu.tru"):
        platform.items.edit(Actor.for_user(archivist), item_id, {"title": "Không được"})
    with pytest.raises(PermissionDenied):
        platform.items.edit(Actor.anonymous("10.0.0.1"), item_id, {"title": "Không được"})
    with pytest.raises(TypeError):
        platform.items.edit(None, item_id, {"title": "Không được"})
    assert platform.catalogue.item(item_id).title == "Hà Nội xưa"


def test_a_reread_with_another_language_turns_a_failed_item_into_a_read_one(platform, tmp_path):
    report = platform.ingest.ingest_item([Upload(p, p.name) for p in small_scans(tmp_path, 2)], {"title": "Sai"}, actor=SYSTEM)
    item_id = report.items[0].item_id
    with platform.sessions.begin() as s:  # read with a model that is not there (as a wrong setting would)
        s.get(Item, item_id).languages = "xyz"
    pages = [r.page_id for r in platform.catalogue.page_statuses(item_id)]
    for pid in pages:
        platform.reader.read(pid)
    platform.reader.finish_item(item_id)  # what the finishing task does in a worker
    assert platform.catalogue.item(item_id).status == ItemStatus.failed
    with pytest.raises(InputRejected, match="jpn.*installed: "):
        platform.items.reread(CLI, item_id=item_id, languages="jpn")
    queued = platform.items.reread(CLI, item_id=item_id, languages="Tiếng Việt", psm=6)
    assert sorted(queued) == sorted(pages)
    item = platform.catalogue.item(item_id)
    assert (item.languages, item.status) == ("vie", ItemStatus.processing) and '"psm": 6' in item.ocr_options
    for pid in pages:
        platform.reader.read(pid)
    platform.reader.finish_item(item_id)
    assert platform.catalogue.item(item_id).status == ItemStatus.done
    assert "Văn Miếu" in platform.catalogue.page(pages[0]).text
    change = platform.items.history(item_id)[-1]
    assert change.kind == "reread" and change.changes["languages"] == ["xyz", "vie"]


def test_a_reread_never_overwrites_a_manual_correction_without_consent(platform, tmp_path):
    item_id = _read_item(platform, tmp_path, count=2)
    first, second = [r.page_id for r in platform.catalogue.page_statuses(item_id)]
    lines = platform.corrections.lines(first)
    platform.corrections.correct(Actor.system("tests"), first, {0: "Dòng đã sửa tay"}, revision=lines[0])
    queued = platform.items.reread(CLI, item_id=item_id, pages=[1])
    assert queued == [first]
    assert platform.catalogue.page(second).status == PageStatus.done  # page 2 was not asked for
    platform.reader.read(first)
    page = platform.catalogue.page(first)
    assert page.text.startswith("Dòng đã sửa tay") and page.pending_ocr_version is not None
    with pytest.raises(InputRejected, match="no page 7"):
        platform.items.reread(CLI, item_id=item_id, pages=[7])


def test_a_correction_is_found_by_search_at_once_with_no_worker_running(platform, tmp_path):
    """The correction commits through the unit of work: committed, then indexed, in the same call."""
    item_id = _read_item(platform, tmp_path)
    (page_id,) = [r.page_id for r in platform.catalogue.page_statuses(item_id)]
    revision, lines = platform.corrections.lines(page_id)
    assert platform.search.search("Khuêvăncác", actor=CLI).total == 0
    platform.corrections.correct(Actor.system("tests"), page_id, {0: "Khuêvăncác sửa tay"}, revision=revision)
    found = platform.search.search("Khuêvăncác", actor=CLI)  # asked right away: no wait, no worker
    assert found.total == 1 and found.hits[0].page_id == page_id


def test_the_command_line_edits_shows_history_and_rereads(platform, settings, tmp_path):
    from tests.library.test_cli import heritage

    item_id = _read_item(platform, tmp_path)
    out = heritage(settings, "item", "edit", item_id, "--title", "Nam Phong tạp chí", "--issue-number", "12",
                   check=True).stdout
    assert "title: 'Hà Nội xưa' → 'Nam Phong tạp chí'" in out and "metadata revision 2" in out
    bad = heritage(settings, "item", "edit", item_id, "--date", "1930-02-30")
    assert bad.returncode != 0 and "date" in bad.stderr and platform.catalogue.item(item_id).date_text == "1930"
    stale = heritage(settings, "item", "edit", item_id, "--creator", "Phạm Quỳnh", "--expect-revision", "1")
    assert stale.returncode != 0 and "someone else" in stale.stderr
    history = heritage(settings, "item", "history", item_id, check=True).stdout
    assert "r2 metadata by system:cli" in history and "issue_number: None → '12'" in history
    missing = heritage(settings, "reread", item_id, "--lang", "jpn")
    assert missing.returncode != 0 and "jpn" in missing.stderr and "installed: " in missing.stderr
    queued = heritage(settings, "reread", item_id, "--page", "1", "--psm", "4", check=True).stdout
    assert "queued 1 page(s)" in queued
    assert '"psm": 4' in platform.catalogue.item(item_id).ocr_options


def test_a_task_the_broker_does_not_take_is_not_marked_sent_so_the_sweeper_sends_it(tmp_path):
    """The broker is down (a Redis URL where nothing listens): the change commits, the task fails to
    go, and the page stays unmarked — the sweeper's next pass sends it, not one an hour later."""
    from library.container import build_platform
    from library.catalogue.models import Page
    from tests.conftest import free_port, make_settings

    settings = make_settings(tmp_path / "data", broker_url=f"redis://127.0.0.1:{free_port()}/0")
    platform = build_platform(settings)
    try:
        report = platform.ingest.ingest_item([Upload(p, p.name) for p in small_scans(tmp_path, 1)],
                                             {"title": "Hà Nội xưa"}, actor=CLI)
        (row,) = platform.catalogue.page_statuses(report.items[0].item_id)
        with platform.sessions() as s:
            page = s.get(Page, row.page_id)
            assert page.status == PageStatus.queued and page.queued_at is None  # committed, not sent
        assert platform.items.reread(CLI, item_id=report.items[0].item_id) == [row.page_id]
        with platform.sessions() as s:
            assert s.get(Page, row.page_id).queued_at is None
    finally:
        platform.close()


def test_an_items_languages_are_read_without_its_pages_and_a_missing_item_is_named(platform, tmp_path):
    item_id = _read_item(platform, tmp_path, language="chữ Hán + tiếng Việt")
    assert platform.catalogue.item_languages(item_id) == "lzh+vie"
    with pytest.raises(NotFound, match=f"no item {item_id + 1000}"):
        platform.catalogue.item_languages(item_id + 1000)
