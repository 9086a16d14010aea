"""Employees, teams and who belongs to which team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from config.people import Shift, parse_shift
from listener.store.db import Base
from listener.store.types import JSONDocument, UTCDateTime, utcnow

team_members = Table(
    "team_members",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("employee_id", ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True),
)


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    handles: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    languages: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    skills: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    role: Mapped[str] = mapped_column(String(20), default="agent")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    working_hours: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    teams: Mapped[list[Team]] = relationship(
        secondary=team_members, back_populates="members", order_by="Team.id"
    )

    @property
    def shifts(self) -> list[Shift]:
        return [parse_shift(h) for h in self.working_hours]


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    picker: Mapped[str] = mapped_column(String(20), default="round_robin")
    # Round robin's place in the line: the member who got the last one.
    last_assigned_id: Mapped[int | None] = mapped_column(Integer)

    members: Mapped[list[Employee]] = relationship(
        secondary=team_members, back_populates="teams", order_by="Employee.id"
    )
    lead: Mapped[Employee | None] = relationship(foreign_keys=[lead_id])
