"""``complaintflow export`` / ``import`` of a whole store: JSON lines of processes and events, any SQL store to any.

An export is one line per value, canonical JSON (engine/canonical.py): a header, each process text, each
event row in store order (position, fields, the payload text exactly as stored, since the hash covers that
text, its hash rule, its kept personal values and whether the outbox still holds it), the upgrade records,
and an end line with the counts and a SHA-256 over every byte before it, so a cut or edited file is refused
naming the line. Case rows are not in it: an import folds each history into its row with the engine's own
``fold`` (revision: the case's last seq, never below a revision a client saw, so a stale If-Match cannot
pass), writes processes, events and rows into an empty store inside one transaction and verifies every
history there (audit/verify.py) before it commits, so a refused import leaves the target as it was. Every
bad-input check of the file itself runs in ``check_export`` before the target is opened. After the upgrade
records come the service directory's rows (users, credential digests, idempotent replies, assignments and
their log, deliveries: store/transfer_directory.py), read in the same snapshot and loaded in the same
transaction; a store that never held the service's tables has none. Version 1 files (before the directory)
are still read. Reads and writes go through ``MovableStore`` (store/base.py); no database library here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast, get_args

from .. import canonical
from ..audit.verify import verify_store
from ..errors import BadArgumentError, UnusableInputError
from ..runtime.engine import Engine
from ..runtime.errors import RefusedError
from ..runtime.events import GENESIS, event_hash
from ..runtime.fold import fold
from ..tenants import DEFAULT_TENANT, check_tenant
from .base import (
    CaseQuery,
    CaseRecord,
    DirectoryTables,
    EventKind,
    EventRecord,
    MovableStore,
    PlacedEvent,
    Store,
    StoredProcess,
    Upgrade,
)
from .rows import payload_from_text
from .transfer_directory import KINDS as DIRECTORY_KINDS
from .transfer_directory import TABLES as DIRECTORY_TABLES
from .transfer_directory import DirectoryLines, DirectoryRow, directory_lines, refuse_unless_ready
from .transfer_directory import load as load_directory

FORMAT = "complaintflow-export"
VERSION = 2  # of this file format (2: the service directory after the upgrades); a newer one is refused
STORE_FORMAT = 6  # the store format whose rows the lines hold (store/sqlite.py FORMAT_VERSION)
# Formats whose exports are read: format 5's had no tenants, so each process line is the default tenant's.
READS_STORE_FORMATS = (5, 6)
PAGE = 1000  # event rows read or written per call
PROGRESS_EVERY = 10_000  # events between progress reports
_KINDS = frozenset(get_args(EventKind))


class ExportFileError(UnusableInputError):
    """A file that is not a whole, unedited export this complaintflow reads; nothing was imported."""


class NotEmptyError(UnusableInputError):
    """An import into a store that already holds processes, cases or events."""


@dataclass(frozen=True, slots=True)
class Counts:
    processes: int
    cases: int
    events: int
    upgrades: int
    directory: dict[str, int] = field(
        default_factory=dict
    )  # rows of each directory table (store/transfer_directory.py)

    def describe(self) -> str:
        """The engine's counts, then each kind of directory row the export holds."""
        held = [(self.directory.get(table.count, 0), *table.words) for table in DIRECTORY_TABLES]
        return ", ".join(
            f"{n:,} {one if n == 1 else many}"
            for n, one, many in (
                (self.processes, "process", "processes"),
                (self.cases, "case", "cases"),
                (self.events, "event", "events"),
                *(h for h in held if h[0]),
            )
        )

    def directory_rows(self) -> int:
        return sum(self.directory.values())


@dataclass(frozen=True, slots=True)
class _Header:
    counts: Counts
    rule2_from_pos: int


@dataclass(frozen=True, slots=True)
class _Deployed:
    """A process line: the text, kept once, and every tenant that deployed it."""

    process: StoredProcess
    tenants: tuple[str, ...]


Progress = Callable[[int, int], None]  # (events so far, events in all)
_Item = _Header | _Deployed | PlacedEvent | Upgrade | DirectoryRow


