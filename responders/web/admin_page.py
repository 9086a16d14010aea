"""What the admin page shows: sources, people, routing rules as loaded, the classifier."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.routing import RoutingRule, RuleAction
from config.settings import AppConfig
from listener.classifying.models import Correction, Verdict
from listener.classifying.service import verdict_stats
from listener.stats import source_status
from listener.store.models import STATUS_ROUTED, Mention
from responders.employees.models import Employee, Team
from responders.routing.models import STATUS_ASSIGNED, MentionRoute
from responders.users.models import User


def _conditions(rule: RoutingRule) -> list[str]:
    """A rule's conditions in words, in the order the file gives them."""
    out = []
    for name in ("network", "brand", "sentiment", "topic", "language", "keywords"):
        values = getattr(rule, name)
        if values:
            out.append(f"{name} in {', '.join(values)}")
    for name in ("competitor", "complaint"):
        value = getattr(rule, name)
        if value is not None:
            out.append(f"{name} = {str(value).lower()}")
    if rule.min_followers is not None:
        out.append(f"followers ≥ {rule.min_followers:,}")
    return out or ["always"]


def _action(action: RuleAction) -> str:
    if action.ignore:
        return "ignore (no queue)"
    parts = [f"team {action.team or '—'}", f"{action.priority}", f"SLA {action.sla_minutes} min"]
    if action.require_language:
        parts.append("same language")
    if action.require_skill:
        parts.append(f"skill {action.require_skill}")
    return ", ".join(parts)


def routing_rules(config: AppConfig | None) -> list[dict[str, Any]]:
    if config is None:
        return []
    rows = [
        {"name": r.name, "when": _conditions(r), "then": _action(r)} for r in config.routing.rules
    ]
    rows.append(
        {"name": "(default)", "when": ["no rule matched"], "then": _action(config.routing.default)}
    )
    return rows


def people(session: Session) -> dict[str, Any]:
    open_counts = _open_counts(session)
    logins = {u.employee_id: u for u in session.scalars(select(User)) if u.employee_id}
    employees = list(session.scalars(select(Employee).order_by(Employee.name)))
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    return {
        "employees": [
            {"employee": e, "open": open_counts.get(e.id, 0), "login": logins.get(e.id)}
            for e in employees
        ],
        "teams": teams,
        "users": list(session.scalars(select(User).order_by(User.email))),
    }


def _open_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(MentionRoute.assignee_id, func.count())
        .join(Mention, Mention.id == MentionRoute.mention_id)
        .where(MentionRoute.assignee_id.is_not(None), Mention.status == STATUS_ASSIGNED)
        .group_by(MentionRoute.assignee_id)
    ).all()
    return dict(rows)


def classifier(session: Session) -> dict[str, Any]:
    # How many of each version's verdicts people corrected: the model's miss rate on this desk's
    # own mentions, and whether a retrained version needs fewer.
    versions = session.execute(
        select(
            Verdict.model_version,
            func.count(),
            func.count(Verdict.corrected_at),
            func.min(Verdict.created_at),
            func.max(Verdict.created_at),
        )
        .group_by(Verdict.model_version)
        .order_by(func.max(Verdict.created_at).desc())
    ).all()
    # Corrections made since the current model began judging are in no model yet (a model
    # trained with them judges after they were made): when they pile up, it is time to retrain.
    since = versions[0][3] if versions else None
    return {
        **verdict_stats(session),
        "versions": [
            {"version": v, "verdicts": n, "corrected": corrected, "first": first, "latest": at}
            for v, n, corrected, first, at in versions
        ],
        "current_version": versions[0][0] if versions else None,
        "current_since": since,
        "corrections": session.scalar(select(func.count()).select_from(Correction)) or 0,
        "corrections_since_current": _corrections_since(session, since),
        "recent_corrections": recent_corrections(session),
    }


def recent_corrections(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The newest corrections, for a person to check the labels training will learn from."""
    rows = session.execute(
        select(Correction, Mention.text)
        .join(Mention, Mention.id == Correction.mention_id)
        .order_by(Correction.id.desc())
        .limit(limit)
    )
    return [
        {
            "mention_id": correction.mention_id,
            "field": correction.field,
            "old": correction.old,
            "new": correction.new,
            "by": correction.corrected_by,
            "at": correction.created_at,
            "text": text,
        }
        for correction, text in rows
    ]


def _corrections_since(session: Session, since: datetime | None) -> int:
    query = select(func.count()).select_from(Correction)
    if since is not None:
        query = query.where(Correction.created_at >= since)
    return session.scalar(query) or 0


def admin_context(session: Session, config: AppConfig | None) -> dict[str, Any]:
    names = [s.name for s in config.sources] if config else []
    enabled = {s.name: s.enabled for s in config.sources} if config else {}
    sources = source_status(session, names)
    for row in sources:
        row["enabled"] = enabled.get(row["source"])
    unassigned = session.scalar(
        select(func.count())
        .select_from(MentionRoute)
        .join(Mention, Mention.id == MentionRoute.mention_id)
        .where(MentionRoute.assignee_id.is_(None), Mention.status == STATUS_ROUTED)
    )
    return {
        "sources": sources,
        "rules": routing_rules(config),
        "has_config": config is not None,
        "classifier": classifier(session),
        "unassigned": unassigned or 0,
        **people(session),
    }
