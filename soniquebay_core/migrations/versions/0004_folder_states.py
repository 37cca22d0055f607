"""Folder states: what the last scan saw in each folder, kept true by triggers (``library/folder_states.py``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from soniquebay_core.library.folder_states import triggers_ddl, triggers_drop

revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

def upgrade() -> None:
    op.create_table('folder_states',
    sa.Column('folder', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('tracks', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('folder')
    )
    for statement in triggers_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in triggers_drop(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('folder_states')
