"""intake's migrations produce exactly its models (SQLite and PostgreSQL)."""
from services.intake.models import metadata


def test_migrations_match_models(schema_drift):
    assert schema_drift("intake", metadata) == []
