"""Typed stack configuration: EstateConfig, its per-environment defaults, and its loaders."""

from infra.config.errors import ConfigError, ConfigProblem
from infra.config.loader import build_config, load_from_pulumi, load_stack_file, stack_file
from infra.config.model import ENVIRONMENTS, RETENTION_DAYS, EstateConfig
from infra.naming import PROJECT

__all__ = [
    "ENVIRONMENTS",
    "PROJECT",
    "RETENTION_DAYS",
    "ConfigError",
    "ConfigProblem",
    "EstateConfig",
    "build_config",
    "load_from_pulumi",
    "load_stack_file",
    "stack_file",
]
