"""Views of a :class:`~nianbao.outcome.RunOutcome`: JSON, CLI summary, HTML, Excel."""
