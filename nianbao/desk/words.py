"""The desk's fixed words and codes (no heavy imports: the CLI reads them at start-up)."""

from __future__ import annotations

DB_ENV = "NIANBAO_DB"
DB_FILE = "desk.sqlite3"

ROLES = ("admin", "province", "county")
ROLE_ZH = {"admin": "管理员", "province": "省级审核员", "county": "县级审核员"}

# a finding's review decision
CONFIRMED = "confirmed"  # a real problem: the township must correct its report
DISMISSED = "dismissed"  # a false alarm (with the reason)
OPEN = "open"  # not decided (again)
DECISION_ZH = {CONFIRMED: "已确认", DISMISSED: "误报已排除", OPEN: "待复核"}

# a township's (one report's) follow-up
NOTIFIED = "notified"
FIXED = "fixed"
TOWNSHIP_ZH = {None: "未通知", NOTIFIED: "已通知", FIXED: "已整改"}
