"""paper.authors and paper.arxiv_id (from report.metadata), and paper_tag: one row per framework,
layer type and figure style of a paper, indexed on (kind, value), so the catalog filters in SQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# the columns read and written here, typed so JSON is decoded the same on SQLite and PostgreSQL
_paper = sa.table("paper", sa.column("id", sa.Integer), sa.column("frameworks", sa.JSON),
                  sa.column("layer_types", sa.JSON), sa.column("figure_styles", sa.JSON),
                  sa.column("report", sa.JSON), sa.column("authors", sa.JSON), sa.column("arxiv_id", sa.String))
_tag = sa.table("paper_tag", sa.column("paper_id", sa.Integer), sa.column("kind", sa.String),
                sa.column("value", sa.String))
BATCH = 500


def _tags(frameworks, layer_types, figure_styles) -> set:
    out = set()
    for kind, values in (("framework", frameworks), ("layer", layer_types), ("style", figure_styles)):
        for v in values if isinstance(values, list) else []:
            if isinstance(v, str) and v.strip():
                out.add((kind, v.strip()[:200]))
    return out


def _metadata(report) -> tuple[list, str]:
    meta = report.get("metadata") if isinstance(report, dict) else None
    if not isinstance(meta, dict):
        return [], ""
    authors = [str(a) for a in meta.get("authors") or [] if isinstance(a, str)]
    return authors, str(meta.get("arxiv_id") or "")[:64]


def upgrade() -> None:
    with op.batch_alter_table("paper") as batch:
        batch.add_column(sa.Column("authors", sa.JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("arxiv_id", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "paper_tag",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("paper.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.UniqueConstraint("paper_id", "kind", "value", name="uq_paper_tag"),
    )
    op.create_index("ix_paper_tag_kind_value", "paper_tag", ["kind", "value", "paper_id"])

    conn = op.get_bind()
    ids = [r[0] for r in conn.execute(sa.select(_paper.c.id).order_by(_paper.c.id))]
    for i in range(0, len(ids), BATCH):      # in batches: a report can be large
        rows = conn.execute(sa.select(_paper.c.id, _paper.c.frameworks, _paper.c.layer_types, _paper.c.figure_styles,
                                      _paper.c.report).where(_paper.c.id.in_(ids[i:i + BATCH]))).fetchall()
        tags = []
        for pid, frameworks, layer_types, figure_styles, report in rows:
            authors, arxiv_id = _metadata(report)
            if authors or arxiv_id:
                conn.execute(sa.update(_paper).where(_paper.c.id == pid).values(authors=authors, arxiv_id=arxiv_id))
            tags += [{"paper_id": pid, "kind": k, "value": v}
                     for k, v in sorted(_tags(frameworks, layer_types, figure_styles))]
        if tags:
            conn.execute(sa.insert(_tag), tags)


def downgrade() -> None:
    op.drop_index("ix_paper_tag_kind_value", table_name="paper_tag")
    op.drop_table("paper_tag")
    with op.batch_alter_table("paper") as batch:
        batch.drop_column("arxiv_id")
        batch.drop_column("authors")
