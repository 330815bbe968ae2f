"""Prefect flows: the nightly county run and ad-hoc reruns (thin wrappers over nianbao.pipeline)."""
