"""Artist images (a stored cover per artist) and the hash of each embedding's input.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:50:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('artist_images',
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('cover_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cover_id'], ['covers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('artist_id')
    )
    op.create_index(op.f('ix_artist_images_cover_id'), 'artist_images', ['cover_id'], unique=False)
    op.add_column('track_embeddings', sa.Column('input_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('track_embeddings', 'input_hash')
    op.drop_index(op.f('ix_artist_images_cover_id'), table_name='artist_images')
    op.drop_table('artist_images')
