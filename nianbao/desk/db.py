"""The desk's database: SQLite beside the reports by default, PostgreSQL when a URL is given.

The schema is created and upgraded by Alembic (``nianbao/desk/migrations``) every time the desk
or the nightly run opens the database, so a new release migrates an existing database in place.
Times are stored in UTC (timezone-aware) and shown in Beijing time.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from nianbao.desk.words import (  # noqa: F401 - re-exported: the database's codes
    CONFIRMED,
    DB_ENV,
    DB_FILE,
    DECISION_ZH,
    DISMISSED,
    FIXED,
    NOTIFIED,
    OPEN,
    ROLE_ZH,
    ROLES,
    TOWNSHIP_ZH,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    county: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Review(Base):
    """The decision on one finding, keyed by its identity across runs (agency, year, rule, cells)."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of ``key``
    key: Mapped[str] = mapped_column(Text)  # the finding identity, as JSON
    agency_key: Mapped[str] = mapped_column(String(200), index=True)
    agency: Mapped[str] = mapped_column(String(200))
    year: Mapped[int | None] = mapped_column(Integer)
    county: Mapped[str] = mapped_column(String(128), index=True)
    rule: Mapped[str] = mapped_column(String(16))
    cells: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")  # the report's bytes when decided
    user: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Township(Base):
    """The follow-up of one report (a township and a year): notified, then fixed."""

    __tablename__ = "townships"
    __table_args__ = (UniqueConstraint("agency_key", "year", name="uq_township_agency_year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_key: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    county: Mapped[str] = mapped_column(String(128), index=True)
    file: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    notified_on: Mapped[date] = mapped_column(Date)
    how: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[date | None] = mapped_column(Date)
    contact: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")  # the report's bytes when notified
    fixed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fixed_run: Mapped[str | None] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Audit(Base):
    """Every change: who, when, what."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    user: Mapped[str] = mapped_column(String(64))
    county: Mapped[str] = mapped_column(String(128), index=True, default="")
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SeenRun(Base):
    """The run folders whose results moved townships to fixed (each looked at once)."""

    __tablename__ = "seen_runs"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


def default_url(reports: Path) -> str:
    """``NIANBAO_DB`` when set, else the SQLite file ``desk.sqlite3`` in the reports folder."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return env
    return "sqlite:///" + str((reports / DB_FILE).resolve())


def describe_url(url: str) -> str:
    """The URL without its password (for messages)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "（无法识别的数据库地址）"


def engine_for(url: str) -> Engine:
    """An engine for ``url`` (``postgresql://`` uses psycopg 3); SQLite in WAL mode with a busy wait."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    kw: dict[str, Any] = {"future": True}
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
        # bounded: an unreachable server is an error after 10 s, not a hung desk or nightly run
        kw |= {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    elif u.drivername.startswith("sqlite"):
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kw |= {"connect_args": {"timeout": 30, "check_same_thread": False}}
    eng = create_engine(u, **kw)
    if eng.dialect.name == "sqlite":

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return eng


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic, ``nianbao/desk/migrations``)."""
    import logging

    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """An engine with its migrated schema and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)
        migrate(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def setting(self, key: str, make: Any) -> str:
        """The stored value of ``key``, created by ``make()`` the first time (race-safe)."""
        from sqlalchemy.exc import IntegrityError

        with self.session() as s:
            row = s.get(Setting, key)
            if row is not None:
                return row.value
            s.add(Setting(key=key, value=str(make())))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
            row = s.get(Setting, key)
            assert row is not None
            return row.value

    def dispose(self) -> None:
        self.engine.dispose()
