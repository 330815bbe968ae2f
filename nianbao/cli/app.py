"""The ``nianbao`` command line.  Messages for users are in 简体中文."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from nianbao.cli.common import MAX_WORKERS, app, err, out_console
from nianbao.cli.errors import fail, need_dir, need_file, need_out_dir, need_out_file, write_failed
from nianbao.domain.oserrors import os_error_text, os_reason

PROGRESS_MIN_FILES = 20
REPORT_YEARS = range(2019, 2101)  # the statutory annual report format exists from 2019


_fail = fail  # a command's own check of its inputs: 错误：… and exit 2


def _default_out() -> Path:
    return Path("reports") / datetime.now().strftime("validate-%Y%m%d-%H%M%S")


def _check_out(out: Path) -> None:
    need_out_dir(out)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归查找）", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", help="输出目录（默认 reports/ 下新建）")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="解析进程数（默认 CPU 核数）", min=1, max=MAX_WORKERS)
    ] = None,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="上一次运行的输出目录：列出新发现、已解决的问题和更正的报告")
    ] = None,
    acks: Annotated[
        Path | None, typer.Option("--acks", help="复核确认记录（acknowledgements.csv，见 nianbao ack）")
    ] = None,
    max_file_mb: Annotated[
        float | None,
        typer.Option("--max-file-mb", help="单个文件的大小上限，MB（默认 50；环境变量 NIANBAO_MAX_FILE_MB）"),
    ] = None,
    parse_timeout: Annotated[
        float | None,
        typer.Option("--parse-timeout", help="单个文件的解析用时上限，秒（默认 60；环境变量 NIANBAO_PARSE_TIMEOUT）"),
    ] = None,
    registry: Annotated[
        Path | None,
        typer.Option("--registry", help="机关登记表 registry.csv（county,agency,level）：核对各机关每年是否提交一份"),
    ] = None,
    renames: Annotated[
        Path | None,
        typer.Option("--renames", help="机关更名表 renames.csv（old,new；默认取登记表同目录下的 renames.csv）"),
    ] = None,
    last_year: Annotated[
        list[Path] | None,
        typer.Option("--last-year", help="上年度报告（文件或文件夹，可重复）：只用于跨年度核对，不单独校验"),
    ] = None,
) -> None:
    """校验报告文件，写出 submissions.json、findings.json 等结果。"""
    from nianbao.cli.interrupt import validate_guard
    from nianbao.io.atomic import UnsafePath
    from nianbao.report.summary import summary_lines
    from nianbao.report.writer import write_all
    from nianbao.run.interrupt import Tracker
    from nianbao.run.steps import validate_paths

    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        _fail("找不到输入路径：" + "、".join(missing))
    target = out if out is not None else _default_out()
    existed = target.exists()  # an output folder this command creates is removed if left empty
    _check_review_options(target, previous, acks)
    _check_batch_options(registry, renames, last_year or [])
    _check_out(target)
    _apply_limits(max_file_mb, parse_timeout)

    show = sys.stderr.isatty()
    track = Tracker(inputs=[str(p) for p in paths])  # stopped early: what was done so far is written
    with (
        validate_guard(track, target, existed),
        Progress(
            TextColumn("解析报告"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not show,
        ) as prog,
    ):
        task = prog.add_task("parse", total=None)

        def discovered(n: int) -> None:
            prog.update(task, total=n, visible=n >= PROGRESS_MIN_FILES)

        outcome = validate_paths(
            paths,
            workers=workers,
            progress=lambda k: prog.advance(task, k),
            on_discovered=discovered,
            last_year=last_year or [],
            registry=registry,
            renames=renames,
            gx_dir=target / "gx",
            track=track,
        )
        outcome.info = replace(
            outcome.info,
            previous_run=str(previous) if previous is not None else None,
            acks_file=str(acks) if acks is not None else None,
        )
        track.validated(outcome)
        track.at("write")
        try:
            write_all(outcome, target)
        except UnsafePath as e:
            _fail(f"结果未写出：{e}")
        except OSError as e:
            _fail(f"结果写入 {target} 失败：{os_reason(e)}")
    for line in summary_lines(outcome, target):
        out_console.print(line)
    out_console.print(f"质量报告：{target / 'index.html'}（Excel：{target / 'findings.xlsx'}）")
    raise typer.Exit(outcome.exit_code)


def _check_batch_options(registry: Path | None, renames: Path | None, last_year: list[Path]) -> None:
    from nianbao.domain.registry import RegistryError, load_registry, load_renames

    if registry is not None:
        need_file(registry, "机关登记表")
        try:
            load_registry(registry)
        except (RegistryError, UnicodeDecodeError) as e:
            _fail(f"机关登记表无法读取：{e}")
    if renames is not None:
        need_file(renames, "机关更名表")
        try:
            load_renames(renames)
        except (RegistryError, UnicodeDecodeError) as e:
            _fail(f"机关更名表无法读取：{e}")
    gone = [str(p) for p in last_year if not p.exists()]
    if gone:
        _fail("找不到上年度报告：" + "、".join(gone))


def _check_review_options(target: Path, previous: Path | None, acks: Path | None) -> None:
    from nianbao.report.history import load_acks

    if previous is not None:
        need_dir(previous, "上一次运行的目录")
        if previous.resolve() == target.resolve():
            _fail("--previous 不能与 --out 是同一个目录（本次结果会覆盖上一次的结果）")
    if acks is not None:
        need_out_file(acks, "复核确认记录")
        for problem in load_acks(acks)[1]:
            err.print(f"注意：{problem}")


@app.command()
def ack(
    file: Annotated[Path, typer.Option("--file", help="被复核的报告文件（按其内容的 SHA-256 记录）")],
    rule: Annotated[str, typer.Option("--rule", help="规则代码，如 G04")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="复核人")],
    acks: Annotated[Path, typer.Option("--acks", help="复核确认记录文件（CSV，放在报送数据旁）")],
    cell: Annotated[
        list[str] | None, typer.Option("--cell", help="单元格编号，可重复；不写表示该报告此规则的全部问题")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="复核说明")] = "",
    run: Annotated[Path | None, typer.Option("--run", help="某次运行的输出目录：核对该问题确实存在")] = None,
) -> None:
    """把一条警告或提示标记为已复核：仍会列出，但不再算作新发现，直到报告内容变化。"""
    import hashlib

    from nianbao.report.history import Ack, AckError, append_ack, load_acks, today

    if file.is_symlink():
        _fail(f"报告文件 {file} 是符号链接（校验时不跟随符号链接，请指向实际的文件）")
    need_file(file, "报告文件")
    try:
        sha = hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError as e:
        _fail(f"报告文件 {file} 无法读取：{os_reason(e)}")
    code = rule.strip().upper()
    if not reviewer.strip():
        _fail("--reviewer 不能为空：请写明复核人")
    need_out_file(acks, "复核确认记录")
    cells = tuple(cell or ())
    if run is not None:
        _check_finding_in_run(run, file, sha, code, cells)
    entry = Ack(sha, code, cells, reviewer.strip(), note.strip(), today())
    existing, _problems = load_acks(acks)
    if any((a.sha256, a.rule, sorted(a.cells)) == (sha, code, sorted(cells)) for a in existing):
        out_console.print(f"已有相同的复核记录（{acks}），未重复添加。")
        raise typer.Exit(0)
    try:
        append_ack(acks, entry)
    except AckError as e:
        _fail(str(e))
    except OSError as e:
        write_failed(acks, e, "复核确认记录 ")
    what = f"单元格 {' '.join(cells)}" if cells else "该报告此规则的全部问题"
    out_console.print(
        f"已记录复核：{file} 的 {code}（{what}），复核人 {entry.reviewer}，写入 {acks}。报告内容变化后需重新复核。"
    )


def _check_finding_in_run(run: Path, file: Path, sha: str, code: str, cells: tuple[str, ...]) -> None:
    import contextlib
    import json

    from nianbao.outcome import expand_summaries

    need_dir(run, "运行的输出目录")
    try:
        subs = json.loads((run / "submissions.json").read_text(encoding="utf-8"))
        finds = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    except OSError as e:
        _fail(f"运行结果 {run} 无法读取：{os_error_text(e)}")
    except ValueError:
        _fail(f"运行结果 {run} 无法读取：submissions.json 或 findings.json 不是有效的 JSON")
    with contextlib.suppress(OSError, ValueError, AttributeError):  # the summarised infos (run.json)
        finds += expand_summaries(json.loads((run / "run.json").read_text(encoding="utf-8")).get("summaries"), subs)
    names = {s.get("file") for s in subs if isinstance(s, dict) and s.get("sha256") == sha}
    if not names:
        _fail(f"运行 {run} 中没有内容与 {file} 相同的报告（文件可能已修改，请重新校验后再复核）")
    hits = [
        f
        for f in finds
        if isinstance(f, dict)
        and f.get("file") in names
        and f.get("rule") == code
        and (not cells or sorted(f.get("cells") or []) == sorted(cells))
    ]
    if not hits:
        _fail(f"运行 {run} 中该报告没有 {code} 问题" + (f"（单元格 {' '.join(cells)}）" if cells else ""))


def _apply_limits(max_file_mb: float | None, parse_timeout: float | None) -> None:
    """The loaders' limits are read from the environment (so the worker processes see them too)."""
    for value, var, what in (
        (max_file_mb, "NIANBAO_MAX_FILE_MB", "--max-file-mb"),
        (parse_timeout, "NIANBAO_PARSE_TIMEOUT", "--parse-timeout"),
    ):
        if value is None:
            continue
        if not value > 0:
            _fail(f"{what} 必须大于 0（收到 {value:g}）")
        if math.isinf(value):
            _fail(f"{what} 不能是无穷大（收到 {value:g}）")
        os.environ[var] = f"{value:g}"


