"""amplification: events, speakers, audience, invitations, credited posts; listener tracked terms

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import listener.store.types

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = listener.store.types.UTCDateTime(timezone=True)


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "tracked_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("term", sa.String(length=300), nullable=False),
        sa.Column("active_from", UTC_DATETIME, nullable=False),
        sa.Column("active_until", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracked_terms")),
        sa.UniqueConstraint("owner", "kind", "term", name=op.f("uq_tracked_terms_owner_kind_term")),
    )
    op.create_index("ix_tracked_terms_active_until", "tracked_terms", ["active_until"])

    op.create_table(
        "amplification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("track_from", UTC_DATETIME, nullable=False),
        sa.Column("track_until", UTC_DATETIME, nullable=False),
        sa.Column("hashtags", _json(), nullable=False),
        sa.Column("links", _json(), nullable=False),
        sa.Column("talking_points", _json(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("scanned_through", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["employees.id"],
            name=op.f("fk_amplification_events_created_by_id_employees"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amplification_events")),
        sa.UniqueConstraint("name", name=op.f("uq_amplification_events_name")),
    )
    op.create_index("ix_amplification_events_track_until", "amplification_events", ["track_until"])

    op.create_table(
        "amplification_speakers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("handles", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["amplification_events.id"],
            name=op.f("fk_amplification_speakers_event_id_amplification_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_amplification_speakers_employee_id_employees"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amplification_speakers")),
    )
    op.create_index("ix_amplification_speakers_event_id", "amplification_speakers", ["event_id"])

    op.create_table(
        "amplification_audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["amplification_events.id"],
            name=op.f("fk_amplification_audience_event_id_amplification_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_amplification_audience_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_amplification_audience_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amplification_audience")),
    )
    op.create_index("ix_amplification_audience_event_id", "amplification_audience", ["event_id"])

    op.create_table(
        "amplification_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("speaker_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("invited_at", UTC_DATETIME, nullable=False),
        sa.Column("reminded_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["amplification_events.id"],
            name=op.f("fk_amplification_invitations_event_id_amplification_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_amplification_invitations_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"],
            ["amplification_speakers.id"],
            name=op.f("fk_amplification_invitations_speaker_id_amplification_speakers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amplification_invitations")),
        sa.UniqueConstraint(
            "event_id",
            "employee_id",
            name=op.f("uq_amplification_invitations_event_id_employee_id"),
        ),
        sa.UniqueConstraint(
            "event_id",
            "speaker_id",
            name=op.f("uq_amplification_invitations_event_id_speaker_id"),
        ),
        sa.UniqueConstraint("token", name=op.f("uq_amplification_invitations_token")),
    )
    op.create_index(
        "ix_amplification_invitations_employee_id", "amplification_invitations", ["employee_id"]
    )

    op.create_table(
        "amplification_posts",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("speaker_id", sa.Integer(), nullable=True),
        sa.Column("network", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("posted_at", UTC_DATETIME, nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("engagement", sa.Integer(), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("similar_point", sa.Integer(), nullable=True),
        sa.Column("similar_mention_id", sa.Integer(), nullable=True),
        sa.Column("scripted", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_amplification_posts_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["amplification_events.id"],
            name=op.f("fk_amplification_posts_event_id_amplification_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_amplification_posts_employee_id_employees"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"],
            ["amplification_speakers.id"],
            name=op.f("fk_amplification_posts_speaker_id_amplification_speakers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["authors.id"],
            name=op.f("fk_amplification_posts_author_id_authors"),
        ),
        sa.PrimaryKeyConstraint("mention_id", name=op.f("pk_amplification_posts")),
    )
    op.create_index(
        "ix_amplification_posts_event_id_posted_at",
        "amplification_posts",
        ["event_id", "posted_at"],
    )


def downgrade() -> None:
    op.drop_table("amplification_posts")
    op.drop_table("amplification_invitations")
    op.drop_table("amplification_audience")
    op.drop_table("amplification_speakers")
    op.drop_table("amplification_events")
    op.drop_table("tracked_terms")
