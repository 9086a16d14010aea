"""Employees and teams: from the configuration file, or added one by one (CLI)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.people import EmployeeConfig, TeamConfig
from config.settings import AppConfig
from responders.employees.models import Employee, Team

log = logging.getLogger(__name__)


class UnknownEmployee(LookupError):
    pass


def get_employee_by_email(session: Session, email: str) -> Employee:
    employee = session.scalar(select(Employee).where(Employee.email == email.strip().lower()))
    if employee is None:
        raise UnknownEmployee(f"no employee with email {email!r}")
    return employee


def list_employees(session: Session) -> list[Employee]:
    return list(session.scalars(select(Employee).order_by(Employee.email)))


def ensure_team(session: Session, *, name: str, picker: str = "round_robin") -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name, picker=picker)
        session.add(team)
        session.flush()
    return team


def upsert_employee(session: Session, *, spec: EmployeeConfig) -> Employee:
    """Create or update one employee from a spec. `away` is only set on creation: afterwards the
    away/back switch belongs to the person (CLI), not to the file."""
    employee = session.scalar(select(Employee).where(Employee.email == spec.email))
    if employee is None:
        employee = Employee(email=spec.email, away=spec.away)
        session.add(employee)
    employee.name = spec.name
    employee.handles = dict(spec.handles)
    employee.languages = list(spec.languages)
    employee.skills = list(spec.skills)
    employee.role = spec.role
    employee.time_zone = spec.time_zone
    employee.working_hours = list(spec.working_hours)
    employee.capacity = spec.capacity
    employee.teams = [ensure_team(session, name=t) for t in spec.teams]
    session.flush()
    return employee


def _apply_team(session: Session, spec: TeamConfig) -> None:
    team = ensure_team(session, name=spec.name, picker=spec.picker)
    team.picker = spec.picker
    team.lead_id = None
    if spec.lead:
        lead = session.scalar(select(Employee).where(Employee.email == spec.lead))
        if lead is None:
            log.warning("team %s: lead %s is not an employee yet", spec.name, spec.lead)
        else:
            team.lead_id = lead.id


def sync_people_from_config(session: Session, config: AppConfig) -> None:
    """Make the database hold the file's teams and employees. People added with the CLI stay."""
    for team in config.teams:
        ensure_team(session, name=team.name, picker=team.picker)
    for spec in config.employees:
        upsert_employee(session, spec=spec)
    for team in config.teams:
        _apply_team(session, team)
    # Teams rules name but the file does not declare still need a queue.
    for name in sorted(config.routing.teams_named()):
        ensure_team(session, name=name)
    session.flush()


def set_away(session: Session, *, email: str, away: bool) -> Employee:
    employee = get_employee_by_email(session, email)
    employee.away = away
    session.flush()
    return employee
