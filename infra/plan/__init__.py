"""Typed, pure descriptions of what each area declares. No Pulumi import here."""
