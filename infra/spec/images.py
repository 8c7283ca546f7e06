"""Image pinning: the one rule the config, the policies and the checks share."""

from __future__ import annotations

import re

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def pin_problem(image: str) -> str | None:
    """Why `image` is not pinned to a tag or digest (never `latest`), or None when it is."""
    name, _, digest = image.partition("@")
    if digest:
        if not _DIGEST.fullmatch(digest):
            return f"image {image!r} has a malformed digest; use @sha256:<64 hex>"
        return None
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag; pin a version such as {image}:1.2.3"
    if last.rsplit(":", 1)[1] in ("", "latest"):
        return f"image {image!r} uses the 'latest' tag; pin a version"
    return None
