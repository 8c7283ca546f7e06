"""Configuration errors that name the stack file, the key and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a stack's configuration."""

    key: str
    message: str

    def render(self, source: str) -> str:
        return f"{source}: {self.key}: {self.message}"


class ConfigError(Exception):
    """A stack's configuration was refused. Carries every problem found, never a secret value."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [p.render(self.source) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems in {self.source}:\n" + "\n".join(
            f"  - {line}" for line in lines
        )