@app.command()
def template(
    year: Annotated[int, typer.Option("--year", help="报告年度（2019、2020 年为 2019 年格式，此后为 2021 年格式）")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx 或 docx")] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", help="写入文件（默认 年度报告模板_<年度>.<格式>）")] = None,
) -> None:
    """生成空白的法定格式年度报告模板（标签固定，只需填写数字），校验程序可无损读回。"""
    from nianbao.io.atomic import write_bytes
    from nianbao.testing.render import template_bytes

    if fmt not in ("xlsx", "docx"):
        _fail(f"--format 只能是 xlsx 或 docx（收到 {fmt}）")
    if year not in REPORT_YEARS:
        _fail(f"年度不对：{year}（应在 {REPORT_YEARS[0]} 到 {REPORT_YEARS[-1]} 之间，2019 年起才有统一的年度报告格式）")
    target = out if out is not None else Path(f"年度报告模板_{year}.{fmt}")
    need_out_file(target, "模板文件")
    try:
        write_bytes(target, template_bytes(year, fmt))
    except OSError as e:
        write_failed(target, e, "模板文件 ")
    layout = "2021 年格式，国办公开办函〔2021〕30号"
    if year <= 2020:
        layout = "2019 年试行格式，国办公开办函〔2019〕60号"
    out_console.print(f"已生成 {year} 年度报告模板（{layout}）：{target}")


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
    townships: Annotated[int, typer.Option("--townships", help="每个县的乡镇数", min=1)] = 12,
    counties: Annotated[int, typer.Option("--counties", help="县数", min=1)] = 1,
    years: Annotated[str, typer.Option("--years", help="年度，如 2022,2023")] = "2022,2023",
    defect_rate: Annotated[
        float, typer.Option("--defect-rate", help="植入缺陷的报告比例（0 到 1）", min=0.0, max=1.0)
    ] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（结果可重复）")] = 20231231,
    mixed_encodings: Annotated[bool, typer.Option("--mixed-encodings/--utf8", help="混合编码")] = True,
) -> None:
    """生成合成的乡镇报告（可重复）：收件目录 <输出目录>/submissions/，旁边写出应报送机关名单
    registry.csv 和植入缺陷的真值文件 ground_truth.json（不放进收件目录）。"""
    from nianbao.testing.synth import MAX_TOWNSHIPS, SynthConfig, write_county_tree

    try:
        ys = [int(y) for y in years.split(",") if y.strip()]
    except ValueError:
        _fail(f"--years 格式不对：{years}（应为用逗号分隔的年度，如 2022,2023）")
    if not ys:
        _fail(f"--years 没有给出年度（收到 {years}；应为用逗号分隔的年度，如 2022,2023）")
    wrong = [y for y in ys if y not in REPORT_YEARS]
    if wrong:
        _fail(f"--years 中的年度不对：{wrong[0]}（应在 {REPORT_YEARS[0]} 到 {REPORT_YEARS[-1]} 之间）")
    if len(set(ys)) != len(ys):
        _fail(f"--years 中有重复的年度：{years}")
    if townships > MAX_TOWNSHIPS:
        _fail(f"选项 --townships 不能大于 {MAX_TOWNSHIPS}（收到 {townships}；合成的乡镇名称只有这么多）")
    _check_out(out)
    cfg = SynthConfig(
        counties=counties,
        townships=townships,
        years=tuple(ys),
        defect_rate=defect_rate,
        seed=seed,
        mixed_encodings=mixed_encodings,
    )
    inbox = out / "submissions"  # the answer key and the registry go beside it, as in data/
    try:
        n = write_county_tree(inbox, cfg, beside=out)
    except OSError as e:
        _fail(f"合成报告写入 {out} 失败：{os_error_text(e)}")
    out_console.print(f"已生成 {n} 份报告：{inbox}")
    out_console.print(f"应报送机关名单：{out / 'registry.csv'}；植入缺陷的真值：{out / 'ground_truth.json'}")
    out_console.print(f"校验：nianbao run --root {inbox}（名单在收件目录旁边，自动读取）")


@app.command()
def rules(
    out: Annotated[Path | None, typer.Option("--out", help="写入文件（默认打印）")] = None,
) -> None:
    """输出规则说明（由规则目录生成）。"""
    from nianbao.io.atomic import write_text
    from nianbao.report.rulesdoc import rules_markdown

    text = rules_markdown()
    if out is None:
        print(text)
    else:
        need_out_file(out, "规则说明文件")
        try:
            write_text(out, text + "\n")
        except OSError as e:
            write_failed(out, e, "规则说明文件 ")
        out_console.print(f"规则说明已写入：{out}")


# `nianbao run` and `nianbao schedule` (the Prefect flows) live in their own module
from nianbao.cli import run as cli_run  # noqa: E402, F401

# `nianbao serve` and `nianbao user` (the review desk) live in their own package
from nianbao.desk.cli import register as _register_desk  # noqa: E402

_register_desk(app)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    # The command line never generates test data, but pandera imports hypothesis (a test dependency)
    # with its plugins whenever it is installed: about a second of `nianbao validate one.txt`.
    sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]  # None: "not installed"
    app()
