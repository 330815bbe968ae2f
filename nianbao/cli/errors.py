"""Every misuse of the ``nianbao`` command line ends in one Chinese sentence and exit code 2.

The one place where the command line's errors become messages for users:

* :class:`ChineseErrorsGroup` — the ``nianbao`` app's command group.  It runs the command line
  with click's own error printing switched off and renders what click/typer raise (a missing
  option or argument, an unknown option or command, a value of the wrong type or out of range,
  extra arguments) in Chinese, naming the option and the value given — no ``Usage:``, no
  ``Try --help``, no ``Error:``.  An ``OSError`` that escapes a command becomes
  ``<path>：<reason>`` (:mod:`nianbao.domain.oserrors`), and any other exception one line saying the
  command did not finish — never a traceback (``NIANBAO_DEBUG=1`` shows it, for maintainers).
* :func:`fail` — a command's own check of its inputs: ``错误：…`` and exit 2.

Option constraints are declared on the options (``min=``/``max=``), so that the parser checks
them and the message comes from here.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from typer import _click as click
from typer.core import TyperGroup

from nianbao.domain.oserrors import os_error_text, os_reason

USAGE_EXIT = 2
# markup off: messages carry file names and values typed by the user ("[x]", ":x:")
_err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def fail(msg: str) -> NoReturn:
    """``错误：msg`` on stderr and exit code 2 (a command's own check of its inputs)."""
    _err.print(f"错误：{msg}")
    raise typer.Exit(USAGE_EXIT)


class ChineseErrorsGroup(TyperGroup):
    """The ``nianbao`` command group: click's usage errors and escaped OS errors in Chinese."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:  # a caller handling click's exceptions itself
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        _chinese_help(self)
        argv = list(sys.argv[1:] if args is None else args)
        prog = prog_name or self.name or "nianbao"
        try:
            rv = super().main(argv, prog, complete_var, False, windows_expand_args, **extra)
        except click.exceptions.NoArgsIsHelpError as e:  # `nianbao` alone: the help, as click shows it
            e.show()
            sys.exit(e.exit_code)
        except click.ClickException as e:
            _err.print(f"错误：{usage_message(e, self, prog, argv)}")
            sys.exit(USAGE_EXIT)
        except typer.Abort:
            _err.print("已中止。")
            sys.exit(1)
        except OSError as e:
            if e.errno == errno.EPIPE:  # output piped into `head`: stop quietly, as click does
                sys.stdout = click.utils.PacifyFlushWrapper(sys.stdout)
                sys.stderr = click.utils.PacifyFlushWrapper(sys.stderr)
                sys.exit(1)
            _err.print(f"错误：{os_error_text(e)}")
            sys.exit(USAGE_EXIT)
        except Exception as e:
            if os.environ.get("NIANBAO_DEBUG"):
                raise
            _err.print(
                f"错误：命令未能完成，nianbao 内部出错（{type(e).__name__}）。"
                "请把所用的命令和这条信息告诉维护人员（设置环境变量 NIANBAO_DEBUG=1 可看到详细信息）。"
            )
            sys.exit(USAGE_EXIT)
        sys.exit(rv if isinstance(rv, int) else 0)


# ------------------------------------------------------------------ --help in Chinese

_HEADINGS = {"Usage": "用法", "Arguments": "参数", "Options": "选项", "Commands": "命令"}
_EXTRA = (("default: ", "默认："), ("env var: ", "环境变量："), ("required", "必填"))


class ChineseHelpFormatter(click.HelpFormatter):
    """click's help page with its own words in Chinese (用法、参数、选项、命令、默认、必填)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, _help_zh(text)) for term, text in rows], col_max, col_spacing)


def _help_zh(text: str) -> str:
    if text == "Show this message and exit.":
        return "显示本帮助并退出。"
    extra = re.search(r"\[([^\[\]]*)\]$", text)  # typer's "[default: …; required]" after the help
    if not extra:
        return text
    parts = []
    for part in extra.group(1).split("; "):
        for en, zh in _EXTRA:
            if part.startswith(en):
                part = zh + part[len(en) :]
                break
        else:  # a declared range: "x>=1", "x<=9", "0.0<=x<=1.0"
            if m := re.fullmatch(r"(\S+)<=x<=(\S+)", part):
                part = f"{m.group(1)} 到 {m.group(2)}"
            elif m := re.fullmatch(r"x([<>])=(\S+)", part):
                part = f"{'不大于' if m.group(1) == '<' else '不小于'} {m.group(2)}"
        parts.append(part)
    return f"{text[: extra.start()]}[{'；'.join(parts)}]"


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


def _chinese_help(command: click.Command) -> None:
    """Every command of the app (subgroups' included) formats its help with :class:`ChineseHelpFormatter`."""
    command.context_class = ChineseContext
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _chinese_help(sub)


# ------------------------------------------------------------------ click's errors in Chinese


def usage_message(e: click.ClickException, group: TyperGroup, prog: str, argv: Sequence[str]) -> str:
    """One Chinese sentence for a usage error raised by click/typer, naming the option or argument."""
    command = _command_path(e, group, prog, argv)
    hint = f"。用 {command} --help 查看用法"
    exc = click.exceptions
    if isinstance(e, exc.NoSuchOption):
        close = sorted(set(e.possibilities or ()))
        also = f"，相近的选项：{'、'.join(close)}" if close else ""
        return f"{command} 没有选项 {e.option_name}{also}{hint}"
    if isinstance(e, exc.MissingParameter):
        return f"缺少{_param_label(e.param, with_help=True)}{hint}"
    if isinstance(e, exc.BadParameter):
        return f"{_param_label(e.param)}{_bad_value(e)}{hint}"
    if isinstance(e, exc.BadOptionUsage):
        if "does not take a value" in e.message:
            return f"选项 {e.option_name} 是开关，后面不能带值{hint}"
        return f"选项 {e.option_name} 后面缺少值{hint}"
    if isinstance(e, exc.BadArgumentUsage):
        return f"参数个数不对{hint}"
    if isinstance(e, exc.UsageError):
        msg = e.message
        if msg.startswith("Got unexpected extra argument"):
            extra = re.search(r"\(([^()]*)\)$", msg)
            return f"多余的参数：{extra.group(1) if extra else ''}{hint}"
        if msg.startswith("No such command"):
            typed = re.match(r"No such command (['\"])(.*)\1", msg)
            name = typed.group(2) if typed else ""
            ctx = e.ctx if isinstance(e.ctx, click.Context) else click.Context(group)
            parent = ctx.command if isinstance(ctx.command, TyperGroup) else group
            known = "、".join(parent.list_commands(ctx))
            return f"{ctx.command_path} 没有命令 {name}（可用的命令：{known}）"
        if msg.startswith("Missing command"):
            return f"缺少命令{hint}"
        return f"命令行用法不对{hint}"
    return f"命令未能执行{hint}"


def _command_path(e: click.ClickException, group: TyperGroup, prog: str, argv: Sequence[str]) -> str:
    ctx = getattr(e, "ctx", None)
    if isinstance(ctx, click.Context):
        return ctx.command_path
    # errors raised by the option parser carry no context: the first word naming a command
    name = next((a for a in argv if a in group.commands), None)
    return f"{prog} {name}" if name else prog


def _param_label(param: click.Parameter | None, *, with_help: bool = False) -> str:
    if param is None:
        return "参数"
    help_text = _short_help(getattr(param, "help", None))
    if param.param_type_name == "option":
        opt = max(param.opts, key=len)
        return f"选项 {opt}（{help_text}）" if with_help and help_text else f"选项 {opt} "
    what = help_text or (param.name or "")
    return f"参数：{what}" if with_help else f"参数“{what}”"


def _short_help(text: str | None) -> str:
    """An option's help up to its first explanation: "输出目录（默认 …）" → "输出目录"."""
    if not text:
        return ""
    for sep in ("（", "：", "；", "("):
        text = text.split(sep, 1)[0]
    return text.strip()


# pydantic's error types (typer converts values with pydantic) → what the value should be
_VALUE_RULES: dict[str, str] = {
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
}


def _bad_value(e: click.exceptions.BadParameter) -> str:
    """What is wrong with the value: from the pydantic error typer raised it from."""
    cause = e.__cause__
    errors = cause.errors() if cause is not None and hasattr(cause, "errors") else []
    if not errors:
        return "的值不对"
    first = errors[0]
    kind = str(first.get("type", ""))
    bounds = first.get("ctx") or {}
    got = f"（收到 {first.get('input')}）" if "input" in first else ""
    if kind in _VALUE_RULES:
        return f"{_VALUE_RULES[kind]}{got}"
    for key, words in (("ge", "不能小于"), ("gt", "必须大于"), ("le", "不能大于"), ("lt", "必须小于")):
        if key in bounds:
            return f"{words} {_number(bounds[key])}{got}"
    return f"的值不对{got}"


def _number(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


# ------------------------------------------------------------------ inputs and outputs


def need_file(path: Path, what: str) -> None:
    """``path`` must be an existing file (not a folder)."""
    if path.is_dir():
        fail(f"{what}应为文件，但 {path} 是一个文件夹")
    if not path.is_file():
        fail(f"找不到{what}：{path}")


def need_dir(path: Path, what: str) -> None:
    """``path`` must be an existing folder (not a file)."""
    if path.exists() and not path.is_dir():
        fail(f"{what}应为文件夹，但 {path} 是一个文件")
    if not path.is_dir():
        fail(f"找不到{what}：{path}")


def need_out_dir(out: Path, what: str = "输出目录") -> None:
    """``out`` is a folder that can be written (created if missing)."""
    if out.exists() and not out.is_dir():
        fail(f"{what} {out} 是一个文件，应为文件夹")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".nianbao-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        fail(f"{what} {out} 不可写：{os_reason(e)}")


def need_out_file(path: Path, what: str = "输出文件") -> None:
    """``path`` can be written as a file: not a folder, its folder a folder."""
    if path.is_dir():
        fail(f"{what}应为文件，但 {path} 是一个文件夹")
    if path.exists() and not path.is_file():  # a device or a pipe: never replaced by a rename
        fail(f"{what}应为普通文件，但 {path} 是设备或特殊文件")
    parent = path.parent
    for p in (parent, *parent.parents):
        if p.exists():
            if not p.is_dir():
                fail(f"无法写入{what} {path}：{p} 是一个文件，不是文件夹")
            break


def write_failed(path: Path, e: OSError, what: str = "") -> NoReturn:
    """A failed write of ``path``, named by its target (not the temporary file written first)."""
    fail(f"{what}{path} 无法写入：{os_reason(e)}")
