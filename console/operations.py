"""``heritage backup DEST`` and ``heritage restore SRC``: the catalogue and the store, with a progress bar
per stage (as ``heritage reindex`` shows one). Registered in :mod:`console` by ``main.add_command``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from console import _settings, handle_errors

UNITS = {"catalogue": "step", "files": "file", "reindex": "doc", "fixity": "file"}


class StageBars:
    """``progress(stage, done, total)`` drawn as one tqdm bar per stage (total 0: unknown)."""

    def __init__(self):
        self.stage: str | None = None
        self.bar: tqdm | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(desc=stage, unit=UNITS.get(stage, "it"), total=total or None)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.command(help="Back up the catalogue and the file store into DEST (a folder; an earlier backup there is "
                    "brought up to date, copying only new files). The search index is not backed up: "
                    "'heritage restore' rebuilds it. Exit 8 if a stored file is missing or unlike its checksum.")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@handle_errors
def backup(dest):
    from library.operations.backup import back_up

    bars = StageBars()
    try:
        report = back_up(_settings(), dest, progress=bars)
    finally:
        bars.close()
    for problem in report.problems:
        click.echo(problem)
    counts = ", ".join(f"{n:,} {name}" for name, n in report.counts.items())
    click.echo(f"backed up the {report.catalogue_kind} catalogue (revision {report.schema_revision}: {counts}) "
               f"and {report.files:,} file(s) into {dest}: {report.copied:,} copied "
               f"({report.bytes_copied:,} bytes), {report.skipped:,} already there"
               + ("" if report.ok else f"; {len(report.problems)} problem(s)"))
    sys.exit(0 if report.ok else 8)


@click.command(help="Restore a backup made by 'heritage backup' into an empty data folder and catalogue, rebuild "
                    "the search index and check every file's checksum. Exit 5 if the target is not empty, "
                    "8 if a file is missing or damaged.")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="restore into this data folder (default: $HERITAGE_DATA_DIR)")
@handle_errors
def restore(src, data_dir):
    from library.operations.backup import restore as restore_backup
    from library.settings import Settings

    settings = Settings.from_env(data_dir=data_dir) if data_dir else _settings()
    bars = StageBars()
    try:
        report = restore_backup(src, settings, progress=bars)
    finally:
        bars.close()
    for problem in report.problems:
        click.echo(problem)
    counts = ", ".join(f"{n:,} {name}" for name, n in report.counts.items())
    click.echo(f"restored the {report.catalogue_kind} catalogue (backed up at revision {report.schema_revision}: "
               f"{counts}) and {report.files:,} file(s) into {settings.data_dir}; indexed "
               f"{report.documents_indexed:,} document(s); fixity: checked {report.fixity_checked:,} file(s), "
               + ("all match their checksums" if report.ok else f"{len(report.problems)} problem(s)"))
    sys.exit(0 if report.ok else 8)
