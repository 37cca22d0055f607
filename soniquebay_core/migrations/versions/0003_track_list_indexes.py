"""Indexes for the track list's sorts and filters at 100,000 tracks.

Every track list keeps ``missing = false`` rows, so each index leads with ``missing``:
a sort by title/artist/BPM walks one index in order, and a count by format, key,
BPM or year range reads one index range without visiting the (wide) track rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:55:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INDEXES = ("title_key", "artist_key", "year", "bpm", "key", "format")


def upgrade() -> None:
    for column in INDEXES:
        op.create_index(f'ix_tracks_missing_{column}', 'tracks', ['missing', column], unique=False)


def downgrade() -> None:
    for column in reversed(INDEXES):
        op.drop_index(f'ix_tracks_missing_{column}', table_name='tracks')
