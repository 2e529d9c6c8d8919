"""Reading untrusted YAML and JSON within bounds (SPEC section 2).

Anchors and aliases are allowed, but an alias re-uses a node, so a 1 KB
document of nested aliases (a "billion laughs") stands for billions of nodes
once expanded, and anything that walks it (validation, our own line map)
would never finish. :func:`load` counts the expanded size of the document
while it is composed (each node's expanded size is memoised, so an alias
costs one look-up) and stops at the first node past :data:`MAX_NODES`;
it also refuses nesting deeper than :data:`MAX_DEPTH` (Python's recursion
would otherwise end in a traceback) and an alias to a node that contains it.

Every refusal is a :class:`TooLarge` carrying the line where it happened.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent

#: A document whose expansion passes this many nodes is refused.
MAX_NODES = 1_000_000
#: Deeper nesting is refused (an instance is about six levels deep).
MAX_DEPTH = 100
#: A larger file is refused before it is read: composing a million nodes
#: takes seconds, and no instance comes near (baseline.yaml is 64 KB).
MAX_BYTES = 16 * 2**20

_Base = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class TooLarge(yaml.YAMLError):
    """A document refused for its size or shape, with the line where it was found."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class DuplicateKeys(yaml.YAMLError):
    """Keys written twice in one mapping: YAML readers keep the last one
    silently (a `capacity:` pasted twice), so they are refused, all at once.
    Each is (path, first line, repeated line)."""

    def __init__(self, duplicates: list[tuple[tuple, int, int]]):
        super().__init__(f"{len(duplicates)} duplicate key(s)")
        self.duplicates = duplicates


class _Loader(Composer, _Base):
    """A safe loader whose composer counts expanded nodes and nesting depth.

    The events come from libyaml where it is installed (fast); composing is
    PyYAML's own Python composer, so the count can stop it part-way."""

    def __init__(self, stream, budget: int = MAX_NODES, spent: int = 0):
        _Base.__init__(self, stream)
        Composer.__init__(self)
        self.budget = budget
        self.count = spent
        self.depth = 0
        self.sizes: dict[int, int] = {}  # id(node) -> expanded size, once composed
        self.nodes: list = []  # keeps composed nodes alive, so their ids stay theirs

    def _spend(self, nodes: int, mark) -> None:
        self.count += nodes
        if self.count > self.budget:
            raise TooLarge(
                f"the document expands past {self.budget:,} nodes (aliases re-use nodes: "
                "a few lines can stand for billions); refused, not expanded",
                mark.line + 1 if mark is not None else None,
            )

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                size = self.sizes.get(id(node))
                if size is None:
                    raise TooLarge(
                        f"the alias *{event.anchor} refers to a node that contains it "
                        "(a structure without end); refused",
                        event.start_mark.line + 1,
                    )
                self._spend(size, event.start_mark)
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooLarge(f"the document is nested deeper than {MAX_DEPTH} levels; refused", mark.line + 1)
        start = self.count
        self._spend(1, mark)
        node = super().compose_node(parent, index)
        self.depth -= 1
        self.sizes[id(node)] = self.count - start
        self.nodes.append(node)
        return node

    def construct_object(self, node, deep=False):
        # A value Python cannot build (a 5,000-digit integer, 2026-13-45 as a
        # date) is a problem of the input at that node, not a crash.
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value {_preview(node)}: {error}", node.start_mark
            ) from None


def _preview(node) -> str:
    value = node.value if isinstance(node.value, str) else node.tag
    return repr(value[:40] + "..." if len(value) > 40 else value)


def _line_map(loader: _Loader, root) -> dict[tuple, int]:
    """path -> line of every node; a node reached again through an alias is
    not walked again (its path's line is the alias's). Raises
    :class:`DuplicateKeys` where a mapping repeats a key."""
    lines: dict[tuple, int] = {}
    duplicates: list[tuple[tuple, int, int]] = []
    walked: set[int] = set()
    stack = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in walked or not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            continue
        walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # a list or mapping as key: refused when constructed; `<<:` merges
                key = loader.construct_object(key_node)
                try:
                    hash(key)
                except TypeError:
                    continue
                line = key_node.start_mark.line + 1
                if key in seen:
                    duplicates.append((path + (key,), seen[key], line))
                seen.setdefault(key, line)
                lines[path + (key,)] = line
                stack.append((value_node, path + (key,)))
        else:
            for index, item in enumerate(node.value):
                stack.append((item, path + (index,)))
    if duplicates:
        raise DuplicateKeys(sorted(duplicates, key=lambda d: d[2]))
    return lines


def load_yaml(text: str, budget: int = MAX_NODES) -> tuple[Any, dict[tuple, int]]:
    """The document in `text` and the line of each path in it.

    Raises :class:`TooLarge` past the budget or the depth, and
    ``yaml.YAMLError`` for anything else wrong with the YAML."""
    loader = _Loader(text, budget)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines = _line_map(loader, node)
        data = loader.construct_document(node)
    except RecursionError:
        raise TooLarge("the document is nested too deeply; refused") from None
    finally:
        loader.dispose()
    return data, lines


def load_json(text: str, budget: int = MAX_NODES) -> Any:
    """JSON has no aliases, but it may be nested past Python's recursion or
    hold more nodes than a YAML document may: the same bounds apply."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise TooLarge(f"the document is nested deeper than {MAX_DEPTH} levels; refused") from None
    count = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > budget:
            raise TooLarge(f"the document has more than {budget:,} nodes; refused")
        if depth > MAX_DEPTH:
            raise TooLarge(f"the document is nested deeper than {MAX_DEPTH} levels; refused")
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return data


_INT = re.compile(r"[-+]?(0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"[-+]?([0-9]{1,18})?\.[0-9]{0,18}([eE][-+][0-9]{1,3})?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]*")
_YAML_WORDS = {"yes", "no", "true", "false", "on", "off", "null"}


def scalar(text: str, spent: int, budget: int = MAX_NODES) -> tuple[Any, int]:
    """A cell of a CSV table read as YAML (``{2026: 400}``, ``0.5``), counted
    on from `spent` nodes; returns the value and the nodes spent so far."""
    if _INT.fullmatch(text):  # the common cells, as YAML reads them, without a parser
        return int(text), spent + 1
    if _FLOAT.fullmatch(text) and any(c.isdigit() for c in text):
        return float(text), spent + 1
    if _WORD.fullmatch(text) and text.lower() not in _YAML_WORDS and not text.endswith(" "):
        return text, spent + 1
    loader = _Loader(text, budget, spent)
    try:
        node = loader.get_single_node()
        value = None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
    return value, loader.count
