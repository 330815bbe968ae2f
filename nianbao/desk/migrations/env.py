"""Alembic environment of the review desk: run on the connection handed over by nianbao.desk.db.migrate."""

from __future__ import annotations

from alembic import context

from nianbao.desk.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
