"""Identities alerts, dashboards and checks share: dashboard refs and the metrics catalog."""
