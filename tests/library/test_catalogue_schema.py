"""The catalogue's schema comes from the Alembic migrations, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from library.catalogue import db
from library.catalogue.models import Base


def test_migrations_create_every_table_and_match_the_models(platform):
    names = set(inspect(platform.engine).get_table_names())
    assert {"collections", "items", "pages", "derivatives", "stored_files", "users",
            "alembic_version"} <= names
    assert db.current_revision(platform.engine) == db.head_revision()
    with platform.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_upgrade_is_idempotent(platform):
    db.upgrade(platform.engine)
    assert db.current_revision(platform.engine) == db.head_revision()