def movable(store: Store) -> MovableStore:
    """The store, if a whole store can move in or out of it (the SQL stores, at the current format)."""
    if not callable(getattr(store, "placed_events", None)):
        raise UnusableInputError("only an SQLite or PostgreSQL store can be exported or imported")
    version = getattr(store, "format_version", STORE_FORMAT)
    if version != STORE_FORMAT:
        raise UnusableInputError(
            f"the store has format {version}; run 'complaintflow upgrade' first (an export holds format {STORE_FORMAT})"
        )
    return cast(MovableStore, store)


# -- export ------------------------------------------------------------------------------------


def export_store(
    store: Store,
    write: Callable[[bytes], object],
    at: int,
    progress: Progress | None = None,
    directory_file: DirectoryTables | None = None,
    tenant: str | None = None,
) -> Counts:
    """Write the whole store as export lines through ``write``, from one consistent view of it; the directory
    from ``directory_file`` instead of beside the store when given (the deprecated separate file, read as it is).
    ``tenant``: only that tenant's processes, cases and directory rows (a tenant moving to a store of its own)."""
    source = movable(store)
    digest = hashlib.sha256()

    def line(value: dict[str, Any]) -> None:
        data = (canonical.dumps(value) + "\n").encode()
        digest.update(data)
        write(data)

    with source.snapshot():
        tenants: dict[str, list[str]] = {}
        for deployed in source.processes(tenant):
            tenants.setdefault(deployed.content_hash, []).append(deployed.tenant)
        processes = [_Deployed(source.process(h), tuple(sorted(t))) for h, t in tenants.items()]  # refuses edits
        part = None if tenant is None else _TenantPart.of(source, tenant)
        cases, events = source.totals() if part is None else (len(part.cases), part.events)
        # An upgrade record covers the cases of its day, which were all the default tenant's (tenants came
        # with the last format an upgrade reaches); another tenant's part has none of them.
        upgrades = source.upgrades() if tenant in (None, DEFAULT_TENANT) else []
        directory = list(directory_lines(source if directory_file is None else directory_file, at, tenant))
        held = {table.count: 0 for table in DIRECTORY_TABLES}
        for table, _ in directory:
            held[table.count] += 1
        counts = Counts(len(processes), cases, events, len(upgrades), held)
        if part is not None and not (processes or cases or directory):
            raise BadArgumentError(
                f"tenant {tenant!r} has no processes, cases or users in this store; nothing was exported"
            )
        header = {
            "format": FORMAT,
            "version": VERSION,
            "store_format": STORE_FORMAT,
            "exported_at": at,
            "rule2_from_pos": source.rule2_from_pos,
            "counts": asdict(counts),
        }
        line(header if tenant is None else {**header, "tenant": tenant})
        for process in processes:
            line(_process_line(process))
        after, done, heads = 0, 0, {}
        while page := source.placed_events(after, PAGE):
            for placed in page:
                if part is not None and not part.holds(placed, tenants):
                    continue
                line(_event_line(placed))
                heads[placed.event.case_id] = (placed.event.seq, placed.event.hash)
                done += 1
                if progress is not None and done % PROGRESS_EVERY == 0:
                    progress(done, events)
            after = page[-1].pos
        rows = _row_heads(source) if part is None else part.rows
        _refuse_unless_heads_match(rows, heads)  # before the end line: a refused export is no export
        for upgrade in upgrades:
            line({"type": "upgrade", **asdict(upgrade)})
        for table, value in directory:
            line({"type": table.kind, **value})
    written = Counts(len(processes), len(heads), done, len(upgrades), held)
    end = {"end": True, "counts": asdict(written), "digest": "sha256:" + digest.hexdigest()}
    write((canonical.dumps(end) + "\n").encode())
    return written


@dataclass(frozen=True, slots=True)
class _TenantPart:
    """What of a store one tenant's export holds: its cases, and so their events."""

    tenant: str
    rows: dict[str, tuple[int, str]]  # each of its cases' last event, as its row names it

    @classmethod
    def of(cls, store: MovableStore, tenant: str) -> _TenantPart:
        return cls(tenant, _row_heads(store, tenant))

    @property
    def cases(self) -> Collection[str]:
        return self.rows.keys()

    @property
    def events(self) -> int:
        # a case's events are seq 1 to its last (the heads check refuses a store where they are not)
        return sum(seq for seq, _ in self.rows.values())

    def holds(self, placed: PlacedEvent, deployed: Mapping[str, object]) -> bool:
        """Whether the event is one of the tenant's; refused if it runs the case on a process version the
        tenant has not deployed (the import would file that version under the tenant)."""
        event = placed.event
        if event.case_id not in self.cases:
            return False
        if event.kind not in ("started", "migrated"):
            return True
        runs_on = event.payload.get("process_hash" if event.kind == "started" else "to_hash", "")
        if runs_on not in deployed:
            raise RefusedError(
                f"case {event.case_id} of tenant {self.tenant} runs on process version {str(runs_on)[:12]}, which "
                "the tenant has not deployed: export the whole store instead; nothing was exported"
            )
        return True


