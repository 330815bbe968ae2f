"""The rule codes that have passing and failing fixtures: each test module that holds a rule's fixtures
adds its code to COVERED at import (``rule_registry.COVERED.update({...})``), so that
tests/rules/test_rule_families.py can check that every active catalogue code has them."""

from __future__ import annotations

COVERED: set[str] = set()
