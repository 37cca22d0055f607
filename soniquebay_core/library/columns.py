"""The track list's filter and sort columns held in memory, per database generation.

A page of tracks with a filter or two (genre, year or BPM range, key, format) and a sort cost SQLite ~15 ms
at 100,000 tracks: counting the matches, then reading them in order. Held as arrays, the same page is a few
vectorised comparisons and one pass over the sort's order (well under a millisecond). The arrays answer only
the terms they hold (``ANSWERED``); anything else (words, artists, features, …) is asked of SQL as before.

The answers are SQL's, on both backends, by construction:

- each sort's order is read from the database (the page statement without filters: ``ORDER BY sort, id``),
  so collation and where NULLs go are the backend's; a filtered page is that order kept to the matches;
- the genres a ``genre`` term names are chosen by the database, with the condition the SQL filter uses;
- numbers compare as doubles (NULL is NaN, inside no bound); key and format compare exactly.

They also hold each of those tracks as the JSON the API sends (``tracks_by_id``'s dict, serialized), read
last: a page's 50 tracks then cost no statement at all (~5 ms of SQL and Python at 100,000 tracks, against
microseconds). Each is held packed with a dictionary learnt from the library's own JSON (``_Packer``): ~0.7 KB a
track becomes ~0.14 KB (100,000 tracks: 69 -> ~15 MB, one buffer per thousand, not an object per track), for
~1.5 µs a track to unpack.

``KeptColumns`` keeps them under the generation they were read at (``api/answers.py``) and never uses them
under another. They are read in the background once a generation has lasted ``SETTLE_S`` (at once when the
server starts): a library being scanned changes with every batch, and would otherwise be read again and
again for nothing.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import zstandard
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import Genre, Track, TrackGenre
from .query import SORTS, Query, genre_matches, matching, number_bounds, order_by
from .query import tracks as described_tracks

log = logging.getLogger(__name__)

ANSWERED = frozenset(("genre", "year", "bpm", "key", "format"))
SETTLE_S = 1.0  # a generation lasts this long before its columns are read
READ_SLICE = 5000  # rows read at a time
DOCUMENTS_SLICE = 1000  # tracks described at a time
WARM_SORTS = ("title", "artist", "album", "duration")  # orders read from the start (numbers' are sorted here)


def _ids(values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _numbers(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


class _Codes:
    """Each text's number in a vocabulary of the distinct texts seen (NULL: -1)."""

    def __init__(self):
        self.vocabulary: dict[str, int] = {}

    def __call__(self, values) -> np.ndarray:
        vocabulary = self.vocabulary
        return np.fromiter((-1 if v is None else vocabulary.setdefault(v, len(vocabulary)) for v in values),
                           dtype=np.int32, count=len(values))


