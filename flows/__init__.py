"""Prefect flows: the nightly county run and ad-hoc reruns (thin wrappers over nianbao.stages).

Importing this package applies nianbao's Prefect settings (offline, quiet) before Prefect loads.
"""

from nianbao import prefect_settings

prefect_settings.apply()
