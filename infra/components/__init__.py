"""Pulumi ComponentResources: thin adapters from specs and renderers to resources."""

TYPE_PREFIX = "blueharvest:observability"
