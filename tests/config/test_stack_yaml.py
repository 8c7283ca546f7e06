"""The stack-file YAML reader: bounded before expanding, one line naming file and line.

The text cases live in tests/config/bad/Pulumi.yaml-*.yaml (checked by test_stack_files);
here are the ones a text fixture cannot hold (bytes that are not UTF-8) and the bounds.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from infra.config import ConfigError, load_stack_file, stack_yaml
from tests.conftest import STACKS

HERE = Path(__file__).parent


def _refusal(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path, "local")
    message = caught.value.render()
    assert "\n" not in message, message  # one line
    assert message.startswith(f"{path}: "), message
    return message


def test_a_byte_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.local.yaml"
    text = (STACKS / "Pulumi.local.yaml").read_bytes()
    lines = text.split(b"\n")
    lines[3] = lines[3] + b" \xff"
    path.write_bytes(b"\n".join(lines))
    message = _refusal(path)
    assert ": line 4: is not UTF-8: byte 0xff" in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_utf16_or_utf32_file_is_refused_asking_for_utf8(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "Pulumi.local.yaml"
    path.write_bytes((STACKS / "Pulumi.local.yaml").read_text().encode(encoding))
    message = _refusal(path)
    assert ": line 1: " in message
    assert "save it as UTF-8" in message


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.local.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (STACKS / "Pulumi.local.yaml").read_bytes())
    assert load_stack_file(path, "local").environment == "local"


def test_a_control_character_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.local.yaml"
    path.write_bytes(b"config:\n  blue-harvest:environment: lo\x07cal\n")
    assert ": line 2: not valid YAML: character U+0007" in _refusal(path)


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("1", "an integer"),
        ("~", "null"),
        ("yes", "a boolean"),
        ("1.5", "a number"),
        ("2024-01-01", "a date"),
    ],
)
def test_a_key_that_is_not_a_string_is_named_with_its_line(
    tmp_path: Path, key: str, kind: str
) -> None:
    """Once reported as `blue-harvest:1` or `blue-harvest:None`, a key no one wrote."""
    path = tmp_path / "Pulumi.local.yaml"
    text = (STACKS / "Pulumi.local.yaml").read_text()
    line = text.count("\n") + 1
    path.write_text(f"{text}  {key}: x\n")
    assert _refusal(path) == (
        f"{path}: line {line}: key {key} is read as {kind}: a key must be a string"
        f' (quote it: "{key}")'
    )


def test_a_nested_key_that_is_not_a_string_is_refused_too() -> None:
    with pytest.raises(stack_yaml.StackYamlError) as caught:
        stack_yaml.load(b"config:\n  blue-harvest:services:\n    1: {port: 1}\n")
    assert caught.value.where == "line 3"
    assert caught.value.message.startswith("key 1 is read as an integer")


def test_quoted_keys_are_strings() -> None:
    assert stack_yaml.load(b"'1': a\n\"~\": b\n!!str yes: c\n") == {"1": "a", "~": "b", "yes": "c"}


def test_the_alias_bomb_is_refused_before_it_grows(tmp_path: Path) -> None:
    """The 483-byte bomb expands to 9**9 (387 million) strings; it is refused by counting,
    quickly and without the memory that expanding it would take."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    message = _refusal(HERE / "bad" / "Pulumi.yaml-alias-bomb.yaml")
    assert time.perf_counter() - start < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
    assert f"stand for more than {stack_yaml.MAX_ALIAS_NODES} nodes" in message


def test_a_document_over_the_node_bound_is_refused_without_aliases() -> None:
    text = "a: [" + ",".join(["1"] * stack_yaml.MAX_NODES) + "]\n"
    with pytest.raises(stack_yaml.StackYamlError, match=f"grows past {stack_yaml.MAX_NODES}"):
        stack_yaml.load(text.encode())


def test_the_benchmarks_thousand_service_estate_is_within_the_bounds(tmp_path: Path) -> None:
    from benchmarks.estates import write_generated_stack

    stack = write_generated_stack(tmp_path, 1000)
    config = load_stack_file(tmp_path / f"Pulumi.{stack}.yaml", stack)
    assert len(config.services) == 1000


def test_aliases_within_the_bound_are_read_as_their_values(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.local.yaml"
    path.write_text(
        "config:\n"
        "  blue-harvest:environment: local\n"
        "  blue-harvest:services:\n"
        '    backend: {image: &image "ghcr.io/blue-harvest/backend:1.42.0", port: 4000}\n'
        "    frontend: {image: *image, port: 3000}\n"
    )
    config = load_stack_file(path, "local")
    assert config.services["frontend"].image == "ghcr.io/blue-harvest/backend:1.42.0"


def test_nesting_at_the_bound_is_read_and_one_deeper_is_refused() -> None:
    depth = stack_yaml.MAX_DEPTH
    assert stack_yaml.load(("[" * depth + "]" * depth).encode()) is not None
    with pytest.raises(stack_yaml.StackYamlError, match="nested more than"):
        stack_yaml.load(("[" * (depth + 1) + "]" * (depth + 1)).encode())


def test_a_file_over_the_size_bound_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.local.yaml"
    path.write_bytes(b"# " + b"x" * stack_yaml.MAX_BYTES + b"\nconfig: {}\n")
    assert ": (file): is larger than a stack file may be" in _refusal(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: .inf\n", "not a finite number"),
        ("a: -.Inf\n", "not a finite number"),
        ("a: [1, .NAN]\n", "not a finite number"),
        ("a: !!float .nan\n", "not a finite number"),
        ("a: 2.5e+400\n", "too large"),
        ("? {x: 1}\n: 2\n", "complex key"),
        ("a: {&k x: 1, *k : 2}\n", "used as a key"),
        ("<<: {a: 1}\n", "merge keys"),
        ("a: !!set {x, y}\n", "YAML tag"),
        ("a: !!binary aGk=\n", "YAML tag"),
        ("a: !custom x\n", "YAML tag"),
        ("a: *nowhere\n", "has no anchor"),
        ("a: 2024-13-01\n", "not a valid timestamp"),
    ],
)
def test_each_refused_construct_names_its_line(text: str, expected: str) -> None:
    with pytest.raises(stack_yaml.StackYamlError) as caught:
        stack_yaml.load(("# first line\n" + text).encode())
    assert caught.value.where == "line 2"
    assert expected in caught.value.message


def test_plain_values_still_load() -> None:
    doc = stack_yaml.load(b"a: 1\nb: 1.5\nc: true\nd: null\ne: [x, 'y']\nf: {g: h}\nk: '<<'\n")
    assert doc == {
        "a": 1,
        "b": 1.5,
        "c": True,
        "d": None,
        "e": ["x", "y"],
        "f": {"g": "h"},
        "k": "<<",
    }
