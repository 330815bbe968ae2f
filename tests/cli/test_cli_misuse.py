"""Every misuse of the command line: one Chinese sentence on stderr, exit code 2, never a traceback.

Each case runs the real command line (typer's CliRunner over the ``nianbao`` app; two of them as a
separate process) and asserts the exact message — no ``Usage:``/``Error:``/``Try --help`` from
click, no English ``strerror`` of the operating system.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from nianbao.cli.app import app
from nianbao.domain.oserrors import os_error_text, os_reason
from tests.helpers import ROOT, SEED

runner = CliRunner()

# click's own words and every English strerror of this system: none may reach the user
ENGLISH = (
    "Traceback",
    "Usage:",
    "Error:",
    "Try ",
    "Missing argument",
    "Missing option",
    "Invalid value",
    "No such option",
    "No such command",
    "unexpected extra argument",
    "requires an argument",
    "Input should be",
    *(os.strerror(n) for n in sorted(errno.errorcode) if not os.strerror(n).startswith("Unknown error")),
)


def _commands(*path: str) -> str:
    """The commands of the app (or of its subgroup ``path``), as the message lists them."""
    import typer._click as click

    group = get_command(app)
    for name in path:
        group = group.commands[name]  # type: ignore[attr-defined]
    return "、".join(group.list_commands(click.Context(group)))  # type: ignore[attr-defined]


# (arguments, expected message); {d} is a scratch folder, {f} a file in it, {dir} a folder in it
CASES: list[tuple[str, list[str], str]] = [
    # synth
    ("synth-out-is-file", ["synth", "--out", "{f}"], "输出目录 {f} 是一个文件，应为文件夹"),
    (
        "synth-out-under-file",
        ["synth", "--out", "{f}/sub"],
        "输出目录 {f}/sub 不可写：路径中有一部分是文件而不是文件夹",
    ),
    (
        "synth-townships-negative",
        ["synth", "--out", "{d}/s", "--townships", "-3"],
        "选项 --townships 不能小于 1（收到 -3）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-townships-zero",
        ["synth", "--out", "{d}/s", "--townships", "0"],
        "选项 --townships 不能小于 1（收到 0）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-townships-text",
        ["synth", "--out", "{d}/s", "--townships", "abc"],
        "选项 --townships 应为整数（收到 abc）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-townships-too-many",
        ["synth", "--out", "{d}/s", "--townships", "5000"],
        "选项 --townships 不能大于 1380（收到 5000；合成的乡镇名称只有这么多）",
    ),
    (
        "synth-counties-zero",
        ["synth", "--out", "{d}/s", "--counties", "0"],
        "选项 --counties 不能小于 1（收到 0）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-defect-rate-above-1",
        ["synth", "--out", "{d}/s", "--defect-rate", "1.5"],
        "选项 --defect-rate 不能大于 1（收到 1.5）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-defect-rate-negative",
        ["synth", "--out", "{d}/s", "--defect-rate", "-0.1"],
        "选项 --defect-rate 不能小于 0（收到 -0.1）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-defect-rate-text",
        ["synth", "--out", "{d}/s", "--defect-rate", "三成"],
        "选项 --defect-rate 应为数字（收到 三成）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-seed-float",
        ["synth", "--out", "{d}/s", "--seed", "1.5"],
        "选项 --seed 应为整数（收到 1.5）。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-years-text",
        ["synth", "--out", "{d}/s", "--years", "2022,abc"],
        "--years 格式不对：2022,abc（应为用逗号分隔的年度，如 2022,2023）",
    ),
    (
        "synth-years-empty",
        ["synth", "--out", "{d}/s", "--years", ","],
        "--years 没有给出年度（收到 ,；应为用逗号分隔的年度，如 2022,2023）",
    ),
    (
        "synth-years-out-of-range",
        ["synth", "--out", "{d}/s", "--years", "2022,1990"],
        "--years 中的年度不对：1990（应在 2019 到 2100 之间）",
    ),
    (
        "synth-years-repeated",
        ["synth", "--out", "{d}/s", "--years", "2022,2022"],
        "--years 中有重复的年度：2022,2022",
    ),
    ("synth-missing-out", ["synth"], "缺少选项 --out（输出目录）。用 nianbao synth --help 查看用法"),
    ("synth-out-without-value", ["synth", "--out"], "选项 --out 后面缺少值。用 nianbao synth --help 查看用法"),
    (
        "synth-switch-with-value",
        ["synth", "--out", "{d}/s", "--utf8=yes"],
        "选项 --utf8 是开关，后面不能带值。用 nianbao synth --help 查看用法",
    ),
    (
        "synth-extra-argument",
        ["synth", "--out", "{d}/s", "extra"],
        "多余的参数：extra。用 nianbao synth --help 查看用法",
    ),
    # validate
    ("validate-no-paths", ["validate"], "缺少参数：报告文件或文件夹。用 nianbao validate --help 查看用法"),
    (
        "validate-unknown-option",
        ["validate", "{seed}", "--bogus"],
        "nianbao validate 没有选项 --bogus，相近的选项：--out。用 nianbao validate --help 查看用法",
    ),
    ("validate-missing-input", ["validate", "{d}/nope.txt", "--out", "{d}/o"], "找不到输入路径：{d}/nope.txt"),
    (
        "validate-workers-zero",
        ["validate", "{seed}", "--workers", "0"],
        "选项 --workers 不能小于 1（收到 0）。用 nianbao validate --help 查看用法",
    ),
    (
        "validate-workers-huge",
        ["validate", "{seed}", "--workers", "4000"],
        "选项 --workers 不能大于 256（收到 4000）。用 nianbao validate --help 查看用法",
    ),
    (
        "validate-workers-text",
        ["validate", "{seed}", "--workers", "x"],
        "选项 --workers 应为整数（收到 x）。用 nianbao validate --help 查看用法",
    ),
    ("validate-out-is-file", ["validate", "{seed}", "--out", "{f}"], "输出目录 {f} 是一个文件，应为文件夹"),
    (
        "validate-out-without-value",
        ["validate", "{seed}", "--out"],
        "选项 --out 后面缺少值。用 nianbao validate --help 查看用法",
    ),
    (
        "validate-max-file-mb-zero",
        ["validate", "{seed}", "--out", "{d}/o", "--max-file-mb", "0"],
        "--max-file-mb 必须大于 0（收到 0）",
    ),
    (
        "validate-parse-timeout-inf",
        ["validate", "{seed}", "--out", "{d}/o", "--parse-timeout", "inf"],
        "--parse-timeout 不能是无穷大（收到 inf）",
    ),
    (
        "validate-parse-timeout-text",
        ["validate", "{seed}", "--parse-timeout", "一分钟"],
        "选项 --parse-timeout 应为数字（收到 一分钟）。用 nianbao validate --help 查看用法",
    ),
    (
        "validate-registry-is-folder",
        ["validate", "{seed}", "--out", "{d}/o", "--registry", "{dir}"],
        "机关登记表应为文件，但 {dir} 是一个文件夹",
    ),
    (
        "validate-registry-missing",
        ["validate", "{seed}", "--out", "{d}/o", "--registry", "{d}/none.csv"],
        "找不到机关登记表：{d}/none.csv",
    ),
    (
        "validate-renames-is-folder",
        ["validate", "{seed}", "--out", "{d}/o", "--renames", "{dir}"],
        "机关更名表应为文件，但 {dir} 是一个文件夹",
    ),
    (
        "validate-registry-not-utf8",
        ["validate", "{seed}", "--out", "{d}/o", "--registry", "{d}/gbk.csv"],
        "机关登记表无法读取：{d}/gbk.csv：第 2 行不是 UTF-8 编码（请另存为 UTF-8 编码的 CSV）",
    ),
    (
        "validate-renames-not-utf8",
        ["validate", "{seed}", "--out", "{d}/o", "--renames", "{d}/gbk.csv"],
        "机关更名表无法读取：{d}/gbk.csv：第 2 行不是 UTF-8 编码（请另存为 UTF-8 编码的 CSV）",
    ),
    (
        "validate-previous-is-file",
        ["validate", "{seed}", "--out", "{d}/o", "--previous", "{f}"],
        "上一次运行的目录应为文件夹，但 {f} 是一个文件",
    ),
    (
        "validate-acks-is-folder",
        ["validate", "{seed}", "--out", "{d}/o", "--acks", "{dir}"],
        "复核确认记录应为文件，但 {dir} 是一个文件夹",
    ),
    (
        "validate-last-year-missing",
        ["validate", "{seed}", "--out", "{d}/o", "--last-year", "{d}/nope"],
        "找不到上年度报告：{d}/nope",
    ),
    # run and schedule
    ("run-root-is-file", ["run", "--root", "{f}"], "报告收件目录应为文件夹，但 {f} 是一个文件"),
    ("run-root-missing", ["run", "--root", "{d}/nope"], "找不到报告收件目录：{d}/nope"),
    (
        "run-workers-zero",
        ["run", "--root", "{dir}", "--workers", "0"],
        "选项 --workers 不能小于 1（收到 0）。用 nianbao run --help 查看用法",
    ),
    (
        "run-year-text",
        ["run", "--root", "{dir}", "--year", "二〇二三"],
        "选项 --year 应为整数（收到 二〇二三）。用 nianbao run --help 查看用法",
    ),
    (
        "run-registry-is-folder",
        ["run", "--root", "{dir}", "--registry", "{dir}"],
        "应报送机关名单应为文件，但 {dir} 是一个文件夹",
    ),
    (
        "run-store-is-file",
        ["run", "--root", "{dir}", "--store", "{f}"],
        "解析结果存储目录 {f} 是一个文件，应为文件夹",
    ),
    ("run-out-is-file", ["run", "--root", "{dir}", "--out", "{f}"], "输出目录 {f} 是一个文件，应为文件夹"),
    (
        "run-dask-without-prefect",
        ["run", "--root", "{dir}", "--out", "{d}/o", "--dask", "tcp://x:8786", "--no-prefect"],
        "--dask 需要经 Prefect 流程运行（不能与 --no-prefect 同用）",
    ),
    (
        "schedule-bad-time",
        ["schedule", "--time", "25:00"],
        "时间格式不对：25:00（应为 HH:MM，如 02:30）",
    ),
    ("schedule-root-is-file", ["schedule", "--root", "{f}"], "报告收件目录应为文件夹，但 {f} 是一个文件"),
    (
        "schedule-registry-missing",
        ["schedule", "--root", "{dir}", "--registry", "{d}/none.csv"],
        "找不到应报送机关名单：{d}/none.csv",
    ),
    # rules and template
    ("rules-out-is-folder", ["rules", "--out", "{dir}"], "规则说明文件应为文件，但 {dir} 是一个文件夹"),
    (
        "rules-out-under-file",
        ["rules", "--out", "{f}/rules.md"],
        "无法写入规则说明文件 {f}/rules.md：{f} 是一个文件，不是文件夹",
    ),
    (
        "rules-out-is-device",
        ["rules", "--out", "/dev/null"],
        "规则说明文件应为普通文件，但 /dev/null 是设备或特殊文件",
    ),
    ("template-no-year", ["template"], "缺少选项 --year（报告年度）。用 nianbao template --help 查看用法"),
    (
        "template-year-text",
        ["template", "--year", "今年"],
        "选项 --year 应为整数（收到 今年）。用 nianbao template --help 查看用法",
    ),
    (
        "template-year-too-early",
        ["template", "--year", "2018"],
        "年度不对：2018（应在 2019 到 2100 之间，2019 年起才有统一的年度报告格式）",
    ),
    ("template-format", ["template", "--year", "2024", "--format", "pdf"], "--format 只能是 xlsx 或 docx（收到 pdf）"),
    (
        "template-out-is-folder",
        ["template", "--year", "2024", "--out", "{dir}"],
        "模板文件应为文件，但 {dir} 是一个文件夹",
    ),
    # ack
    (
        "ack-missing-rule",
        ["ack", "--file", "{f}"],
        "缺少选项 --rule（规则代码，如 G04）。用 nianbao ack --help 查看用法",
    ),
    (
        "ack-file-is-folder",
        ["ack", "--file", "{dir}", "--rule", "G04", "--reviewer", "张三", "--acks", "{d}/a.csv"],
        "报告文件应为文件，但 {dir} 是一个文件夹",
    ),
    (
        "ack-file-missing",
        ["ack", "--file", "{d}/nope.txt", "--rule", "G04", "--reviewer", "张三", "--acks", "{d}/a.csv"],
        "找不到报告文件：{d}/nope.txt",
    ),
    (
        "ack-unknown-rule",
        ["ack", "--file", "{f}", "--rule", "zz9", "--reviewer", "张三", "--acks", "{d}/a.csv"],
        "规则代码 ZZ9 不在规则目录中",
    ),
    (
        "ack-blank-reviewer",
        ["ack", "--file", "{f}", "--rule", "G04", "--reviewer", " ", "--acks", "{d}/a.csv"],
        "--reviewer 不能为空：请写明复核人",
    ),
    (
        "ack-acks-is-folder",
        ["ack", "--file", "{f}", "--rule", "G04", "--reviewer", "张三", "--acks", "{dir}"],
        "复核确认记录应为文件，但 {dir} 是一个文件夹",
    ),
    (
        "ack-run-missing",
        ["ack", "--file", "{f}", "--rule", "G04", "--reviewer", "张三", "--acks", "{d}/a.csv", "--run", "{d}/r"],
        "找不到运行的输出目录：{d}/r",
    ),
    (
        "ack-run-is-file",
        ["ack", "--file", "{f}", "--rule", "G04", "--reviewer", "张三", "--acks", "{d}/a.csv", "--run", "{f}"],
        "运行的输出目录应为文件夹，但 {f} 是一个文件",
    ),
    (
        "ack-run-without-results",
        ["ack", "--file", "{f}", "--rule", "G04", "--reviewer", "张三", "--acks", "{d}/a.csv", "--run", "{dir}"],
        "运行结果 {dir} 无法读取：{dir}/submissions.json：文件或文件夹不存在",
    ),
    # the review desk's database
    (
        "user-list-unknown-database",
        ["user", "list", "--db", "bogus://x"],
        "无法打开审核台数据库 bogus://x：数据库地址无法识别（应为 sqlite:///文件路径 或 postgresql://用户@主机/库名）",
    ),
    (
        "user-list-reports-is-file",
        ["user", "list", "--reports", "{f}"],
        "无法打开审核台数据库 sqlite:///{f}/desk.sqlite3：{f}：已存在同名的文件或文件夹",
    ),
    # the command group
    ("unknown-command", ["frob"], "nianbao 没有命令 frob（可用的命令：{commands}）"),
    ("unknown-subcommand", ["user", "frob"], "nianbao user 没有命令 frob（可用的命令：{user_commands}）"),
    (
        "serve-port-text",
        ["serve", "--port", "八千"],
        "选项 --port 应为整数（收到 八千）。用 nianbao serve --help 查看用法",
    ),
    (
        "user-add-unknown-option",
        ["user", "add", "--bogus"],
        "nianbao user add 没有选项 --bogus。用 nianbao user add --help 查看用法",
    ),
    ("unknown-top-option", ["--bogus"], "nianbao 没有选项 --bogus。用 nianbao --help 查看用法"),
]


@pytest.fixture
def scratch(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "afile.txt").write_text("不是报告\n", encoding="utf-8")
    (tmp_path / "adir").mkdir()
    (tmp_path / "gbk.csv").write_bytes("county,agency,level\n示例县,示例镇,township\n".encode("gb18030"))
    return {
        "d": str(tmp_path),
        "f": str(tmp_path / "afile.txt"),
        "dir": str(tmp_path / "adir"),
        "seed": str(SEED),
        "commands": _commands(),
        "user_commands": _commands("user"),
    }


def assert_chinese_only(output: str) -> None:
    leaked = [w for w in ENGLISH if w in output]
    assert not leaked, (leaked, output)


@pytest.mark.parametrize(("args", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_misuse_is_one_chinese_sentence_and_exit_2(
    args: list[str], message: str, scratch: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a default output folder (reports/) would land here, never in the repo
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    r = runner.invoke(app, [a.format(**scratch) for a in args])
    assert r.exit_code == 2, r.output
    assert r.stderr == f"错误：{message.format(**scratch)}\n"
    assert r.stdout == ""
    assert_chinese_only(r.output)


# ------------------------------------------------------------------ OS errors, simulated


def _raise(e: BaseException) -> Callable[..., None]:
    def f(*_a: object, **_k: object) -> None:
        raise e

    return f


OS_CASES = [
    (
        "template-disk-full",
        ["template", "--year", "2024", "--out", "{d}/t.xlsx"],
        "nianbao.io.atomic.write_bytes",
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "{d}/.t.xlsx.abc.tmp"),
        "模板文件 {d}/t.xlsx 无法写入：磁盘空间不足",
    ),
    (
        "rules-permission-denied",
        ["rules", "--out", "{d}/rules.md"],
        "nianbao.io.atomic.write_text",
        PermissionError(errno.EACCES, os.strerror(errno.EACCES), "{d}/.rules.md.abc.tmp"),
        "规则说明文件 {d}/rules.md 无法写入：权限不足",
    ),
    (
        "ack-quota",
        ["ack", "--file", "{f}", "--rule", "G04", "--reviewer", "张三", "--acks", "{d}/a.csv"],
        "nianbao.report.history.append_ack",
        OSError(errno.EDQUOT, os.strerror(errno.EDQUOT), "{d}/a.csv"),
        "复核确认记录 {d}/a.csv 无法写入：超出磁盘配额",
    ),
    (
        "validate-output-read-only",
        ["validate", "{seed}", "--out", "{d}/o"],
        "pathlib.Path.write_bytes",
        OSError(errno.EROFS, os.strerror(errno.EROFS), "{d}/o/.nianbao-write-test"),
        "输出目录 {d}/o 不可写：文件系统是只读的",
    ),
    (
        "synth-permission-denied",
        ["synth", "--out", "{d}/s", "--townships", "1"],
        "nianbao.testing.synth.write_county_tree",
        PermissionError(errno.EACCES, os.strerror(errno.EACCES), "{d}/s/2022"),
        "合成报告写入 {d}/s 失败：{d}/s/2022：权限不足",
    ),
    (
        "validate-disk-full-writing-results",
        ["validate", "{seed}", "--out", "{d}/o"],
        "nianbao.report.writer.write_all",
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "{d}/o/.findings.json.abc.tmp"),
        "结果写入 {d}/o 失败：磁盘空间不足",
    ),
    # an OSError no command expected: the command group's own translation
    (
        "rules-disk-fails-without-a-path",
        ["rules"],
        "nianbao.report.rulesdoc.rules_markdown",
        OSError(errno.EIO, os.strerror(errno.EIO)),
        "读写设备出错（磁盘或网络存储故障）",
    ),
    (
        "rules-is-a-directory-escaped",
        ["rules"],
        "nianbao.report.rulesdoc.rules_markdown",
        IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), "{d}/cat"),
        "{d}/cat：这是一个文件夹，不是文件",
    ),
    # not an OSError at all: a bug, said in one line without a traceback
    (
        "rules-internal-error",
        ["rules"],
        "nianbao.report.rulesdoc.rules_markdown",
        KeyError("G99"),
        "命令未能完成，nianbao 内部出错（KeyError）。请把所用的命令和这条信息告诉维护人员"
        "（设置环境变量 NIANBAO_DEBUG=1 可看到详细信息）。",
    ),
]


@pytest.mark.parametrize(("args", "target", "exc", "message"), [c[1:] for c in OS_CASES], ids=[c[0] for c in OS_CASES])
def test_os_errors_are_said_in_chinese(
    args: list[str],
    target: str,
    exc: BaseException,
    message: str,
    scratch: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if isinstance(exc, OSError) and isinstance(exc.filename, str):
        exc = type(exc)(exc.errno, exc.strerror, exc.filename.format(**scratch))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NIANBAO_DEBUG", raising=False)
    monkeypatch.setattr(target, _raise(exc))
    r = runner.invoke(app, [a.format(**scratch) for a in args])
    assert r.exit_code == 2, r.output
    assert r.stderr == f"错误：{message.format(**scratch)}\n"
    assert_chinese_only(r.output)


def test_os_reason_has_no_english() -> None:
    for n in sorted(errno.errorcode):
        reason = os_reason(OSError(n, os.strerror(n)))
        assert os.strerror(n) not in reason
        assert not re.search("[A-Za-z]", re.sub(r"（错误号 E[A-Z0-9]+）$", "", reason)), reason
    e = OSError(errno.EXDEV, os.strerror(errno.EXDEV), "/a/b", None, "/c/d")
    assert os_error_text(e) == "/a/b → /c/d：不能跨文件系统移动"
    assert os_error_text(PermissionError("no errno")) == "权限不足"


# ------------------------------------------------------------------ the real process


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["synth", "--out", "{f}"], "输出目录 {f} 是一个文件，应为文件夹"),
        (
            ["synth", "--out", "{d}/s", "--townships", "-3"],
            "选项 --townships 不能小于 1（收到 -3）。用 nianbao synth --help 查看用法",
        ),
    ],
    ids=["synth-out-is-file", "synth-townships-negative"],
)
def test_misuse_in_a_real_process(args: list[str], message: str, scratch: dict[str, str], tmp_path: Path) -> None:
    """The two crashes of issue 12, through ``python -m nianbao.cli`` as a user runs it."""
    cmd = [sys.executable, "-m", "nianbao.cli", *(a.format(**scratch) for a in args)]
    env = {k: v for k, v in os.environ.items() if k != "NIANBAO_DEBUG"}
    p = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr == f"错误：{message.format(**scratch)}\n"
    assert p.stdout == ""
    assert_chinese_only(p.stderr)
    assert not (tmp_path / "s").exists()


# ------------------------------------------------------------------ --help


def _command_paths() -> list[list[str]]:
    import typer._click as click

    def walk(cmd: click.Command, path: list[str]) -> list[list[str]]:
        subs = getattr(cmd, "commands", {})
        return [path] + [p for name, sub in subs.items() for p in walk(sub, [*path, name])]

    return walk(get_command(app), [])


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "nianbao")
def test_every_help_page_speaks_chinese(path: list[str]) -> None:
    r = runner.invoke(app, [*path, "--help"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"用法：{' '.join(['nianbao', *path])} ")
    assert "显示本帮助并退出。" in r.stdout
    for english in ("Usage:", "Options:", "Arguments:", "Commands:", "Show this message", "default:", "required]"):
        assert english not in r.stdout, (english, r.stdout)


def test_help_says_defaults_and_bounds_in_chinese() -> None:
    out = runner.invoke(app, ["synth", "--help"]).stdout
    assert "每个县的乡镇数  [默认：12；不小于 1]" in out
    assert "[默认：0.3；0.0 到 1.0]" in out
    assert "输出目录  [必填]" in out


def test_a_run_stopped_by_an_os_error_says_it_in_chinese() -> None:
    """A run that stops on a full disk names the file and the reason, not Python's English text."""
    from nianbao.run.interrupt import Incomplete, message

    error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/r/2026-12-07/index.html")
    line = message(Incomplete("error", "views", Path("/r/2026-12-07-incomplete"), error))
    assert line.startswith("错误：运行未能完成（/r/2026-12-07/index.html：磁盘空间不足）：")
    assert_chinese_only(line)


def test_the_desk_says_a_missing_run_in_chinese(tmp_path: Path) -> None:
    from nianbao.desk.runs import RunMissing, load_run

    with pytest.raises(RunMissing) as e:
        load_run(tmp_path)
    assert str(e.value) == f"运行结果 {tmp_path} 无法读取：{tmp_path}/submissions.json：文件或文件夹不存在"
    (tmp_path / "submissions.json").write_text("{", encoding="utf-8")
    (tmp_path / "findings.json").write_text("[]", encoding="utf-8")
    with pytest.raises(RunMissing, match=re.escape("submissions.json 或 findings.json 不是有效的 JSON")):
        load_run(tmp_path)
