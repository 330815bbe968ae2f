"""Reading: lines of cells (what every loader produces) to a parsed report.

The modules here rebuild what the printed page meant before labels are matched: the table grid
from whatever shape an extraction left it in (:mod:`nianbao.read.grid`), the characters to match
on (:mod:`nianbao.read.chars`: traditional to simplified), and the labels, title and period.
"""
