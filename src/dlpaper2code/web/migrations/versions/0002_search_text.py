"""paper.search_text: title, captions and layer types in one column, so the catalog's
search does not load every paper's figures, tables and report

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _list(value) -> list:
    """A JSON column read by plain SQL: text on SQLite, already decoded on PostgreSQL (psycopg)."""
    if isinstance(value, (str, bytes)):
        value = json.loads(value or "[]")
    return value if isinstance(value, list) else []


def upgrade() -> None:
    with op.batch_alter_table("paper") as batch:
        batch.add_column(sa.Column("search_text", sa.Text, nullable=False, server_default=""))
    conn = op.get_bind()
    rows = conn.execute(sa.text("select id, slug, title, layer_types, figures, tables from paper")).fetchall()
    for pid, slug, title, layer_types, figures, tables in rows:
        parts = [slug or "", title or "", " ".join(_list(layer_types))]
        parts += [x.get("caption", "") for x in _list(figures) + _list(tables) if isinstance(x, dict)]
        conn.execute(sa.text("update paper set search_text = :t where id = :i"), {"t": " ".join(parts).lower(), "i": pid})


def downgrade() -> None:
    with op.batch_alter_table("paper") as batch:
        batch.drop_column("search_text")