async def _columns(conn: AsyncConnection, statement, *arrays) -> list[np.ndarray]:
    """Each column as an array (``arrays``: one maker per column), read a slice of rows at a time: requests are
    served between slices, and only one slice's rows are held as Python objects (100,000 rows at once held the
    event loop for ~0.3 s, and ~40 MB)."""
    parts: list[list[np.ndarray]] = [[] for _ in arrays]
    async for slice_ in (await conn.stream(statement)).partitions(READ_SLICE):
        for part, array, values in zip(parts, arrays, zip(*slice_)):
            part.append(array(values))
    return [np.concatenate(part) if part else array(()) for part, array in zip(parts, arrays)]


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Where each of ``wanted`` is in the ascending ``ids`` (-1: not there)."""
    if not len(ids):
        return np.full(len(wanted), -1, dtype=np.int32)
    positions = np.searchsorted(ids, wanted).clip(max=len(ids) - 1).astype(np.int32)  # half the bytes of int64
    return np.where(ids[positions] == wanted, positions, np.int32(-1))


def _first_matches(order: np.ndarray, mask: np.ndarray, wanted: int, total: int) -> np.ndarray:
    """The first ``wanted`` positions of ``order`` that ``mask`` keeps (``total`` of them in all), reading
    only as much of the order as they are likely spread over, doubled until enough are found: a page of 50
    of 2,500 matches reads ~4,000 positions, not 100,000 (0.3 -> 0.1 ms a page)."""
    wanted = min(wanted, total)
    found: list[np.ndarray] = []
    count = start = 0
    step = max(1024, 2 * wanted * len(order) // max(total, 1))
    while count < wanted:
        part = order[start:start + step]
        kept = part[mask[part]]
        found.append(kept)
        count += len(kept)
        start += step
        step *= 2
    return np.concatenate(found)[:wanted] if found else order[:0]


class _Packer:
    """Packs and unpacks small JSON documents with a zstd dictionary learnt from documents like them: alone,
    each is too short to compress; with the dictionary, its field names and common values are references
    (~0.7 KB -> ~0.14 KB a track; ~4 µs to pack, ~1.5 µs to unpack; deflate with a preset dictionary packed
    ~25% larger and unpacked half as fast)."""

    DICTIONARY_BYTES = 16384

    def __init__(self, samples: list[bytes]):
        try:
            dictionary = zstandard.train_dictionary(self.DICTIONARY_BYTES, samples)
        except zstandard.ZstdError:  # too few samples to learn from (a small library): their bytes as they are
            dictionary = zstandard.ZstdCompressionDict(b"".join(samples)[-self.DICTIONARY_BYTES:],
                                                       dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        self._compressor = zstandard.ZstdCompressor(level=3, dict_data=dictionary, write_checksum=False,
                                                    write_dict_id=False)
        self._decompressor = zstandard.ZstdDecompressor(dict_data=dictionary)
        self.pack = self._compressor.compress
        self.unpack = self._decompressor.decompress

    def chunk(self, documents: list[bytes], first: int, starts: np.ndarray, ends: np.ndarray) -> bytes:
        """``documents`` (positions ``first``…) packed into one buffer; where each is in it, into ``starts`` and
        ``ends``."""
        packed = [self.pack(document) for document in documents]
        sizes = np.fromiter(map(len, packed), dtype=np.int32, count=len(packed))
        ends[first:first + len(packed)] = np.cumsum(sizes, dtype=np.int32)
        starts[first:first + len(packed)] = ends[first:first + len(packed)] - sizes
        return b"".join(packed)


class TrackColumns:
    """The tracks that are not missing, by position (ids ascending): year, BPM, key, format, genres."""

    def __init__(self, ids: np.ndarray, year: np.ndarray, bpm: np.ndarray, keys: tuple[np.ndarray, dict],
                 formats: tuple[np.ndarray, dict], genres: dict[int, np.ndarray], nulls_smallest: bool):
        self.ids = ids
        self._nulls_smallest = nulls_smallest  # SQLite's ORDER BY: NULL first ascending; PostgreSQL's: last
        self._numbers = {"year": year, "bpm": bpm}
        self._exact = {"key": keys, "format": formats}
        self._genres = genres  # genre id -> positions of its tracks
        self._orders: dict[str, np.ndarray] = {}  # sort -> positions in that order
        self._named: dict[str, list[int]] = {}  # genre term value -> the genre ids it names
        self._documents: list[bytes] | None = None  # every track's JSON, packed, by position, in chunks
        self._packer: _Packer | None = None
        self._starts = self._ends = np.empty(0, dtype=np.int32)  # where each position's JSON is in its chunk

    @classmethod
    async def read(cls, conn: AsyncConnection) -> TrackColumns:
        keys, formats = _Codes(), _Codes()
        ids, years, bpms, key_codes, format_codes = await _columns(conn, matching(
            Query(), "added", Track.id, Track.year, Track.bpm, Track.key, Track.format).order_by(Track.id),
            _ids, _numbers, _numbers, keys, formats)
        tracks, genre_ids = await _columns(conn, select(TrackGenre.track_id, TrackGenre.genre_id), _ids, _ids)
        positions = _positions(ids, tracks)
        listed = positions >= 0  # links of missing tracks are not
        positions, genre_ids = positions[listed], genre_ids[listed]
        by_genre = np.argsort(genre_ids, kind="stable")
        named, starts = np.unique(genre_ids[by_genre], return_index=True)
        genres = dict(zip(named.tolist(), np.split(positions[by_genre], starts[1:])))
        return cls(ids, years, bpms, (key_codes, keys.vocabulary), (format_codes, formats.vocabulary), genres,
                   conn.dialect.name == "sqlite")

    @staticmethod
    def filters(terms: list[tuple[str, str]]) -> bool:
        """Whether columns can tell which tracks match these terms."""
        return all(name in ANSWERED for name, _ in terms)

    @classmethod
    def answers(cls, query: Query, sort: str) -> bool:
        """Whether columns can answer this query and sort (once they hold the sort's order)."""
        return not query.words and sort.lstrip("-") in SORTS and cls.filters(query.terms)

    def ordered_by(self, sort: str) -> bool:
        """Whether the sort's order is held; the order of a number held here (and of ``added``, the ids') is
        sorted here at once, as the database would: NULLs where it puts them, ties by id."""
        name = sort.lstrip("-")
        if sort not in self._orders and (name == "added" or name in self._numbers):
            descending = sort.startswith("-")
            if name == "added":
                order = np.arange(len(self.ids), dtype=np.int32)
                self._orders[sort] = order[::-1].copy() if descending else order
            else:
                values = self._numbers[name]
                known = ~np.isnan(values)
                nulls_first = self._nulls_smallest != descending
                self._orders[sort] = np.lexsort((self.ids, np.where(known, -values if descending else values, 0),
                                                 known if nulls_first else ~known)).astype(np.int32)
        return sort in self._orders

    async def page(self, connect, query: Query, sort: str, limit: int, offset: int) -> tuple[list[int], int]:
        """The page's track ids and how many tracks match in all (``answers`` and ``ordered_by`` hold).
        ``connect``: an async context manager giving a connection, opened only to name a genre the first time."""
        mask = await self._mask(connect, query.terms)
        order = self._orders[sort]
        if mask is None:
            return self.ids[order[offset:offset + limit]].tolist(), len(order)
        total = int(np.count_nonzero(mask))
        return self.ids[_first_matches(order, mask, offset + limit, total)[offset:]].tolist(), total

    async def among(self, connect, terms: list[tuple[str, str]], ids: list[int]) -> list[int]:
        """Those of ``ids`` that are held here and match every term (``filters`` holds), in their order."""
        wanted = np.array(ids, dtype=np.int64)
        positions = _positions(self.ids, wanted)
        kept = positions >= 0
        mask = await self._mask(connect, terms)
        if mask is not None:
            kept &= mask[positions]  # a -1 reads the last track's, dropped by ``kept`` already
        return wanted[kept].tolist()

    async def _mask(self, connect, terms: list[tuple[str, str]]) -> np.ndarray | None:
        """Which positions match every term; None without terms."""
        mask = None
        for name, value in terms:
            matched = await self._matching(connect, name, value)
            mask = matched if mask is None else mask & matched
        return mask

    async def _matching(self, connect, name: str, value: str) -> np.ndarray:
        if name in self._numbers:
            low, high = number_bounds(value)
            column = self._numbers[name]
            matched = ~np.isnan(column)
            if low is not None:
                matched &= column >= low
            if high is not None:
                matched &= column <= high
            return matched
        if name in self._exact:
            codes, vocabulary = self._exact[name]
            code = vocabulary.get(value.lower() if name == "format" else value)
            return codes == code if code is not None else np.zeros(len(self.ids), dtype=bool)
        named = self._named.get(value)
        if named is None:
            async with connect() as conn:
                named = list((await conn.execute(select(Genre.id).where(genre_matches(value)))).scalars())
            self._named[value] = named
        matched = np.zeros(len(self.ids), dtype=bool)
        for genre_id in named:
            if genre_id in self._genres:
                matched[self._genres[genre_id]] = True
        return matched

    @property
    def described(self) -> bool:
        return self._documents is not None

    def documents(self, ids: list[int]) -> list[bytes] | None:
        """The JSON of these tracks (``tracks_by_id``'s), in their order; None unless every one is held."""
        if self._documents is None:
            return None
        positions = _positions(self.ids, np.array(ids, dtype=np.int64))
        if (positions < 0).any():
            return None
        if not len(positions):
            return []  # an empty library has no packer
        chunks, unpack = self._documents, self._packer.unpack
        return [unpack(chunks[position // DOCUMENTS_SLICE][start:end]) for position, start, end in
                zip(positions.tolist(), self._starts[positions].tolist(), self._ends[positions].tolist())]

    async def read_documents(self, conn: AsyncConnection, serialize: Callable[[dict], bytes],
                             wanted: Callable[[], bool] = lambda: True) -> bool:
        """Read every track's JSON (``serialize``: what the API sends a dict as), packed ``DOCUMENTS_SLICE``
        tracks to a chunk against a dictionary learnt from the first chunk's; False if the database no longer
        holds the tracks these columns were read from, or once ``wanted()`` says they are not wanted."""
        chunks: list[bytes] = []
        starts = np.empty(len(self.ids), dtype=np.int32)  # where in its chunk each position's JSON starts
        ends = np.empty(len(self.ids), dtype=np.int32)
        read: list[bytes] = []  # not packed yet
        packer = None
        ids = self.ids.tolist()
        position = 0
        async for track in described_tracks(conn, Query(), page=DOCUMENTS_SLICE):
            if position == len(ids) or track["id"] != ids[position]:
                return False
            read.append(serialize(track))
            position += 1
            if len(read) == DOCUMENTS_SLICE:
                packer = packer or _Packer(read)
                chunks.append(packer.chunk(read, position - len(read), starts, ends))
                read = []
                if not wanted():
                    return False
        if position != len(ids):
            return False
        if read:
            packer = packer or _Packer(read)
            chunks.append(packer.chunk(read, position - len(read), starts, ends))
        self._documents, self._packer, self._starts, self._ends = chunks, packer, starts, ends
        return True

    async def read_order(self, conn: AsyncConnection, sort: str) -> bool:
        """Read the sort's order; False if the database no longer holds the tracks these columns were read from."""
        ordered, = await _columns(conn, matching(Query(), sort, Track.id).order_by(order_by(sort, SORTS), Track.id),
                                  _ids)
        positions = _positions(self.ids, ordered)
        if len(ordered) != len(self.ids) or (positions < 0).any():
            return False
        self._orders[sort] = positions
        return True


class KeptColumns:
    """The ``TrackColumns`` of the current generation, read in the background: the columns once the generation
    has lasted ``SETTLE_S``, then each sort's order once asked for, then the tracks' JSON. Until then, SQL
    answers."""

    def __init__(self, connect, serialize: Callable[[dict], bytes]):
        self._connect = connect  # an async context manager giving a connection (``Answers.connect``)
        self._serialize = serialize
        self._generation: Any = None
        self._previous: Any = None
        self._since = 0.0
        self._columns: TrackColumns | None = None
        self._wanted: set[str] = set()  # sorts asked for whose order is not read yet
        self._reading: asyncio.Task | None = None

    def start(self, generation: Any) -> None:
        """Read the columns of ``generation`` now (the server starting: no scan is changing the library), with
        the orders of ``WARM_SORTS`` and the tracks' JSON."""
        if generation is None:
            return
        self._follow(generation, WARM_SORTS)
        self._reading = asyncio.create_task(self._read(generation))

    def _follow(self, generation: Any, sorts=()) -> None:
        """A new generation: nothing read for it yet, ``sorts`` wanted; its clock starts now."""
        self._previous, self._generation = self._generation, generation
        self._since, self._columns, self._wanted = time.monotonic(), None, set(sorts)

    @property
    def ready(self) -> bool:
        """Whether everything is read: columns, the orders asked for and the tracks' JSON (an order being read
        is no longer among those wanted: nothing is ready while a read goes on)."""
        return (self._reading is None and self._columns is not None and self._columns.described
                and not self._wanted)

    def current(self, generation: Any) -> TrackColumns | None:
        """The columns, when read under ``generation`` (whatever sort orders they hold)."""
        return self._columns if generation is not None and generation == self._generation else None

    def get(self, generation: Any, sort: str) -> TrackColumns | None:
        """The columns read under ``generation``, when they hold ``sort``'s order; the first ask of a new
        generation starts its clock."""
        if generation is None or generation == self._previous:  # read before the last change, answered late
            return None
        if generation != self._generation:
            self._follow(generation)
        if self._columns is not None and self._columns.ordered_by(sort):
            return self._columns
        self._wanted.add(sort)
        if self._reading is None and time.monotonic() - self._since >= SETTLE_S:
            self._reading = asyncio.create_task(self._read(generation))
        return None

    async def _read(self, generation: Any) -> None:
        try:
            async with self._connect() as conn:
                columns = self._columns or await TrackColumns.read(conn)
                if generation == self._generation:
                    self._columns = columns  # answering the sorts whose order it holds

                def wanted() -> bool:
                    return generation == self._generation

                while wanted() and (self._wanted or not columns.described):
                    if self._wanted:
                        sort = self._wanted.pop()
                        if columns.ordered_by(sort):  # sorted in memory, or asked again while it was being read
                            continue
                        read = await columns.read_order(conn, sort)
                    else:
                        read = await columns.read_documents(conn, self._serialize, wanted)
                    if not read and wanted():
                        self._since = time.monotonic()  # the tracks changed since: a new generation is coming
                        return
        except Exception:  # the database is busy or gone: SQL answers meanwhile, tried again later
            log.warning("could not read the track columns", exc_info=True)
            self._since = time.monotonic()
        finally:
            self._reading = None

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)
