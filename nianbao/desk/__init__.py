"""The review desk (``nianbao serve``): auditors work the findings of the nightly run in a browser.

- :mod:`nianbao.desk.db` — the database (SQLite beside the reports by default, PostgreSQL by URL),
  its tables and the Alembic migrations run at start;
- :mod:`nianbao.desk.runs` — the run folders read as the desk needs them (queue, report, county);
- :mod:`nianbao.desk.review` — what auditors change (decisions on findings, notified townships,
  the move to fixed after a clean rerun) with the audit log; :func:`nianbao.desk.review.run_acks`
  is what the nightly run reads back;
- :mod:`nianbao.desk.auth` — accounts (argon2), sessions and CSRF tokens;
- :mod:`nianbao.desk.notice` — the 整改通知单 (page and DOCX);
- :mod:`nianbao.desk.app` — the Starlette application; :mod:`nianbao.desk.cli` — ``nianbao serve``
  and ``nianbao user``.
"""
