"""Initial schema: library, stage state, scans, settings, users and tokens, playlists, play queues, search.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 22:06:16.847758

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from soniquebay_core.search import search_index_ddl, search_index_drop
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('artists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('sort_name', sa.Text(), nullable=True),
    sa.Column('mbid', sa.String(length=36), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artists')),
    sa.UniqueConstraint('name_key', name=op.f('uq_artists_name_key'))
    )
    with op.batch_alter_table('artists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artists_mbid'), ['mbid'], unique=False)

    op.create_table('covers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('mime', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_covers')),
    sa.UniqueConstraint('sha256', name=op.f('uq_covers_sha256'))
    )
    op.create_table('genres',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_genres')),
    sa.UniqueConstraint('name_key', name=op.f('uq_genres_name_key'))
    )
    op.create_table('roots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roots')),
    sa.UniqueConstraint('path', name=op.f('uq_roots_path'))
    )
    op.create_table('scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paths', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('skipped_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=False),
    sa.Column('folder', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('is_error', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skipped_files')),
    sa.UniqueConstraint('path', name=op.f('uq_skipped_files_path'))
    )
    with op.batch_alter_table('skipped_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skipped_files_folder'), ['folder'], unique=False)

    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name_key', name=op.f('uq_tags_name_key'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('albums',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('album_key', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_key', sa.Text(), nullable=False),
    sa.Column('albumartist', sa.Text(), nullable=True),
    sa.Column('albumartist_sort', sa.Text(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('date', sa.String(length=32), nullable=True),
    sa.Column('original_date', sa.String(length=32), nullable=True),
    sa.Column('compilation', sa.Boolean(), nullable=False),
    sa.Column('disc_total', sa.Integer(), nullable=True),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('mb_albumid', sa.String(length=36), nullable=True),
    sa.Column('mb_releasegroupid', sa.String(length=36), nullable=True),
    sa.Column('cover_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cover_id'], ['covers.id'], name=op.f('fk_albums_cover_id_covers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_albums')),
    sa.UniqueConstraint('album_key', name=op.f('uq_albums_album_key'))
    )
    with op.batch_alter_table('albums', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_albums_mb_albumid'), ['mb_albumid'], unique=False)
        batch_op.create_index(batch_op.f('ix_albums_title_key'), ['title_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_albums_year'), ['year'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('playlists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_playlists_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlists'))
    )
    with op.batch_alter_table('playlists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playlists_user_id'), ['user_id'], unique=False)

    op.create_table('album_artists',
    sa.Column('album_id', sa.Integer(), nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_album_artists_album_id_albums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], name=op.f('fk_album_artists_artist_id_artists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('album_id', 'artist_id', name=op.f('pk_album_artists'))
    )
    with op.batch_alter_table('album_artists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_album_artists_artist_id'), ['artist_id'], unique=False)

    op.create_table('tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('root_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=False),
    sa.Column('folder', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('missing', sa.Boolean(), nullable=False),
    sa.Column('first_scan_id', sa.Integer(), nullable=True),
    sa.Column('scan_id', sa.Integer(), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('codec', sa.String(length=32), nullable=True),
    sa.Column('bitrate', sa.Integer(), nullable=True),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('channels', sa.Integer(), nullable=True),
    sa.Column('bits_per_sample', sa.Integer(), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_key', sa.Text(), nullable=False),
    sa.Column('artist', sa.Text(), nullable=True),
    sa.Column('artist_key', sa.Text(), nullable=True),
    sa.Column('album_id', sa.Integer(), nullable=True),
    sa.Column('track_number', sa.Integer(), nullable=True),
    sa.Column('track_total', sa.Integer(), nullable=True),
    sa.Column('disc_number', sa.Integer(), nullable=True),
    sa.Column('disc_total', sa.Integer(), nullable=True),
    sa.Column('date', sa.String(length=32), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('isrc', sa.String(length=16), nullable=True),
    sa.Column('mb_trackid', sa.String(length=36), nullable=True),
    sa.Column('mb_releasetrackid', sa.String(length=36), nullable=True),
    sa.Column('replaygain_track_gain', sa.Float(), nullable=True),
    sa.Column('replaygain_track_peak', sa.Float(), nullable=True),
    sa.Column('replaygain_album_gain', sa.Float(), nullable=True),
    sa.Column('replaygain_album_peak', sa.Float(), nullable=True),
    sa.Column('has_embedded_cover', sa.Boolean(), nullable=False),
    sa.Column('bpm', sa.Float(), nullable=True),
    sa.Column('key', sa.String(length=16), nullable=True),
    sa.Column('features', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('search_text', sa.Text(), server_default='', nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['album_id'], ['albums.id'], name=op.f('fk_tracks_album_id_albums'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['root_id'], ['roots.id'], name=op.f('fk_tracks_root_id_roots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracks')),
    sa.UniqueConstraint('path', name=op.f('uq_tracks_path'))
    )
    with op.batch_alter_table('tracks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracks_album_id'), ['album_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracks_folder'), ['folder'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracks_year'), ['year'], unique=False)

    op.create_table('play_queue',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_play_queue_track_id_tracks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_play_queue_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'position', name=op.f('pk_play_queue'))
    )
    with op.batch_alter_table('play_queue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_play_queue_track_id'), ['track_id'], unique=False)

    op.create_table('playlist_tracks',
    sa.Column('playlist_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['playlist_id'], ['playlists.id'], name=op.f('fk_playlist_tracks_playlist_id_playlists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_playlist_tracks_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('playlist_id', 'position', name=op.f('pk_playlist_tracks'))
    )
    with op.batch_alter_table('playlist_tracks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playlist_tracks_track_id'), ['track_id'], unique=False)

    op.create_table('plugin_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('hook', sa.String(length=64), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_plugin_errors_track_id_tracks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_errors'))
    )
    with op.batch_alter_table('plugin_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plugin_errors_plugin'), ['plugin'], unique=False)

    op.create_table('track_artists',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], name=op.f('fk_track_artists_artist_id_artists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_track_artists_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('track_id', 'artist_id', 'role', name=op.f('pk_track_artists'))
    )
    with op.batch_alter_table('track_artists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_track_artists_artist_id'), ['artist_id'], unique=False)

    op.create_table('track_embeddings',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('dims', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_track_embeddings_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('track_id', 'model', name=op.f('pk_track_embeddings'))
    )
    op.create_table('track_genres',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('genre_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['genre_id'], ['genres.id'], name=op.f('fk_track_genres_genre_id_genres'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_track_genres_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('track_id', 'genre_id', 'source', name=op.f('pk_track_genres'))
    )
    with op.batch_alter_table('track_genres', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_track_genres_genre_id'), ['genre_id'], unique=False)

    op.create_table('track_stages',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('plugin_version', sa.String(length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_track_stages_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('track_id', 'plugin', 'stage', name=op.f('pk_track_stages'))
    )
    with op.batch_alter_table('track_stages', schema=None) as batch_op:
        batch_op.create_index('ix_track_stages_plugin_stage_status', ['plugin', 'stage', 'status'], unique=False)

    op.create_table('track_tags',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_track_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_track_tags_track_id_tracks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('track_id', 'tag_id', 'source', name=op.f('pk_track_tags'))
    )
    with op.batch_alter_table('track_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_track_tags_tag_id'), ['tag_id'], unique=False)


    for statement in search_index_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    for statement in search_index_drop(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('track_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_track_tags_tag_id'))

    op.drop_table('track_tags')
    with op.batch_alter_table('track_stages', schema=None) as batch_op:
        batch_op.drop_index('ix_track_stages_plugin_stage_status')

    op.drop_table('track_stages')
    with op.batch_alter_table('track_genres', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_track_genres_genre_id'))

    op.drop_table('track_genres')
    op.drop_table('track_embeddings')
    with op.batch_alter_table('track_artists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_track_artists_artist_id'))

    op.drop_table('track_artists')
    with op.batch_alter_table('plugin_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plugin_errors_plugin'))

    op.drop_table('plugin_errors')
    with op.batch_alter_table('playlist_tracks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playlist_tracks_track_id'))

    op.drop_table('playlist_tracks')
    with op.batch_alter_table('play_queue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_play_queue_track_id'))

    op.drop_table('play_queue')
    with op.batch_alter_table('tracks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracks_year'))
        batch_op.drop_index(batch_op.f('ix_tracks_folder'))
        batch_op.drop_index(batch_op.f('ix_tracks_album_id'))

    op.drop_table('tracks')
    with op.batch_alter_table('album_artists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_album_artists_artist_id'))

    op.drop_table('album_artists')
    with op.batch_alter_table('playlists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playlists_user_id'))

    op.drop_table('playlists')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('albums', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_albums_year'))
        batch_op.drop_index(batch_op.f('ix_albums_title_key'))
        batch_op.drop_index(batch_op.f('ix_albums_mb_albumid'))

    op.drop_table('albums')
    op.drop_table('users')
    op.drop_table('tags')
    with op.batch_alter_table('skipped_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skipped_files_folder'))

    op.drop_table('skipped_files')
    op.drop_table('settings')
    op.drop_table('scans')
    op.drop_table('roots')
    op.drop_table('genres')
    op.drop_table('covers')
    with op.batch_alter_table('artists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artists_mbid'))

    op.drop_table('artists')
