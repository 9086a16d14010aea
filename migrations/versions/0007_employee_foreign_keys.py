"""employee foreign keys on the reply outbox and notifications

The outbox and notification tables came before (and apart from) the people tables, so their
employee_id was a plain integer. Now both exist, the database keeps them honest: a reply or a
message can only name a real employee, and a notification for someone outside the company (an
event speaker) has no employee at all (NULL) instead of a made-up 0.

Revision ID: 0007
Revises: 0003, 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = ("0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("employee_id", existing_type=sa.Integer(), nullable=True)
    op.execute(
        "UPDATE notifications SET employee_id = NULL"
        " WHERE employee_id NOT IN (SELECT id FROM employees)"
    )
    with op.batch_alter_table("notifications") as batch:
        batch.create_foreign_key(
            "fk_notifications_employee_id_employees",
            "employees",
            ["employee_id"],
            ["id"],
        )
    # An outbox row without its author would be a reply nobody wrote: there are none to keep.
    op.execute("DELETE FROM outbox_replies WHERE employee_id NOT IN (SELECT id FROM employees)")
    with op.batch_alter_table("outbox_replies") as batch:
        batch.create_foreign_key(
            "fk_outbox_replies_employee_id_employees",
            "employees",
            ["employee_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_replies") as batch:
        batch.drop_constraint("fk_outbox_replies_employee_id_employees", type_="foreignkey")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("fk_notifications_employee_id_employees", type_="foreignkey")
    op.execute("UPDATE notifications SET employee_id = 0 WHERE employee_id IS NULL")
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("employee_id", existing_type=sa.Integer(), nullable=False)
