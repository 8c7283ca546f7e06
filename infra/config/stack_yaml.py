"""Read a stack file's YAML within fixed bounds, refusing what Pulumi never writes.

A stack file is small, flat YAML that `pulumi config set` writes. Before anything is built
from it, one pass over the parser's event stream (which holds no more than one event at a
time and never recurses) refuses, naming the line:

- more than `MAX_BYTES` bytes; bytes that are not UTF-8 (a UTF-16 or UTF-32 file included);
- nesting deeper than `MAX_DEPTH` collections;
- aliases that stand for more than `MAX_ALIAS_NODES` nodes in all (each alias counted as
  the whole node it repeats), so an alias bomb is refused by arithmetic before a single
  alias is expanded; more than `MAX_NODES` nodes in all; an alias to an anchor that is
  still open (a recursive structure);
- complex keys (`? [a, b]`), aliases as keys and merge keys (`<<:`), which make keys that no
  `pulumi config set --path` can address, and keys YAML reads as something other than text
  (`1:`, `~:`, `yes:`: a key is a string);
- explicit tags other than YAML's plain str, int, float, bool, null, map and seq (so no
  `!!binary`, `!!set`, `!!timestamp` or `!!python/...`);
- `.inf`, `.nan` and numbers that overflow to them, integers longer than `MAX_INT_DIGITS`
  digits, and dates that do not exist (`2024-02-30`).

Only then is the document composed and constructed, with duplicate keys refused. Every
refusal is a `StackYamlError` holding where (`line N` or `(file)`) and one line of text.
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: A stack file of this many bytes is far beyond any real one (the largest here is ~4 KiB).
MAX_BYTES = 1024 * 1024
#: Collections inside collections; the deepest real key path is about six.
MAX_DEPTH = 32
#: Nodes the aliases of a document add once expanded; a real stack file has none.
MAX_ALIAS_NODES = 10_000
#: Nodes of the document, aliases expanded; real stack files have a few hundred, the
#: benchmarks' 1,000-service estate about 12,000.
MAX_NODES = 100_000
#: Digits of an integer; beyond this, Python's int parsing itself refuses (or is slow).
MAX_INT_DIGITS = 64

_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
_NONFINITE = re.compile(r"[-+]?\.(?:inf|nan)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class StackYamlError(Exception):
    """The YAML of a stack file was refused; `where` is `line N` or `(file)`."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


def load(data: bytes) -> Any:
    """The document in `data` as plain Python data (dicts, lists, str, int, float, bool,
    None), or StackYamlError."""
    text = decode(data)
    check_events(text)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise _from_yaml_error(exc, text) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # check_events refuses every input known to reach these; this keeps an unknown one
        # a message too.
        raise StackYamlError("(file)", f"not valid YAML: {type(exc).__name__}") from None


def read(path: Path) -> bytes:
    """The file's bytes, reading at most one byte past MAX_BYTES (so `decode` can refuse a
    file that is too large without it ever being held in memory)."""
    with path.open("rb") as handle:
        return handle.read(MAX_BYTES + 1)