def _row_heads(store: MovableStore, tenant: str | None = None) -> dict[str, tuple[int, str]]:
    """(seq, hash) of the last event each case row (of ``tenant``, or every one) names."""
    return {case.id: (case.last_seq, case.last_hash) for case in store.cases(CaseQuery(tenant=tenant, limit=2**62))}


def _refuse_unless_heads_match(rows: dict[str, tuple[int, str]], heads: dict[str, tuple[int, str]]) -> None:
    """Every case row names the last event the export holds for it, and every event has its case row. An
    import rebuilds rows from the events alone, so without this a store whose latest events were deleted, or
    whose case row was, or that holds rows added behind the engine's back, would verify clean once moved."""
    for case_id in sorted(rows.keys() | heads.keys()):
        row, head = rows.get(case_id), heads.get(case_id)
        if row != head:
            found = f"its case row names event {row[0]}" if row else "it has no case row"
            last = f"its last event row is event {head[0]}" if head else "it has no event rows"
            raise RefusedError(
                f"case {case_id}: {found} but {last}, or their hashes differ: the store was changed outside "
                "complaintflow (run complaintflow verify); nothing was exported"
            )


def _process_line(deployed: _Deployed) -> dict[str, Any]:
    process = deployed.process
    line: dict[str, Any] = {"type": "process", "hash": process.content_hash, "id": process.process_id}
    line["version"] = process.version
    line["tenants"] = list(deployed.tenants)
    try:
        line["source"] = process.source.decode()
    except UnicodeDecodeError:
        line["source_base64"] = base64.b64encode(process.source).decode()
    return line


def _event_line(placed: PlacedEvent) -> dict[str, Any]:
    e = placed.event
    return {
        "type": "event",
        "pos": placed.pos,
        "case_id": e.case_id,
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "role": e.role,
        "kind": e.kind,
        "payload": e.payload_json,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "hash_rule": e.hash_rule,
        "personal": e.personal,
        "pending": placed.pending,
    }


# -- import ------------------------------------------------------------------------------------


def import_export(engine: Engine, path: Path, progress: Progress | None = None, *, checked: bool = False) -> Counts:
    """Load the export at ``path`` into the engine's empty store in one transaction, committed only once every
    history verifies there; refused (``ExportFileError``, ``NotEmptyError``), the store is left as it was.
    ``checked``: ``check_export`` passed the file already (the CLI runs it before it opens the store)."""
    target = movable(engine.store)
    if not checked:
        check_export(path)
    name = getattr(target, "path", None) or getattr(target, "shown", "the store")
    if target.holds_anything():
        raise NotEmptyError(
            f"{name} already holds processes or cases; import into a new, empty store (nothing was imported)"
        )
    rule_before = target.rule2_from_pos
    header: _Header | None = None
    rows: dict[str, CaseRecord] = {}
    last_pos: dict[str, int] = {}
    upgrades: list[Upgrade] = []
    directory: list[DirectoryRow] = []
    batch: list[PlacedEvent] = []
    done = 0
    try:
        with target.writing():
            # check_export recomputed every hash already, and the verify below does again inside the transaction
            for number, item in read_export(path, rehash=False):
                if isinstance(item, _Header):
                    header = item
                    if header.counts.directory_rows():  # before anything is written
                        refuse_unless_ready(target, str(name))
                elif isinstance(item, DirectoryRow):
                    directory.append(item)
                elif isinstance(item, _Deployed):
                    for tenant in item.tenants:
                        target.save_process(replace(item.process, tenant=tenant))
                elif isinstance(item, Upgrade):
                    upgrades.append(item)
                else:
                    case_id = item.event.case_id
                    rows[case_id] = _folded(rows.get(case_id), item.event, f"{path}: line {number}")
                    last_pos[case_id] = item.pos
                    batch.append(item)
                    if len(batch) == PAGE:
                        target.load_events(batch)
                        done, batch = done + len(batch), []
                        if progress is not None and done % PROGRESS_EVERY == 0 and header is not None:
                            progress(done, header.counts.events)
            if batch:
                target.load_events(batch)
            assert header is not None  # read_export yields it first or raises
            target.load_cases(list(rows.values()), last_pos)
            target.load_history(upgrades, header.rule2_from_pos)
            load_directory(target, directory)
            _refuse_unless_verified(engine, path)
    except BaseException:
        target.rule2_from_pos = rule_before  # the transaction rolled back: the store's own rule stands
        raise
    return header.counts


