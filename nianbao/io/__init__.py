"""Bytes → lines of cells: every reader turns a submitted file into lines of cells
(:class:`nianbao.io.lines.Line`), which the one parser reads (:mod:`nianbao.read.load` is the entry
from bytes or a file to a parsed report).

- :mod:`~nianbao.io.sniff` detects the type from the content, not only from the extension;
  :mod:`~nianbao.io.readers` dispatches to the text, CSV, HTML, Word, Excel and PDF readers
  (:mod:`~nianbao.io.text`, :mod:`~nianbao.io.csvfile`, :mod:`~nianbao.io.html`,
  :mod:`~nianbao.io.docx`, :mod:`~nianbao.io.xlsx`, :mod:`~nianbao.io.pdf`; decoding in
  :mod:`~nianbao.io.textio`);
- :mod:`~nianbao.io.limits` (size, structure and time limits, :class:`~nianbao.io.limits.Unreadable`),
  :mod:`~nianbao.io.deadline`, :mod:`~nianbao.io.files` (a file's bytes within the size limit) and
  :mod:`~nianbao.io.guard` (heavy formats in a guarded worker process) keep a hostile or broken file
  from exhausting the machine;
- :mod:`~nianbao.io.unreadable`: every failure is an ``unreadable`` report whose reason is a U-rule
  of the catalogue (code and Chinese message naming what went wrong and what to send instead);
- :mod:`~nianbao.io.atomic`: atomic writes of the run's files.
"""
