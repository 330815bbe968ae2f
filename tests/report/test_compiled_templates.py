"""The views' compiled templates kept between processes (``html._CompiledTemplates``): a second
environment renders the same text without compiling; another salt (Jinja's or Python's version,
the module's source), another source or a damaged file compiles anew, with the same text."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from jinja2 import DictLoader

from nianbao.report import html

SOURCES = {"t.html.j2": "{% for x in xs %}<b>{{ x }}</b>{% endfor %}{{ v|num }}"}
CONTEXT = {"xs": ["甲", "<乙>"], "v": 2.5}
TEXT = "<b>甲</b><b>&lt;乙&gt;</b>2.5"


def _render(salt: str, sources: dict[str, str], compiled: list[str]) -> str:
    env = html.template_env(DictLoader(sources))
    env.bytecode_cache = html._CompiledTemplates(salt)
    compile_ = env.compile

    def counted(source: Any, name: Any = None, *a: Any, **k: Any) -> Any:
        compiled.append(name)
        return compile_(source, name, *a, **k)

    env.compile = counted  # type: ignore[method-assign]
    return env.get_template("t.html.j2").render(CONTEXT)


def test_compiled_once_then_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    compiled: list[str] = []
    assert _render("s1", SOURCES, compiled) == TEXT and compiled == ["t.html.j2"]
    (folder,) = tmp_path.iterdir()
    assert folder.name.startswith("_jinja2-cache-") and (folder.stat().st_mode & 0o777) == 0o700
    assert _render("s1", SOURCES, compiled) == TEXT and compiled == ["t.html.j2"]  # not compiled again
    assert _render("s2", SOURCES, compiled) == TEXT and len(compiled) == 2  # another salt: compiled
    changed = {"t.html.j2": SOURCES["t.html.j2"] + "!"}
    assert _render("s1", changed, compiled) == TEXT + "!" and len(compiled) == 3  # another source
    for f in folder.iterdir():
        f.write_bytes(b"j2 damaged")
    assert _render("s1", SOURCES, compiled) == TEXT and len(compiled) == 4  # damaged: compiled


def test_no_cache_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_TEMPLATE_CACHE", "0")
    assert html._compiled_templates() is None
    monkeypatch.delenv("NIANBAO_TEMPLATE_CACHE")
    cache = html._compiled_templates()
    assert isinstance(cache, html._CompiledTemplates) and len(cache.salt) == 64