def _folded(row: CaseRecord | None, event: EventRecord, where: str) -> CaseRecord:
    """The case row after ``event``, by the engine's ``fold``; revision: the event's seq (see the docstring)."""
    try:
        return fold(row, [event], revision=event.seq)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ExportFileError(
            f"{where}: case {event.case_id} event {event.seq} ({event.kind}) cannot be replayed "
            f"({type(exc).__name__}: {exc}); nothing was imported"
        ) from None


def _refuse_unless_verified(engine: Engine, path: Path) -> None:
    """Every history of the loaded store verified as ``complaintflow verify`` does, else refused."""
    problems = [str(p) for p in verify_store(engine)]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ExportFileError(f"{path}: the imported store would not verify: {problems[0]}{more}; nothing was imported")


# -- reading an export -----------------------------------------------------------------------------


def check_export(path: Path) -> Counts:
    """What the export at ``path`` holds, once every line of it passed every check; it writes nothing."""
    header: _Header | None = None
    for _, item in read_export(path):
        if isinstance(item, _Header):
            header = item
    assert header is not None  # read_export yields it first or raises
    return header.counts


def read_export(path: Path, *, rehash: bool = True) -> Iterator[tuple[int, _Item]]:
    """Each line of an export as the value it holds, with its number, checked as it is read: the header
    first, then processes, events (each case's chain, every event's process known, positions rising; each
    hash recomputed unless ``rehash`` is False) and upgrades; the end line's counts and digest last. Raises
    ``ExportFileError`` naming the line."""
    reader = _Reader(path, rehash)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            item = reader.line(number, raw)
            if item is not None:
                yield number, item
    reader.finish()


@dataclass(slots=True)
class _Head:
    seq: int
    hash: str
    pos: int


