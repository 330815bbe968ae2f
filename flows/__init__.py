"""Prefect flows: the nightly county run and ad-hoc reruns (thin wrappers over nianbao.run.steps).

Importing this package applies nianbao's Prefect settings (offline, quiet) before Prefect loads.
"""

from nianbao.run import prefect_settings

prefect_settings.apply()
