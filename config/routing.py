"""Routing rules in the configuration file: ordered, the first that matches wins, then the default.

Every condition a rule states must hold; a condition left out matches anything. A rule either sends
the mention to a team (with a priority and an SLA: minutes to the first reply) or ignores it (kept
for reports, never assigned).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Priority = Literal["urgent", "high", "normal", "low"]
# Lower rank is served first.
PRIORITY_RANK: dict[str, int] = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleAction(_Strict):
    team: str | None = None
    priority: Priority = "normal"
    sla_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    ignore: bool = False
    # Ask for a candidate who speaks the mention's language / has this skill (a topic name).
    require_language: bool = False
    require_skill: str | None = None

    @model_validator(mode="after")
    def _team_or_ignore(self) -> RuleAction:
        if self.ignore == (self.team is not None):
            raise ValueError("a rule names a team, or sets ignore = true (not both)")
        return self


class RoutingRule(RuleAction):
    name: str = Field(min_length=1)
    network: list[str] = Field(default_factory=list)
    brand: list[str] = Field(default_factory=list)
    competitor: bool | None = None
    complaint: bool | None = None
    sentiment: list[str] = Field(default_factory=list)
    topic: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)
    min_followers: int | None = Field(default=None, ge=0)
    keywords: list[str] = Field(default_factory=list)  # any of them, whole words, any case

    @field_validator("network", "sentiment", "topic", "language", "keywords")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [v.strip().lower() for v in values if v.strip()]


class RoutingConfig(_Strict):
    rules: list[RoutingRule] = Field(default_factory=list)
    default: RuleAction = RuleAction(team="support")
    # A replied conversation with no follow-up for this long is resolved on its own.
    auto_resolve_days: float = Field(default=3.0, gt=0)

    def teams_named(self) -> set[str]:
        actions = [*self.rules, self.default]
        return {a.team for a in actions if a.team is not None}


def check_routing(routing: RoutingConfig, team_names: list[str]) -> None:
    """Rules may only name configured teams (when teams are configured at all)."""
    names = [r.name for r in routing.rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate routing rule name(s): {dupes}")
    if not team_names:
        return
    unknown = sorted(routing.teams_named() - set(team_names))
    if unknown:
        raise ValueError(f"routing names unknown team(s) {unknown}; add them under [[teams]]")
