"""Rules whose passing/failing fixtures live outside tests/test_rules.py register their codes here
(each test module that covers a rule adds to COVERED at import), so test_every_catalogue_rule_has_a_case
can check the whole catalogue."""

from __future__ import annotations

COVERED: set[str] = set()
