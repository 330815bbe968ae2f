"""The ``nianbao`` command line.  Messages for users are in 简体中文."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="nianbao：政府信息公开工作年度报告数据质量校验。",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
out_console = Console(highlight=False, soft_wrap=True)

PROGRESS_MIN_FILES = 20


def _fail(msg: str) -> None:
    err.print(f"错误：{msg}")
    raise typer.Exit(2)


def _default_out() -> Path:
    return Path("reports") / datetime.now().strftime("validate-%Y%m%d-%H%M%S")


def _check_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".nianbao-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        _fail(f"输出目录 {out} 不可写：{e.strerror or e}")


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="报告文件或文件夹（递归查找）", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", help="输出目录（默认 reports/ 下新建）")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="解析进程数（默认 CPU 核数）")] = None,
) -> None:
    """校验报告文件，写出 submissions.json、findings.json 等结果。"""
    from nianbao.output.summary import summary_lines
    from nianbao.output.writer import write_all
    from nianbao.pipeline import validate_paths

    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        _fail("找不到输入路径：" + "、".join(missing))
    target = out if out is not None else _default_out()
    _check_out(target)

    show = sys.stderr.isatty()
    with Progress(
        TextColumn("解析报告"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not show,
    ) as prog:
        task = prog.add_task("parse", total=None)

        def discovered(n: int) -> None:
            prog.update(task, total=n, visible=n >= PROGRESS_MIN_FILES)

        outcome = validate_paths(
            paths,
            workers=workers,
            progress=lambda k: prog.advance(task, k),
            on_discovered=discovered,
        )
    write_all(outcome, target)
    for line in summary_lines(outcome, target):
        out_console.print(line)
    raise typer.Exit(outcome.exit_code)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
    townships: Annotated[int, typer.Option("--townships", help="每个县的乡镇数")] = 12,
    counties: Annotated[int, typer.Option("--counties", help="县数")] = 1,
    years: Annotated[str, typer.Option("--years", help="年度，如 2022,2023")] = "2022,2023",
    defect_rate: Annotated[float, typer.Option("--defect-rate", help="植入缺陷的报告比例")] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（结果可重复）")] = 20231231,
    mixed_encodings: Annotated[bool, typer.Option("--mixed-encodings/--utf8", help="混合编码")] = True,
) -> None:
    """生成合成的乡镇报告（可重复），并写出植入缺陷的真值文件 ground_truth.json。"""
    from nianbao.synth import SynthConfig, write_county_tree

    try:
        ys = [int(y) for y in years.split(",") if y.strip()]
    except ValueError:
        _fail(f"年度格式不对：{years}（应为 2022,2023）")
    cfg = SynthConfig(
        counties=counties,
        townships=townships,
        years=tuple(ys),
        defect_rate=defect_rate,
        seed=seed,
        mixed_encodings=mixed_encodings,
    )
    n = write_county_tree(out, cfg)
    out_console.print(f"已生成 {n} 份报告：{out}")


@app.command()
def rules(
    out: Annotated[Path | None, typer.Option("--out", help="写入文件（默认打印）")] = None,
) -> None:
    """输出规则说明（由规则目录生成）。"""
    from nianbao.output.atomic import write_text
    from nianbao.output.rulesdoc import rules_markdown

    text = rules_markdown()
    if out is None:
        print(text)
    else:
        write_text(out, text + "\n")
        out_console.print(f"规则说明已写入：{out}")


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    main()
