"""Safe YAML with line numbers.

`yaml.compose` builds the node graph (safe: no object construction at all), and this module turns
it into plain dicts, lists and strings that remember where they came from: `YMap.key_lines`,
`YSeq.item_lines` and `YStr.line`. Mapping keys keep their source text, so GitHub's `on:` stays
the string "on" instead of YAML 1.1's boolean True. Scalars with non-string tags go through
PyYAML's SafeConstructor; an unknown tag (e.g. `!!python/object`) is a parse error, never code.
Aliases are converted once and shared, so an alias bomb costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


class YStr(str):
    """A string scalar and its 1-based first and last source lines."""

    line: int
    end_line: int
    style: str | None

    def __new__(cls, value: str, line: int, end_line: int, style: str | None) -> YStr:
        self = super().__new__(cls, value)
        self.line, self.end_line, self.style = line, end_line, style
        return self


class YMap(dict[str, Any]):
    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YSeq(list[Any]):
    line: int
    item_lines: list[int]


@dataclass(frozen=True)
class YamlError:
    line: int
    message: str


def parse(text: str) -> Any | YamlError:
    """The document's value (YMap, YSeq, YStr, or a plain scalar), or where and why it is invalid."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        return YamlError(line, _describe(error))
    except yaml.YAMLError as error:
        return YamlError(1, str(error).splitlines()[0] if str(error) else "invalid YAML")
    if node is None:
        return None
    try:
        return _Converter().convert(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return YamlError(mark.line + 1 if mark is not None else 1, _describe(error))
    except RecursionError:
        return YamlError(node.start_mark.line + 1, "YAML nesting is too deep")


def _describe(error: yaml.MarkedYAMLError) -> str:
    parts = [part for part in (error.context, error.problem) if part]
    return " ".join(parts) if parts else "invalid YAML"


class _Converter:
    def __init__(self) -> None:
        self._memo: dict[int, Any] = {}
        self._scalars = yaml.SafeLoader("")

    def convert(self, node: yaml.Node) -> Any:
        known = self._memo.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.CollectionNode) and node.tag not in (_SEQ_TAG, _MAP_TAG):
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported YAML tag {node.tag!r}", node.start_mark
            )
        if isinstance(node, yaml.SequenceNode):
            seq = YSeq()
            seq.line = node.start_mark.line + 1
            seq.item_lines = []
            self._memo[id(node)] = seq
            for item in node.value:
                seq.append(self.convert(item))
                seq.item_lines.append(item.start_mark.line + 1)
            return seq
        if isinstance(node, yaml.MappingNode):
            mapping = YMap()
            mapping.line = node.start_mark.line + 1
            mapping.key_lines = {}
            self._memo[id(node)] = mapping
            merged: list[YMap] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    merged.extend(self._merge_sources(value_node))
                    continue
                key = _key_text(key_node)
                mapping[key] = self.convert(value_node)
                mapping.key_lines[key] = key_node.start_mark.line + 1
            for source in merged:
                for key, value in source.items():
                    if key not in mapping:
                        mapping[key] = value
                        mapping.key_lines[key] = source.line_of(key)
            return mapping
        raise yaml.constructor.ConstructorError(
            None, None, f"unsupported YAML node {type(node).__name__}", node.start_mark
        )

    def _merge_sources(self, node: yaml.Node) -> list[YMap]:
        value = self.convert(node)
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(source, YMap) for source in sources):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a merge key '<<' needs a mapping or a list of mappings",
                node.start_mark,
            )
        return sources

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _STR_TAG:
            return YStr(node.value, node.start_mark.line + 1, node.end_mark.line + 1, node.style)
        # Booleans, numbers, nulls, timestamps: SafeConstructor only, so unknown tags fail.
        return self._scalars.construct_object(node, deep=True)


def _key_text(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    raise yaml.constructor.ConstructorError(
        None, None, "mapping keys must be plain scalars", node.start_mark
    )


def line_of(value: Any, default: int) -> int:
    """The source line of a parsed value, when it knows one."""
    line = getattr(value, "line", None)
    return line if isinstance(line, int) else default
