"""Track revisions: what a recomputed stage (``vectorize``) was computed from (``library/revisions.py``).

Existing stage rows that were fresh by the old rule (written no earlier than the
track's last change) take the track's revision, so an upgrade re-runs nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from soniquebay_core.library.revisions import triggers_ddl, triggers_drop

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('tracks', sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
    op.add_column('track_stages', sa.Column('track_revision', sa.Integer(), nullable=True))
    op.execute("UPDATE track_stages SET track_revision = 0 WHERE stage = 'vectorize' AND updated_at >= "
               "(SELECT tracks.updated_at FROM tracks WHERE tracks.id = track_stages.track_id)")
    for statement in triggers_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in triggers_drop(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_column('track_stages', 'track_revision')
    op.drop_column('tracks', 'revision')
