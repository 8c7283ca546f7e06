"""Placeholders that must not reach `pulumi up` (`estate check --deployable STACK`).

The committed stacks carry example values so that they synthesize and can be reviewed: AWS's
documentation account ids and `EXAMPLE` ARNs, hosts under the reserved `.example` domains
(RFC 2606) and `secure:` values that are not ciphertext. `estate synth` accepts them; a stack
that is about to be deployed must carry none. Each finding names the key, never a secret.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

#: Account ids of one repeated digit (111111111111) and AWS's documentation id.
_EXAMPLE_ACCOUNT = re.compile(r"(?<![0-9])(?:([0-9])\1{11}|123456789012)(?![0-9])")
#: The domains RFC 2606 reserves for examples and tests.
_EXAMPLE_DOMAINS = ("example", "example.com", "example.net", "example.org", "invalid", "test")
_HOSTNAME = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
#: AWS's documentation marks its example ARNs and keys with EXAMPLE.
_EXAMPLE_MARK = re.compile(r"EXAMPLE")


def placeholder_problems(doc: Any) -> list[tuple[str, str]]:
    """(key, what is a placeholder) for every placeholder in a stack file's `config:`
    mapping, read raw (a `secure:` value is still `{"secure": "v1:..."}`)."""
    return list(_walk(doc, ""))


def _walk(value: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            if not _ciphertext(value["secure"]):
                yield (
                    key,
                    (
                        "is a placeholder secret (not Pulumi ciphertext): set the real value with"
                        " `pulumi config set --path --secret`"
                    ),
                )
            return
        for name, item in value.items():
            yield from _walk(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{key}[{index}]")
    elif isinstance(value, str | int) and not isinstance(value, bool):
        yield from _text_problems(str(value), key)


def _text_problems(text: str, key: str) -> Iterator[tuple[str, str]]:
    if _EXAMPLE_ACCOUNT.search(text):
        yield key, "holds an example AWS account id: use the account this stack deploys into"
    elif _EXAMPLE_MARK.search(text):
        yield key, "holds an example value (marked EXAMPLE): use the real one"
    elif any(_reserved(host) for host in _hosts(text)):
        yield key, "names a host under a reserved example domain: use the real host"


def _hosts(text: str) -> list[str]:
    """The host a URL, an e-mail address or a host:port names (none for other text)."""
    if "://" in text:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return []
        return [host] if host else []
    candidate = text.rpartition("@")[2].partition(":")[0].strip()
    return [candidate] if _HOSTNAME.fullmatch(candidate) else []


def _reserved(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith(f".{d}") for d in _EXAMPLE_DOMAINS)


#: What `pulumi config set --secret` writes: with a passphrase or cloud KMS secrets provider,
#: `v1:<12-byte nonce>:<ciphertext>` in base64; with Pulumi Cloud's, base64 of the service's
#: envelope, which starts with the bytes 00 00 01 00 (`AAABA...`).
_SYMMETRIC = re.compile(r"v1:(?P<nonce>[A-Za-z0-9+/]{16}):(?P<box>[A-Za-z0-9+/]{22,}={0,2})")
_SERVICE_HEADER = b"\x00\x00\x01\x00"


def _ciphertext(text: object) -> bool:
    """Whether a `secure:` value has the shape of Pulumi ciphertext (a placeholder written by
    hand, like the committed `v1:<base64 of words>`, has not)."""
    if not isinstance(text, str):
        return False
    symmetric = _SYMMETRIC.fullmatch(text)
    try:
        if symmetric is not None:
            base64.b64decode(symmetric["box"], validate=True)
            return len(base64.b64decode(symmetric["nonce"], validate=True)) == 12
        envelope = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return envelope.startswith(_SERVICE_HEADER) and len(envelope) > 20
