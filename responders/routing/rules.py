"""Rule matching: the first rule whose every stated condition holds; else the default action."""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.routing import PRIORITY_RANK, RoutingConfig, RoutingRule, RuleAction
from responders.routing.facts import MentionFacts

DEFAULT_RULE = "default"


@dataclass(frozen=True)
class Decision:
    rule: str
    team: str | None
    priority: str
    priority_rank: int
    sla_minutes: int
    ignore: bool
    require_language: bool
    require_skill: str | None


def _has_keyword(text: str, keywords: list[str]) -> bool:
    lowered = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", lowered) for k in keywords)


def _in(value: str | None, allowed: list[str]) -> bool:
    return value is not None and value.lower() in allowed


def rule_matches(rule: RoutingRule, facts: MentionFacts) -> bool:
    checks = (
        not rule.network or _in(facts.network, rule.network),
        not rule.brand or facts.brand in rule.brand,
        rule.competitor is None or facts.is_competitor == rule.competitor,
        rule.complaint is None or facts.complaint == rule.complaint,
        not rule.sentiment or _in(facts.sentiment, rule.sentiment),
        not rule.topic or _in(facts.topic, rule.topic),
        not rule.language or _in(facts.language, rule.language),
        rule.min_followers is None or (facts.author_followers or 0) >= rule.min_followers,
        not rule.keywords or _has_keyword(facts.text, rule.keywords),
    )
    return all(checks)


def _decision(name: str, action: RuleAction) -> Decision:
    return Decision(
        rule=name,
        team=action.team,
        priority=action.priority,
        priority_rank=PRIORITY_RANK[action.priority],
        sla_minutes=action.sla_minutes,
        ignore=action.ignore,
        require_language=action.require_language,
        require_skill=action.require_skill,
    )


def decide(routing: RoutingConfig, facts: MentionFacts) -> Decision:
    for rule in routing.rules:
        if rule_matches(rule, facts):
            return _decision(rule.name, rule)
    return _decision(DEFAULT_RULE, routing.default)
