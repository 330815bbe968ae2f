"""The review desk: users, reviews of findings, townships' follow-up, audit log, settings.

Revision ID: 0001_desk
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_desk"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("county", sa.String(128)),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("agency_key", sa.String(200), nullable=False, index=True),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer),
        sa.Column("county", sa.String(128), nullable=False, index=True),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("cells", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "townships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agency_key", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("county", sa.String(128), nullable=False, index=True),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("notified_on", sa.Date, nullable=False),
        sa.Column("how", sa.String(200), nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("fixed_at", TZ),
        sa.Column("fixed_run", sa.String(64)),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("agency_key", "year", name="uq_township_agency_year"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("county", sa.String(128), nullable=False, index=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "seen_runs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("at", TZ, nullable=False),
    )


def downgrade() -> None:
    for t in ("seen_runs", "settings", "audit_log", "townships", "reviews", "users"):
        op.drop_table(t)
