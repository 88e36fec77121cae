"""CloudWatch composite alarm rules, evaluated locally: verify-alarms proves that the rule of
the system-health composite fires when any single alarm does, and the drill evaluates it on
the states an emulator reports (moto evaluates no composite rule)."""

from __future__ import annotations

import re
from collections.abc import Mapping


class RuleSyntaxError(ValueError):
    pass


_RULE_TOKEN = re.compile(
    r"""\s*(?:
        (?P<state>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"(?P<quoted>[^"]+)"|(?P<bare>[^()\s"]+))\s*\)
      | (?P<word>AND|OR|NOT|TRUE|FALSE)\b
      | (?P<paren>[()])
    )""",
    re.VERBOSE,
)


def _tokens(rule: str) -> list[tuple[str, str]]:
    """(kind, value) pairs; a state function becomes ("ALARM", alarm name)."""
    tokens, position = [], 0
    while position < len(rule.rstrip()):
        match = _RULE_TOKEN.match(rule, position)
        if match is None:
            raise RuleSyntaxError(f"unsupported syntax at {rule[position : position + 30]!r}")
        if match.group("state"):
            target = match.group("quoted") or match.group("bare")
            # A rule may name an alarm by ARN: arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME
            tokens.append((match.group("state"), target.split(":alarm:", 1)[-1]))
        else:
            word = match.group("word") or match.group("paren")
            tokens.append((word, word))
        position = match.end()
    return tokens


def evaluate_rule(rule: str, states: Mapping[str, str]) -> bool:
    """Evaluate a composite alarm rule (state functions, TRUE/FALSE, NOT > AND > OR,
    parentheses) on alarm states; an alarm not in `states` counts as INSUFFICIENT_DATA."""
    tokens = _tokens(rule)
    position = 0

    def peek() -> str | None:
        return tokens[position][0] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise RuleSyntaxError("the rule ends too early")
        position += 1
        return tokens[position - 1]

    def either() -> bool:
        value = both()
        while peek() == "OR":
            take()
            value = both() or value
        return value

    def both() -> bool:
        value = single()
        while peek() == "AND":
            take()
            value = single() and value
        return value

    def single() -> bool:
        kind, value = take()
        if kind == "NOT":
            return not single()
        if kind == "(":
            inner = either()
            if take()[0] != ")":
                raise RuleSyntaxError("unbalanced parentheses")
            return inner
        if kind in ("TRUE", "FALSE"):
            return kind == "TRUE"
        if kind in ("ALARM", "OK", "INSUFFICIENT_DATA"):
            return states.get(value, "INSUFFICIENT_DATA") == kind
        raise RuleSyntaxError(f"unexpected {kind!r}")

    if not tokens:
        raise RuleSyntaxError("the rule is empty")
    result = either()
    if position != len(tokens):
        raise RuleSyntaxError(f"unexpected {tokens[position][0]!r}")
    return result
