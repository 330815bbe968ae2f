"""Accounts: local users with argon2 password hashes (argon2-cffi), roles and county scope."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from nianbao.desk.db import ROLES, Database, User, now

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a login costs ~30 ms of one core,
# so fifty auditors signing in at once on a small intranet server do not queue for seconds (the
# library's default, 64 MiB x 3 passes x 4 lanes, costs ~5x that); a stolen hash still costs an
# attacker 19 MiB and two passes per guess.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY = _HASHER.hash(secrets.token_hex(16))  # verified against when the user does not exist
NAME_MAX = 64
PASSWORD_MIN = 8


class AccountError(ValueError):
    """An account that cannot be created (message for the user)."""


@dataclass(frozen=True)
class Who:
    """The signed-in user, as a request sees it."""

    id: int
    name: str
    role: str
    county: str | None
    stamp: str = ""  # changes with the password: a session signed in before a password change ends

    @property
    def sees_all(self) -> bool:
        return self.role in ("province", "admin")

    def may_see(self, county: str) -> bool:
        return self.sees_all or county == self.county

    @property
    def scope(self) -> str | None:
        """The county this user is limited to (None: every county)."""
        return None if self.sees_all else self.county


def add_user(db: Database, name: str, role: str, county: str | None, password: str) -> User:
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise AccountError(f"用户名应为 1–{NAME_MAX} 个可见字符")
    if role not in ROLES:
        raise AccountError(f"角色应为 {' / '.join(ROLES)}（收到 {role}）")
    county = (county or "").strip() or None
    if role == "county" and not county:
        raise AccountError("县级审核员须用 --county 指定所属县（区）")
    if role != "county" and county:
        raise AccountError("只有县级审核员（--role county）需要 --county")
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"密码至少 {PASSWORD_MIN} 位")
    user = User(
        name=name, role=role, county=county, password_hash=_HASHER.hash(password), active=True, created_at=now()
    )
    with db.session() as s:
        s.add(user)
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            raise AccountError(f"用户 {name} 已存在") from None
    return user


def list_users(db: Database) -> list[User]:
    with db.session() as s:
        return list(s.scalars(select(User).order_by(User.name)))


def who_of(u: User) -> Who:
    return Who(u.id, u.name, u.role, u.county, u.password_hash[-16:])


def set_password(db: Database, name: str, password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"密码至少 {PASSWORD_MIN} 位")
    with db.session() as s:
        u = s.scalar(select(User).where(User.name == name))
        if u is None:
            raise AccountError(f"没有用户 {name}")
        u.password_hash = _HASHER.hash(password)
        s.commit()


def set_active(db: Database, name: str, active: bool) -> None:
    with db.session() as s:
        u = s.scalar(select(User).where(User.name == name))
        if u is None:
            raise AccountError(f"没有用户 {name}")
        u.active = active
        s.commit()


def verify(db: Database, name: str, password: str) -> Who | None:
    """The user when ``password`` is theirs (the same work whether or not the user exists)."""
    with db.session() as s:
        u = s.scalar(select(User).where(User.name == name.strip(), User.active.is_(True)))
    try:
        _HASHER.verify(u.password_hash if u is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return who_of(u) if u is not None else None


def by_id(db: Database, uid: int) -> Who | None:
    with db.session() as s:
        u = s.get(User, uid)
    return who_of(u) if u is not None and u.active else None


def by_name(db: Database, name: str) -> Who | None:
    with db.session() as s:
        u = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
    return who_of(u) if u is not None else None
