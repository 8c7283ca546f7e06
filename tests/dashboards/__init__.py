"""Tests of the dashboards and their checks.

`dashboards` is imported first so that grafana-foundation-sdk's import-time deprecation
warnings (about its v2 schema) are silenced once, as the package does, before a test module
imports an SDK builder directly.
"""

import dashboards  # noqa: F401