class _Reader:
    """The checks of one pass over an export's lines (its state: what came before the current line)."""

    def __init__(self, path: Path, rehash: bool) -> None:
        self.name = str(path)
        self.rehash = rehash
        self.digest = hashlib.sha256()
        self.header: _Header | None = None
        self.ended = 0  # the end line's number, once read
        self.number = 0
        self.processes: set[str] = set()
        self.heads: dict[str, _Head] = {}
        self.tenants: dict[str, str] = {}  # each case's, from its started event
        self.events = 0
        self.upgrades = 0
        self.last_pos = 0
        self.stage = 0  # 0 processes, 1 events, 2 upgrades, then each directory table's: the order lines come in
        self.store_format: object = STORE_FORMAT
        self.version = VERSION
        self.directory = DirectoryLines(self.fail)

    def fail(self, message: str) -> ExportFileError:
        return ExportFileError(f"{self.name}: line {self.number}: {message}; nothing was imported")

    def line(self, number: int, raw: bytes) -> _Item | None:
        self.number = number
        if self.ended:
            raise self.fail(f"text after the end line (line {self.ended})")
        try:
            value = canonical.loads(raw)
        except canonical.NotJSONError:
            value = None
        if number == 1 and not (isinstance(value, dict) and value.get("format") == FORMAT):
            self._header(value)  # refuses it
        if not raw.endswith(b"\n"):
            raise self.fail("the line is cut short: the export is truncated (export it again)")
        if number == 1:
            self.digest.update(raw)
            return self._header(value)
        if not isinstance(value, dict):
            raise self.fail("not a JSON object: the file was damaged or edited")
        if value.get("end") is True:
            self._end(value)
            return None
        self.digest.update(raw)
        kind = value.get("type")
        if kind == "process":
            return self._process(value)
        if kind == "event":
            return self._event(value)
        if kind == "upgrade":
            return self._upgrade(value)
        if isinstance(kind, str) and kind in DIRECTORY_KINDS and self.version >= 2:
            table = DIRECTORY_KINDS[kind]
            self._stage(3 + DIRECTORY_TABLES.index(table), f"a {kind.replace('_', ' ')} line")
            return self.directory.line(table, value, self.tenants)
        raise self.fail(f"unknown line type {kind!r}")

    def finish(self) -> None:
        if self.number == 0:
            self._header(None)  # an empty file is no export
        if not self.ended:
            raise ExportFileError(
                f"{self.name} ends after line {self.number} without its end line: the export is truncated "
                "(export it again); nothing was imported"
            )

    # -- each kind of line ---------------------------------------------------------------------
    def _header(self, value: Any) -> _Header:
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            raise ExportFileError(f"{self.name} is not a complaintflow export (line 1 is not its header)")
        version = value.get("version")
        if type(version) is not int or version < 1:
            raise self.fail(f"export version {version!r} is not one complaintflow writes")
        if version > VERSION:
            raise self.fail(
                f"export version {version}, newer than this complaintflow reads ({VERSION}); upgrade complaintflow"
            )
        self.version = version
        self.store_format = value.get("store_format")
        if self.store_format not in READS_STORE_FORMATS:
            raise self.fail(f"rows of store format {self.store_format}, not {STORE_FORMAT}")
        self.header = _Header(self._counts(value), _number(self, value, "rule2_from_pos"))
        return self.header

    def _counts(self, value: dict[str, Any]) -> Counts:
        counts = value.get("counts")
        if not isinstance(counts, dict):
            raise self.fail("no counts")
        processes, cases, events, upgrades = (
            _number(self, counts, key) for key in ("processes", "cases", "events", "upgrades")
        )
        if self.version < 2:
            return Counts(processes, cases, events, upgrades)
        directory = counts.get("directory")
        if not isinstance(directory, dict):
            raise self.fail("no counts of the directory's rows")
        held = {table.count: _number(self, directory, table.count) for table in DIRECTORY_TABLES}
        return Counts(processes, cases, events, upgrades, held)

    def _process(self, value: dict[str, Any]) -> _Deployed:
        self._stage(0, "a process")
        content_hash, process_id = _text(self, value, "hash"), _text(self, value, "id")
        version = _number(self, value, "version")
        if "source_base64" in value:
            try:
                source = base64.b64decode(_text(self, value, "source_base64"), validate=True)
            except binascii.Error:
                raise self.fail("source_base64 is not base64") from None
        else:
            source = _text(self, value, "source").encode()
        if hashlib.sha256(source).hexdigest() != content_hash:
            raise self.fail(f"process {process_id} version {version}: its text does not match its hash (edited?)")
        if content_hash in self.processes:
            raise self.fail(f"process {process_id} version {version} a second time")
        self.processes.add(content_hash)
        return _Deployed(StoredProcess(content_hash, process_id, version, source), self._tenants(value))

    def _tenants(self, value: dict[str, Any]) -> tuple[str, ...]:
        if self.store_format == 5:  # before tenants: every process the default tenant's
            return (DEFAULT_TENANT,)
        tenants = value.get("tenants")
        if not isinstance(tenants, list) or not tenants or len(set(map(str, tenants))) != len(tenants):
            raise self.fail("the process line has no list of the tenants that deployed it")
        for tenant in tenants:
            try:
                check_tenant(tenant)
            except BadArgumentError:
                raise self.fail(f"{tenant!r} is not a tenant name") from None
        return tuple(tenants)

    def _event(self, value: dict[str, Any]) -> PlacedEvent:
        self._stage(1, "an event")
        pos = _number(self, value, "pos")
        if pos <= self.last_pos:
            raise self.fail(f"position {pos} after position {self.last_pos}: events out of store order")
        case_id, seq, at = _text(self, value, "case_id"), _number(self, value, "seq"), _number(self, value, "at")
        kind, text = _text(self, value, "kind"), _text(self, value, "payload")
        if kind not in _KINDS:
            raise self.fail(f"case {case_id} event {seq}: unknown kind {kind!r}")
        personal = value.get("personal")
        if personal is not None and not isinstance(personal, dict):
            raise self.fail(f"case {case_id} event {seq}: personal is not an object")
        assert self.header is not None
        rule = 2 if pos >= self.header.rule2_from_pos else 1
        if value.get("hash_rule") != rule:
            raise self.fail(f"case {case_id} event {seq}: hash rule {value.get('hash_rule')!r} at position {pos}")
        event = EventRecord(
            case_id,
            seq,
            at,
            _text(self, value, "actor"),
            _text(self, value, "role"),
            cast(EventKind, kind),
            payload_from_text(text),
            _text(self, value, "prev_hash"),
            _text(self, value, "hash"),
            text,
            rule,
            personal,
        )
        head = self._follows(event)
        self.heads[case_id], self.last_pos, self.events = _Head(seq, event.hash, pos), pos, self.events + 1
        return PlacedEvent(pos, head.pos if head else None, event, value.get("pending") is True)

    def _follows(self, event: EventRecord) -> _Head | None:
        """The case's event before, once ``event`` is shown to follow it (and its process is in the file)."""
        head = self.heads.get(event.case_id)
        where = f"case {event.case_id} event {event.seq}"
        if event.seq != (head.seq + 1 if head else 1) or event.prev_hash != (head.hash if head else GENESIS):
            after = f"event {head.seq}" if head else "the start of its history"
            raise self.fail(f"{where} does not follow {after} (an event is missing or out of order)")
        if self.rehash and not self._hash_verifies(event):
            raise self.fail(f"{where} ({event.kind}): its hash does not verify (the event was altered)")
        p = event.payload
        needed = (
            p.get("process_hash") if event.kind == "started" else p.get("to_hash") if event.kind == "migrated" else ""
        )
        if head is None and event.kind != "started":
            raise self.fail(f"{where}: the history does not begin with 'started'")
        if head is None:
            self.tenants[event.case_id] = str(p.get("tenant", DEFAULT_TENANT))
        if needed and needed not in self.processes:
            raise self.fail(f"{where}: its process version {str(needed)[:12]} is not in the export")
        return head

    @staticmethod
    def _hash_verifies(event: EventRecord) -> bool:
        try:
            recomputed = event_hash(
                event.case_id, event.seq, event.at, event.actor, event.role, event.kind, event.payload_json,
                event.prev_hash, event.hash_rule,
            )  # fmt: skip
        except ValueError:  # a payload outside what its hash rule encodes
            return False
        return recomputed == event.hash

    def _upgrade(self, value: dict[str, Any]) -> Upgrade:
        self._stage(2, "an upgrade record")
        from_format, to_format, at, cases, events, first_pos = (
            _number(self, value, k) for k in ("from_format", "to_format", "at", "cases", "events", "first_pos")
        )
        self.upgrades += 1
        return Upgrade(from_format, to_format, at, cases, events, _text(self, value, "root"), first_pos)

    def _end(self, value: dict[str, Any]) -> None:
        self.ended = self.number
        if value.get("digest") != "sha256:" + self.digest.hexdigest():
            raise self.fail("the digest does not match the lines before it: the file was edited or damaged")
        assert self.header is not None
        read = Counts(len(self.processes), len(self.heads), self.events, self.upgrades, self.directory.counts)
        if self.version < 2:
            read = replace(read, directory={})
        if self._counts(value) != read or self.header.counts != read:
            raise self.fail(f"the counts do not match the lines read ({read.describe()})")

    def _stage(self, stage: int, what: str) -> None:
        if stage < self.stage:
            raise self.fail(
                f"{what} out of place (processes, events, upgrade records, then the directory's users, credentials, "
                "replies, assignments, assignment log, deliveries)"
            )
        self.stage = stage


def _text(reader: _Reader, value: dict[str, Any], key: str) -> str:
    found = value.get(key)
    if not isinstance(found, str):
        raise reader.fail(f"{key} is missing or not text")
    return found


def _number(reader: _Reader, value: dict[str, Any], key: str) -> int:
    found = value.get(key)
    if type(found) is not int:
        raise reader.fail(f"{key} is missing or not a whole number")
    return found