def decode(data: bytes) -> str:
    """`data` as text: UTF-8 only (a UTF-8 byte-order mark is dropped)."""
    if len(data) > MAX_BYTES:
        raise StackYamlError("(file)", f"is larger than a stack file may be ({MAX_BYTES} bytes)")
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise StackYamlError(
                "line 1", f"is {name} text (byte-order mark {bom.hex()}); save it as UTF-8"
            )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise StackYamlError(
            f"line {line}",
            f"is not UTF-8: byte 0x{data[exc.start]:02x} at column {column}; save it as UTF-8",
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise StackYamlError(
            f"line {line}", "holds a NUL character (UTF-16 or binary?); save it as UTF-8 text"
        )
    return text.removeprefix("\ufeff")


@dataclass
class _Collection:
    kind: str  # "map" or "seq"
    anchor: str | None
    line: int
    size: int = 1
    at_key: bool = True  # maps only: the next node is a key


def check_events(text: str) -> None:
    """Walk the parser's events and refuse (StackYamlError) what the module docstring lists."""
    stack: list[_Collection] = []
    anchors: dict[str, int] = {}  # anchor -> node count of its node, aliases expanded
    total = 0
    aliased = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if not isinstance(event, yaml.NodeEvent | yaml.CollectionEndEvent):
                continue
            line = event.start_mark.line + 1 if event.start_mark else 0
            where = f"line {line}"
            if isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                if done.anchor is not None:
                    anchors[done.anchor] = done.size
                _completed(stack, done.size)
                continue
            parent = stack[-1] if stack else None
            is_key = parent is not None and parent.kind == "map" and parent.at_key
            if isinstance(event, yaml.AliasEvent):
                size = _alias_size(str(event.anchor), anchors, stack, where)
                aliased += size
                if aliased > MAX_ALIAS_NODES:
                    raise StackYamlError(
                        where,
                        f"aliases here stand for more than {MAX_ALIAS_NODES} nodes; refused"
                        " before expanding them (an alias bomb?)",
                    )
                if is_key:
                    raise StackYamlError(
                        where, f"alias *{event.anchor} used as a key; write it out"
                    )
            elif isinstance(event, yaml.ScalarEvent):
                _check_scalar(event, is_key=is_key, where=where)
                size = 1
                if event.anchor is not None:
                    anchors[event.anchor] = 1
            else:  # a collection starts
                assert isinstance(event, yaml.CollectionStartEvent)
                if is_key:
                    raise StackYamlError(
                        where, "complex key (a list or mapping used as a key); keys are plain text"
                    )
                _check_tag(event.tag, where)
                if len(stack) >= MAX_DEPTH:
                    raise StackYamlError(
                        where, f"nested more than {MAX_DEPTH} levels deep; stack files are flat"
                    )
                total += 1
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append(_Collection(kind, event.anchor, line))
                _check_total(total, where)
                continue
            total += size
            _check_total(total, where)
            _completed(stack, size)
    except yaml.YAMLError as exc:
        raise _from_yaml_error(exc, text) from None


def _completed(stack: list[_Collection], size: int) -> None:
    """A node of `size` nodes finished inside the innermost open collection."""
    if stack:
        parent = stack[-1]
        parent.size += size
        parent.at_key = not parent.at_key


def _alias_size(name: str, anchors: dict[str, int], stack: list[_Collection], where: str) -> int:
    if any(c.anchor == name for c in stack):
        raise StackYamlError(where, f"alias *{name} refers to a node that contains it (recursive)")
    if name not in anchors:
        raise StackYamlError(where, f"alias *{name} has no anchor &{name} before it")
    return anchors[name]


def _check_total(total: int, where: str) -> None:
    if total > MAX_NODES:
        raise StackYamlError(
            where,
            f"the document grows past {MAX_NODES} nodes (aliases counted as what they expand"
            " to); refused before building it",
        )


def _check_tag(tag: str | None, where: str) -> None:
    if tag is None or tag == "!" or tag in _ALLOWED_TAGS:
        return
    raise StackYamlError(
        where, f"YAML tag {tag!r} is not allowed in a stack file; only plain values are"
    )


_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
#: The scalar constructors that can fail on a value the resolver accepted (called directly:
#: `construct_object` would remember every node it has seen).
_CONSTRUCTORS = {
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
    _TAG + "timestamp": _CONSTRUCTOR.construct_yaml_timestamp,
}


#: What YAML makes of a plain key that is not text (`1:`, `~:`, `yes:`, `2024-01-01:`).
_NOT_TEXT = {
    _TAG + "int": "an integer",
    _TAG + "float": "a number",
    _TAG + "bool": "a boolean",
    _TAG + "null": "null",
    _TAG + "timestamp": "a date",
}


def _check_scalar(event: yaml.ScalarEvent, *, is_key: bool, where: str) -> None:
    _check_tag(event.tag, where)
    value = event.value
    plain = event.implicit[0]
    if event.tag is None or event.tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)  # type: ignore[no-untyped-call]
    else:
        tag = event.tag
    if is_key and plain and tag == _TAG + "merge":
        raise StackYamlError(where, "merge keys (<<) are not supported; write the keys out")
    if is_key and tag in _NOT_TEXT:
        shown = value or "(empty)"
        raise StackYamlError(
            where,
            f"key {shown} is read as {_NOT_TEXT[tag]}: a key must be a string"
            f' (quote it: "{value}")',
        )
    if tag == _TAG + "float":
        if _NONFINITE.fullmatch(value.strip()):
            raise StackYamlError(where, f"{value!r} is not a finite number")
        number = _construct(tag, event, where)
        if isinstance(number, float) and not math.isfinite(number):
            raise StackYamlError(where, f"{value!r} is too large: not a finite number")
    elif tag == _TAG + "int":
        digits = sum(c.isdigit() for c in value)
        if digits > MAX_INT_DIGITS:
            raise StackYamlError(where, f"an integer of {digits} digits; at most {MAX_INT_DIGITS}")
        _construct(tag, event, where)
    elif tag == _TAG + "timestamp":
        # Implicit dates (`2024-01-01`) are allowed where the model takes text; one that
        # does not exist (`2024-02-30`) cannot even be read.
        _construct(tag, event, where)


def _construct(tag: str, event: yaml.ScalarEvent, where: str) -> Any:
    node = yaml.ScalarNode(tag, event.value, style=event.style)
    try:
        return _CONSTRUCTORS[tag](node)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        kind = tag.removeprefix(_TAG)
        raise StackYamlError(where, f"{event.value!r} is not a valid {kind}: {exc}") from None


def _from_yaml_error(exc: yaml.YAMLError, text: str) -> StackYamlError:
    """One line naming where PyYAML stopped and why."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return StackYamlError(
            f"line {line}",
            f"not valid YAML: character U+{exc.character:04X} is not allowed in YAML text",
        )
    # The problem mark is where the parser found what is wrong (the line to fix); the context
    # mark, where the construct it was reading starts, follows as a hint.
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    if problem_mark is not None and context_mark is not None and problem_mark.index >= len(text):
        # The file ended before the construct did: where it starts is the line to fix.
        mark = context_mark
    where = f"line {mark.line + 1}" if mark is not None else "(file)"
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if context:
        started = ""
        if context_mark is not None and mark is not None and context_mark.line != mark.line:
            started = f" that starts on line {context_mark.line + 1}"
        problem = f"{problem} ({context.removeprefix('while ')}{started})"
    if "<block end>" in problem or "mapping values are not allowed" in problem:
        problem += "; check this line's indentation against the lines above it"
    return StackYamlError(where, f"not valid YAML: {problem}")


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
