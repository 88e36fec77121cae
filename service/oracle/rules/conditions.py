"""Which events a job can run for, from its `if:` condition.

GitHub evaluates `jobs.<id>.if` before the job starts. The oracle does not evaluate expressions
in general, but comparisons of `github.event_name` with a literal (`==`, `!=`, `startsWith`) are
decidable from the trigger alone. Everything else is *unknown*, and the condition is evaluated
in three-valued logic: a job is excluded for an event only when its condition is certainly
false for that event. A condition the parser does not understand never excludes anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: Three-valued truth: True, False, or None (unknown).
Truth = bool | None

_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|<=|>=|[!<>(),\[\]])"
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<word>[A-Za-z_][\w.\-*]*(?:\[[^\]]*\][\w.\-*]*)*)"
    r"|(?P<number>-?\d+(?:\.\d+)?))"
)
_EVENT_NAME = "github.event_name"


class _Unparsable(Exception):
    pass


def runs_for(condition: Any, events: Iterable[str]) -> set[str]:
    """The events among `events` for which a job with this `if:` may run."""
    listed = set(events)
    if condition is None or condition is True:
        return listed
    if condition is False:
        return set()
    text = str(condition).strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    if match:
        text = match.group(1)
    elif "${{" in text:
        return listed  # text around an expression: GitHub's string coercion, not modelled
    try:
        tokens = _tokens(text)
    except _Unparsable:
        return listed
    return {event for event in listed if _evaluate(tokens, event) is not False}


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _Unparsable(text[position:])
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


def _evaluate(tokens: list[str], event: str) -> Truth:
    parser = _Parser(tokens, event)
    try:
        value = parser.expression()
        if parser.position != len(tokens):
            return None
    except _Unparsable:
        return None
    return _truth(value)


class _Parser:
    """Recursive descent over GitHub's expression grammar (||, &&, !, comparisons, calls).
    Values are Python literals, `_UNKNOWN`, or the event name."""

    def __init__(self, tokens: list[str], event: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.event = event

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise _Unparsable(expected or "end")
        self.position += 1
        return token

    def expression(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = _or(_truth(left), _truth(right))
        return left

    def _and(self) -> Any:
        left = self._not()
        while self._peek() == "&&":
            self._take()
            right = self._not()
            left = _and(_truth(left), _truth(right))
        return left

    def _not(self) -> Any:
        if self._peek() == "!":
            self._take()
            value = _truth(self._not())
            return None if value is None else not value
        return self._comparison()

    def _comparison(self) -> Any:
        left = self._primary()
        operator = self._peek()
        if operator in ("==", "!=", "<", ">", "<=", ">="):
            self._take()
            right = self._primary()
            if operator in ("==", "!=") and _known(left) and _known(right):
                equal = str(left).lower() == str(right).lower()
                return equal if operator == "==" else not equal
            return _UNKNOWN
        return left

    def _primary(self) -> Any:
        word = self._take()
        if word == "(":
            value = self.expression()
            self._take(")")
            return value
        if word.startswith("'"):
            return _Literal(word[1:-1].replace("''", "'"))
        if self._peek() == "(":
            return self._call(word)
        return _CONSTANTS.get(word, _Literal(self.event) if word == _EVENT_NAME else _UNKNOWN)

    def _call(self, name: str) -> Any:
        self._take("(")
        arguments: list[Any] = []
        while self._peek() != ")":
            arguments.append(self.expression())
            if self._peek() == ",":
                self._take()
        self._take(")")
        if name.lower() == "startswith" and len(arguments) == 2 and all(map(_known, arguments)):
            return str(arguments[0]).lower().startswith(str(arguments[1]).lower())
        return _UNKNOWN


class _Literal(str):
    """A string whose value is known (a literal or the event name)."""


_UNKNOWN = object()
_CONSTANTS: dict[str, Any] = {"true": True, "false": False}


def _known(value: Any) -> bool:
    return isinstance(value, _Literal)


def _truth(value: Any) -> Truth:
    if value is _UNKNOWN:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, _Literal):
        return value != ""
    return None


def _and(left: Truth, right: Truth) -> Truth:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: Truth, right: Truth) -> Truth:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False
