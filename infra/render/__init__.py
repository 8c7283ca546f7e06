"""Pure renderers: specs and config to plain data (policy JSON, rule files, values). No Pulumi."""
