"""complaintflow's command line: parse options, call one engine function, print.

Exit codes: 0 clean, 1 problems found or an action refused, 2 bad usage.
``--format json`` writes machine output to stdout; human summaries go to
stderr. This is the only module that imports click or reads the wall clock.
Heavy modules are imported inside commands so ``--help`` starts fast.

A new command is ``@main.command()`` with the shared pieces: ``DB_OPTION``, ``NOW_OPTION`` (a
``LocalTime``, turned into epoch seconds by ``_now``), ``NameValueType`` for ``NAME=VALUE`` options,
``format_option(...)`` for ``--format`` and ``resolve_process_path`` for a process path or bundled
name. It lets engine errors propagate: ``CommandGroup`` turns every ``ComplaintflowError`` into its
message and exit code, so no command catches them itself; ``_fail`` stops with a message of its own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import click


def _package_from_checkout() -> None:
    """``python cli.py`` in a checkout that was never installed: the package is the engine/ folder
    beside this file, under its installed name (an install, editable or not, already provides it)."""
    import importlib.util

    if importlib.util.find_spec("complaintflow") is not None:
        return
    source = Path(__file__).resolve().parent / "engine"
    spec = importlib.util.spec_from_file_location(
        "complaintflow", source / "__init__.py", submodule_search_locations=[str(source)]
    )
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["complaintflow"] = module
    spec.loader.exec_module(module)


_package_from_checkout()

from complaintflow import __version__  # noqa: E402
from complaintflow.errors import ComplaintflowError, UnusableInputError  # noqa: E402

F = TypeVar("F", bound=Callable[..., Any])


# -- one place that turns an engine error into an exit code and a message ----------------------


def _report(exc: ComplaintflowError) -> None:
    """Print what went wrong: the positioned problems an input has, then one line saying what to do."""
    from complaintflow.language.diagnostics import DefinitionError, Severity, format_text

    diagnostics = [d for d in getattr(exc, "diagnostics", ()) if d.severity is Severity.ERROR]
    if diagnostics:
        click.echo(format_text(diagnostics), err=True)
    if isinstance(exc, DefinitionError):
        files = sorted({d.file for d in diagnostics}) or ["the process file"]
        click.echo(
            f"error: {', '.join(files)} has errors; fix them first (complaintflow validate {files[0]})", err=True
        )
    elif diagnostics:
        click.echo(f"error: {diagnostics[0].file} has errors", err=True)
    else:
        click.echo(f"error: {exc}", err=True)


class CommandGroup(click.Group):
    """The command group: a ComplaintflowError from any command leaves through ``_report`` with its exit code.

    Anything else that escapes a command is a bug, but still one line (naming the command and
    ``--debug``, which shows the traceback) rather than a traceback. Arguments that are not UTF-8
    text are refused before any command runs: nothing below could store or print them.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for position, arg in enumerate(args, start=1):
            if not _is_text(arg):
                shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                raise click.UsageError(
                    f"argument {position} ({shown!r}) is not valid UTF-8 text; "
                    "names, ids and paths must be UTF-8 (check the terminal's encoding)",
                    ctx,
                )
        ctx.meta["complaintflow.args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ComplaintflowError as exc:
            _report(exc)
            ctx.exit(exc.exit_code)
        except OSError as exc:  # a file named on the command line that cannot be read or written
            where = f" {exc.filename}" if exc.filename else ""
            click.echo(f"error: cannot use{where}: {exc.strerror or exc}", err=True)
            ctx.exit(2)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # the net under every command; each cause found gets its own message
            if ctx.meta.get("complaintflow.debug"):
                raise
            from complaintflow.store import faults

            if faults.is_store_fault(exc):  # a store that fails after it opened: full, read-only, damaged
                fault = faults.describe(exc, _db_argument(ctx))
                click.echo(f"error: {fault}", err=True)
                ctx.exit(fault.exit_code)
            command = ctx.invoked_subcommand or "complaintflow"
            click.echo(
                f"error: complaintflow {command} failed unexpectedly ({type(exc).__name__}: {_one_line(exc)}); "
                f"run it again with --debug (complaintflow --debug {command} ...) for the traceback",
                err=True,
            )
            ctx.exit(2)


def _db_argument(ctx: click.Context) -> str:
    """The --db a command was given (for a store fault's message), else its default."""
    args: list[str] = ctx.meta.get("complaintflow.args", [])
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return str(args[i + 1])
        if arg.startswith("--db="):
            return arg[len("--db=") :]
    return "complaintflow.db"


def _is_text(arg: str) -> bool:
    """Whether a command-line argument is real text (bytes that are not UTF-8 arrive as lone surrogates)."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _fail(message: str, code: int = 1) -> NoReturn:
    """Stop a command with one line: code 2 for bad usage or unusable input, 1 for problems found."""
    raise UnusableInputError(message) if code == 2 else ComplaintflowError(message)


# -- shared parameter types and options --------------------------------------------------------


@dataclass(frozen=True)
class LocalTime:
    """A ``--now`` value: checked when parsed, turned into epoch seconds in the process's own timezone."""

    text: str

    def epoch(self, timezone: str) -> int:
        from complaintflow.calendar import parse_local

        try:
            return parse_local(self.text, timezone)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--now'") from None


if TYPE_CHECKING:  # click >= 8.2 types its ParamType generically; 8.1 has no parameters to give
    _TimeParamBase = click.ParamType[LocalTime, str]
    _PairParamBase = click.ParamType[tuple[str, str], str]
    _TextParamBase = click.ParamType[str, str]
else:
    _TimeParamBase = _PairParamBase = _TextParamBase = click.ParamType


class LocalTimeType(_TimeParamBase):
    """``2025-09-30 18:00`` or ISO 8601 -> ``LocalTime``; anything else is a usage error (exit 2)."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> LocalTime:
        if isinstance(value, LocalTime):
            return value
        from complaintflow.calendar import parse_local

        try:
            parse_local(str(value), "UTC")  # the shape only: the timezone is the process's, known later
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return LocalTime(str(value))


class NameValueType(_PairParamBase):
    """``NAME=VALUE`` -> ``(NAME, VALUE)``; the value may be empty or hold further '=' signs."""

    name = "NAME=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return (str(value[0]), str(value[1]))
        name, sep, text = str(value).partition("=")
        if not sep or not name.strip():
            self.fail(f"expected NAME=VALUE, got {value!r}", param, ctx)
        return name.strip(), text


class PeriodType(_TextParamBase):
    """``2026-11``, ``2026-W47`` or ``2026-11-01..2026-11-15``, checked when parsed (exit 2 with the reason)."""

    name = "PERIOD"
    MAX_DAYS = 366 * 100  # a report over more than a century is a typo, and its last day could pass year 9999

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from complaintflow.report.period import parse_period

        text = str(value)
        try:
            period = parse_period(text, "UTC")  # the shape only: the timezone is another option
        except (ValueError, OverflowError) as exc:
            self.fail(str(exc) if isinstance(exc, ValueError) else f"{text!r} reaches past the year 9999", param, ctx)
        if (period.last_day - period.first_day).days >= self.MAX_DAYS:
            self.fail(f"{text!r} spans more than 100 years; report a month, a week or a shorter range", param, ctx)
        if period.first_day.year < 1970:
            self.fail(f"{text!r} starts before 1970, before any case could be stored", param, ctx)
        return text


def format_option(*choices: str, default: str = "text", help: str | None = None) -> Callable[[F], F]:
    """The one ``--format`` option (parameter ``fmt``); each command names its own choices."""
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True, help=help)


TEXT_OR_JSON = ("text", "json")
# Personal data is shown only to the roles the process lets see it; without this option every value reads ***.
AS_ROLE_OPTION = click.option(
    "--as-role",
    "view_roles",
    multiple=True,
    help="Show the personal data this role may see (repeat for several); without it personal values read ***.",
)
DB_OPTION = click.option(
    "--db",
    default="complaintflow.db",
    envvar="COMPLAINTFLOW_DB",
    show_default=True,
    help="Store: an SQLite file, or a PostgreSQL URL postgresql://... (environment: COMPLAINTFLOW_DB).",
)
NOW_OPTION = click.option(
    "--now",
    "now",
    type=LocalTimeType(),
    default=None,
    help="The instant to act at, e.g. '2025-09-30 18:00' (default: the wall clock).",
)


def _now(now: LocalTime | None, timezone: str = "Asia/Shanghai") -> int:
    """The one place that reads the wall clock: only when --now is not given."""
    if now is None:
        import time

        return int(time.time())
    return now.epoch(timezone)


# -- finding processes -------------------------------------------------------------------------


def _process_files(paths: tuple[str, ...]) -> list[Path]:
    """Files named on the command line: folders expand to their .yaml files, bare names to bundled processes."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                _fail(f"no .yaml files in {raw!r}", 2)
            files += found
        else:
            files.append(resolve_process_path(raw))
    return files


def resolve_process_path(name: str) -> Path:
    """A path to a process file, or the id of one of the bundled processes."""
    path = Path(name)
    if path.exists():
        return path
    from complaintflow.resources import processes_dir

    bundled: Path = processes_dir() / f"{name}.yaml"
    if bundled.exists():
        return bundled
    known = sorted(p.stem for p in processes_dir().glob("*.yaml"))
    from complaintflow.language.diagnostics import did_you_mean

    hint = did_you_mean(name, known)
    looks_like_a_path = "/" in name or "\\" in name or name.endswith((".yaml", ".yml"))
    what = "no such file" if looks_like_a_path else "no process file or bundled process named"
    _fail(f"{what} {name!r}" + (f"; {hint}" if hint else "") + f"\nbundled processes: {', '.join(known)}", 2)


def _load(name: str) -> Any:
    from complaintflow.language.check import load_process

    return load_process(resolve_process_path(name))


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="complaintflow")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected failure (for a bug report).")
@click.option(
    "--tenant",
    default="default",
    envvar="COMPLAINTFLOW_TENANT",
    show_default=True,
    help="Whose processes and cases the command works on (docs/tenants.md; environment: COMPLAINTFLOW_TENANT).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, tenant: str) -> None:
    """Run customer-complaint handling as declarative YAML processes."""
    ctx.meta["complaintflow.debug"] = debug
    from complaintflow.errors import BadArgumentError
    from complaintflow.tenants import check_tenant

    try:
        ctx.meta["complaintflow.tenant"] = check_tenant(tenant)
    except BadArgumentError as exc:
        _fail(f"--tenant: {exc}", 2)


def _tenant() -> str:
    """The tenant ``--tenant`` named (the default tenant's when none was)."""
    context = click.get_current_context(silent=True)
    return str(context.meta.get("complaintflow.tenant", "default")) if context is not None else "default"


def _tenant_asked_for() -> str | None:
    """The tenant ``--tenant`` (or COMPLAINTFLOW_TENANT) named, None when neither did: for the commands that
    cover the whole store unless a tenant is asked for."""
    context = click.get_current_context(silent=True)
    if context is None or context.find_root().get_parameter_source("tenant") is click.core.ParameterSource.DEFAULT:
        return None
    return _tenant()


@main.command()
@click.argument("paths", nargs=-1, required=True)
@format_option(
    "text",
    "json",
    "github",
    "sarif",
    help="github: workflow-command annotations; sarif: SARIF 2.1.0 for code scanning.",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--now",
    "now",
    type=LocalTimeType(),
    default=None,
    help="Also warn when a calendar's published holiday data ends soon after this time.",
)
@click.option(
    "--calendar-horizon",
    "horizon",
    type=click.IntRange(min=0),
    default=45,
    show_default=True,
    help="With --now: warn when the data ends fewer than this many days after it.",
)
def validate(paths: tuple[str, ...], fmt: str, strict: bool, now: LocalTime | None, horizon: int) -> None:
    """Check process and scenario files (paths, folders or bundled names); print every problem as file:line:col."""
    from complaintflow.language.diagnostics import Severity, format_json, format_text, has_errors
    from complaintflow.validate import check_any

    files = _process_files(paths)
    at = _now(now) if now is not None else None  # without --now no calendar horizon is checked
    problems = []
    for path in files:
        problems += check_any(path, now=at, horizon_days=horizon)[1]
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if fmt == "json":
        click.echo(format_json(problems))
    elif fmt == "sarif":
        from complaintflow.language.ci_formats import format_sarif
        from complaintflow.language.rules import RULES

        click.echo(format_sarif(problems, {rule.id: rule.summary for rule in RULES}, __version__))
    elif problems:
        from complaintflow.language.ci_formats import format_github

        click.echo(format_github(problems) if fmt == "github" else format_text(problems))
    click.echo(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)", err=True)
    sys.exit(1 if has_errors(problems) or (strict and problems) else 0)


@main.command()
@click.argument("processes", nargs=-1)
@format_option(*TEXT_OR_JSON)
def calendars(processes: tuple[str, ...], fmt: str) -> None:
    """List each calendar: sources and versions, years with published data, company days, unknown-year policy.

    PROCESSES are files, folders or bundled process ids; without any, the bundled processes.
    """
    from complaintflow.calendar import CalendarError
    from complaintflow.calendar_data import current
    from complaintflow.calendar_status import describe, format_text
    from complaintflow.resources import processes_dir

    data = current()
    if data is not None and data.errors:
        _fail(f"calendar data file has errors:\n{data.error_text()}")
    names = processes or (str(processes_dir()),)
    paths = [f for n in names for f in (_process_files((n,)) if Path(n).is_dir() else [resolve_process_path(n)])]
    items = []
    for path in paths:
        try:
            items += describe(_load(str(path)), str(path))
        except CalendarError as exc:
            _fail(str(exc))
    _emit(fmt, items, format_text(items) or "no calendars")


@main.command()
@click.argument("process")
@format_option(*TEXT_OR_JSON)
@click.option(
    "--or-raw",
    is_flag=True,
    help="Print the file's own text when it has errors (for git's textconv, so git diff never fails).",
)
def show(process: str, fmt: str, or_raw: bool) -> None:
    """Print a process's roles, states, actions, deadlines and escalation chains as tables."""
    from dataclasses import asdict

    from complaintflow.language.render import table

    try:
        spec = _load(process)
    except ComplaintflowError:
        path = Path(process)
        if not (or_raw and path.is_file()):
            raise
        sys.stdout.flush()
        sys.stdout.buffer.write(path.read_bytes())  # bytes as they are: the file may not even be UTF-8
        sys.stdout.buffer.flush()
        return
    _emit(fmt, asdict(spec), table.render(spec) if fmt == "text" else "")


@main.command()
@click.argument("process")
@format_option(
    "mermaid",
    "dot",
    "markdown",
    default="mermaid",
    help="markdown: Mermaid inside a ```mermaid fence, as GitHub renders it.",
)
def graph(process: str, fmt: str) -> None:
    """Draw a process as a Mermaid state diagram or a Graphviz graph."""
    from complaintflow.language.render import dot, mermaid

    spec = _load(process)
    text = {"mermaid": mermaid.render, "dot": dot.render, "markdown": mermaid.render_markdown}[fmt](spec)
    click.echo(text)


@main.command()
@click.argument("old")
@click.argument("new")
@format_option(*TEXT_OR_JSON)
def diff(old: str, new: str, fmt: str) -> None:
    """Name the business changes between two versions of a process (exit 1 when they differ)."""
    import json

    from complaintflow.language.diff import diff as semantic_diff

    changes = semantic_diff(_load(old), _load(new))
    if fmt == "json":
        click.echo(json.dumps([c.to_json() for c in changes], ensure_ascii=False, indent=2))
    else:
        for change in changes:
            click.echo(str(change))
        click.echo(f"{len(changes)} change(s)" if changes else "no business changes", err=True)
    sys.exit(1 if changes else 0)


# -- starting a process file ------------------------------------------------------------------


@main.command()
@click.argument("name")
@click.option("--from", "template", default=None, metavar="BUNDLED", help="A bundled process to start from.")
def init(name: str, template: str | None) -> None:
    """Write NAME.yaml, a new process (a bundled one renamed, or the smallest valid one), its schema beside it."""
    from complaintflow.resources import processes_dir, schema_path
    from complaintflow.scaffold import IDENTIFIER, SCHEMA_FILE_NAME, new_process_text

    target = Path(name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    process_id = target.stem
    if not IDENTIFIER.fullmatch(process_id):
        suggestion = "_".join(part for part in "".join(c if c.isalnum() else " " for c in process_id).split())
        _fail(
            f"{process_id!r} cannot be a process id: use lower-case letters, digits and '_', starting with a letter"
            + (f" (e.g. {suggestion.lower()!r})" if IDENTIFIER.fullmatch(suggestion.lower()) else ""),
            2,
        )
    if target.exists():
        _fail(f"{target} already exists; init never overwrites a file (choose another NAME)", 2)
    if not target.parent.is_dir():
        _fail(f"no such folder: {str(target.parent)!r}", 2)
    text = None
    if template is not None:
        bundled = processes_dir() / f"{template}.yaml"
        source = bundled if bundled.is_file() else resolve_process_path(template)  # or: what is bundled
        text = source.read_text(encoding="utf-8")
    schema_text = schema_path().read_bytes()
    schema_file = target.parent / SCHEMA_FILE_NAME
    if schema_file.exists() and schema_file.read_bytes() != schema_text:
        click.echo(
            f"warning: kept the existing {schema_file}, which differs from this complaintflow's schema "
            f"(complaintflow schema > {schema_file} replaces it)",
            err=True,
        )
    elif not schema_file.exists():
        schema_file.write_bytes(schema_text)
        click.echo(f"wrote {schema_file}", err=True)
    target.write_text(new_process_text(process_id, text), encoding="utf-8")
    click.echo(f"wrote {target}; check it with: complaintflow validate {target}", err=True)


@main.command()
@click.option("--path", "as_path", is_flag=True, help="Print where the schema file is instead of its text.")
def schema(as_path: bool) -> None:
    """Print the JSON schema of process files (for editors and CI), or its path."""
    from complaintflow.resources import schema_path

    path = schema_path()
    click.echo(str(path) if as_path else path.read_text(encoding="utf-8").rstrip("\n"))


# -- the runtime ------------------------------------------------------------------------------


def _engine(db: str, *, create: bool = False) -> Any:
    """The engine on store ``db``; only ``start`` may create a new store (a typo must not make an empty one).
    A PostgreSQL URL names a database that exists already; opening it migrates its schema."""
    from complaintflow import Engine
    from complaintflow.store import faults
    from complaintflow.store.open import is_database_url

    if is_database_url(db):
        return Engine(db, tenant=_tenant())
    if not create and db != ":memory:" and not Path(db).exists() and Path(db).parent.is_dir():
        _fail(f"no store at {db!r} (start a case there first, or run 'complaintflow demo --db {db}')", 2)
    faults.refuse_unusable_path(db, create=create)  # a read-only command never creates or initialises one
    return Engine(db, tenant=_tenant())


def _actor(actor: str | None, roles: tuple[str, ...]) -> Any:
    from complaintflow import Actor

    if not actor or not roles:
        _fail("say who acts: --as NAME --role ROLE (--role may repeat)", 2)
    return Actor(actor, tuple(roles))


def _event_data(event: Any) -> dict[str, Any]:
    """An event as JSON output shows it: its fields, without the stored text of its payload."""
    from dataclasses import asdict

    data = asdict(event)
    data.pop("payload_json", None)
    data.pop("personal", None)  # kept beside the chain; the payload shows their commitments
    return data


def _masked_case(engine: Any, case: Any, roles: Any) -> Any:
    """The case with each personal value the roles may not see replaced by ***."""
    from dataclasses import replace

    from complaintflow.masking import mask_data

    return replace(case, data=mask_data(engine.compiled(case.process_hash).spec, case.data, set(roles)))


def _masked_event(engine: Any, event: Any, roles: Any, spec: Any = None) -> Any:
    """The event with the personal values of its payload masked for the roles (revealed where they may see)."""
    from dataclasses import replace

    from complaintflow.masking import mask_event

    if spec is None:
        spec = engine.compiled(engine.case(event.case_id).process_hash).spec
    return replace(event, payload=mask_event(spec, event, set(roles)))


def _emit(fmt: str, data: Any, text: str) -> None:
    import json

    def plain(value: Any) -> Any:  # frozensets and enums inside specs
        return sorted(value) if isinstance(value, (set, frozenset)) else getattr(value, "value", str(value))

    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=plain) if fmt == "json" else text)


@main.command()
@click.argument("process")
@click.option(
    "--data", "data", type=NameValueType(), multiple=True, help="A field of the complaint record, NAME=VALUE (repeat)."
)
@click.option("--as", "actor", help="Who records the complaint.")
@click.option("--role", "roles", multiple=True, help="The actor's role (repeat for several).")
@AS_ROLE_OPTION
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def start(
    process: str,
    data: tuple[tuple[str, str], ...],
    actor: str | None,
    roles: tuple[str, ...],
    view_roles: tuple[str, ...],
    db: str,
    now: LocalTime | None,
    fmt: str,
) -> None:
    """Open a complaint case on a process (a file or a bundled process id)."""
    from dataclasses import asdict

    from complaintflow.language.check import load_process
    from complaintflow.runtime.values import coerce_text

    who = _actor(actor, roles)
    path = resolve_process_path(process)
    load_process(path)  # a broken file must not leave a new, empty store behind
    engine = _engine(db, create=True)
    spec = engine.load_process(path)
    case = engine.start(spec, coerce_text(spec.fields, dict(data)), who, at=_now(now, spec.timezone))
    _emit(fmt, asdict(_masked_case(engine, case, roles + view_roles)), f"{case.id}")
    click.echo(f"case {case.id} opened on {spec.id} v{spec.version}, in {case.state!r}", err=True)


@main.command()
@click.argument("case_id")
@click.argument("action")
@click.option(
    "--input", "inputs", type=NameValueType(), multiple=True, help="A field given with the action, NAME=VALUE (repeat)."
)
@click.option("--as", "actor", help="Who acts.")
@click.option("--role", "roles", multiple=True, help="The actor's role (repeat for several).")
@AS_ROLE_OPTION
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def act(
    case_id: str,
    action: str,
    inputs: tuple[tuple[str, str], ...],
    actor: str | None,
    roles: tuple[str, ...],
    view_roles: tuple[str, ...],
    db: str,
    now: LocalTime | None,
    fmt: str,
) -> None:
    """Take an action on a case."""
    from dataclasses import asdict

    from complaintflow.runtime.values import coerce_text

    who = _actor(actor, roles)
    engine = _engine(db)
    before = engine.case(case_id)
    spec = engine.compiled(before.process_hash).spec
    case = engine.act(case_id, action, who, coerce_text(spec.fields, dict(inputs)), at=_now(now, spec.timezone))
    _emit(fmt, asdict(_masked_case(engine, case, roles + view_roles)), f"{case.id} {before.state} -> {case.state}")


@main.command()
@click.argument("case_id")
@click.argument("deadline")
@click.option("--add", "add", help="Budget to add, e.g. 2h or 1wd (counted from the current due time).")
@click.option("--until", "until", type=LocalTimeType(), default=None, help="The new due time, e.g. '2025-09-30 18:00'.")
@click.option("--reason", required=True, help="Why the deadline is extended (recorded in the history).")
@click.option("--as", "actor", help="Who extends it.")
@click.option("--role", "roles", multiple=True, help="The actor's role (repeat for several).")
@AS_ROLE_OPTION
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def extend(
    case_id: str,
    deadline: str,
    add: str | None,
    until: LocalTime | None,
    reason: str,
    actor: str | None,
    roles: tuple[str, ...],
    view_roles: tuple[str, ...],
    db: str,
    now: LocalTime | None,
    fmt: str,
) -> None:
    """Extend a running deadline of a case by a budget or to a new due time, with a reason."""
    from dataclasses import asdict

    from complaintflow.calendar import format_local
    from complaintflow.language.durations import parse_duration

    who = _actor(actor, roles)
    engine = _engine(db)
    spec = engine.compiled(engine.case(case_id).process_hash).spec
    try:
        budget = parse_duration(add) if add is not None else None
    except ValueError as exc:
        raise click.UsageError(f"--add: {exc}") from None
    at = _now(now, spec.timezone)
    due = until.epoch(spec.timezone) if until is not None else None
    case = engine.extend(case_id, deadline, who, at=at, reason=reason, add=budget, until=due)
    shown = asdict(_masked_case(engine, case, roles + view_roles))
    _emit(fmt, shown, f"{case.id} {deadline} due {format_local(case.clocks[deadline]['due'], spec.timezone)}")


@main.command()
@click.option(
    "--to", "to", required=True, metavar="PROCESS_FILE", help="The new version: same process, higher version."
)
@click.option("--case", "case_id", default=None, help="Move this case.")
@click.option(
    "--all-of", "all_of", default=None, metavar="HASH", help="Move every open case on this version (hash or prefix)."
)
@click.option("--map", "mapping", multiple=True, metavar="OLD=NEW", help="Place an old state in a new one (repeat).")
@click.option("--dry-run", is_flag=True, help="Print what would change for each case; change nothing.")
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def migrate(
    to: str,
    case_id: str | None,
    all_of: str | None,
    mapping: tuple[str, ...],
    dry_run: bool,
    db: str,
    now: LocalTime | None,
    fmt: str,
) -> None:
    """Move running cases to a newer version of their process, keeping the time their clocks used (exit 1 if any
    case is refused)."""
    from complaintflow.report.migration import describe_plan, plan_data
    from complaintflow.runtime.errors import RefusedError
    from complaintflow.store.base import ConflictError

    if (case_id is None) == (all_of is None):
        _fail("say which cases: --case ID or --all-of HASH (one of them)", 2)
    state_map: dict[str, str] = {}
    for pair in mapping:
        before, _, after = pair.partition("=")
        if not before.strip() or not after.strip():
            _fail(f"--map {pair}: expected OLD=NEW, a state of the old version and one of the new", 2)
        if before.strip() in state_map:
            _fail(f"--map names state {before.strip()!r} twice", 2)
        state_map[before.strip()] = after.strip()
    path = resolve_process_path(to)
    spec = _load(str(path))
    engine = _engine(db)
    at = _now(now, spec.timezone)
    ids = [case_id] if case_id is not None else _cases_of_version(engine, all_of or "", spec, state_map)
    verb = ("would migrate", "would refuse") if dry_run else ("migrated", "refused")
    deployed, outputs, refused = dry_run, [], {}
    for n, cid in enumerate(ids, start=1):
        try:
            plan = engine.plan_migration(cid, spec, at=at, state_map=state_map)
            if not plan.refused and not dry_run:
                if not deployed:  # the new version is stored once a case is known to move, not before
                    engine.load_process(path)
                    deployed = True
                revision = plan.row.revision - 1  # the revision planned on: a case changed since is refused
                plan = engine.migrate(cid, spec, at=at, state_map=state_map, expected_revision=revision)
        except (RefusedError, ConflictError) as exc:  # this case stays as it is; the others go on
            refused[cid] = str(exc)
            outputs.append(({"case": cid, "refusals": [str(exc)]}, f"{cid}: refused: {exc}"))
        else:
            if plan.refused:
                refused[cid] = "; ".join(plan.refusals)
            old = engine.compiled(plan.from_hash).spec
            outputs.append((plan_data(plan), describe_plan(engine, plan, old, spec)))
        if all_of is not None:
            click.echo(f"[{n}/{len(ids)}] {cid}: {verb[1] if cid in refused else verb[0]}", err=True)
    _emit(fmt, [data for data, _ in outputs], "\n".join(text for _, text in outputs) or "no open cases to move")
    click.echo(f"{verb[0]} {len(ids) - len(refused)}, {verb[1]} {len(refused)}", err=True)
    for cid, reason in refused.items():
        click.echo(f"  {cid}: {reason}", err=True)
    if dry_run:
        click.echo("dry run: nothing was changed", err=True)
    if refused:
        sys.exit(1)


def _cases_of_version(engine: Any, wanted: str, spec: Any, state_map: dict[str, str]) -> list[str]:
    """The open cases on the stored version whose content hash is (or starts with) ``wanted``, checked once."""
    from complaintflow import CaseQuery

    found = [p for p in engine.store.processes() if wanted and p.content_hash.startswith(wanted.lower())]
    if not found:
        _fail(f"--all-of {wanted}: no stored version has that hash (see process_hash in cases --format json)", 2)
    if len(found) > 1:
        _fail(f"--all-of {wanted}: {len(found)} stored versions start with it; give more of the hash", 2)
    engine.check_migration_target(engine.compiled(found[0].content_hash).spec, spec, state_map)
    query = CaseQuery(process_id=found[0].process_id, open_only=True, limit=10**9)
    return [c.id for c in engine.cases(query) if c.process_hash == found[0].content_hash]


@main.command()
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def tick(db: str, now: LocalTime | None, fmt: str) -> None:
    """Fire every warning, breach and escalation step due by now (exit 1 if a case was refused)."""

    from complaintflow.report.timeline import describe_event

    engine = _engine(db)
    refused: dict[str, str] = {}
    fired = engine.tick(_now(now), refused=refused)
    fired = [_masked_event(engine, e, ()) for e in fired]  # the engine acts in no role: no personal value
    lines = [describe_event(engine, e) for e in fired]
    _emit(fmt, [_event_data(e) for e in fired], "\n".join(lines) if lines else "nothing due")
    for reason in refused.values():  # the other cases went on; these were left as they are
        click.echo(f"error: {reason}", err=True)
    if refused:
        sys.exit(1)


@main.command("case")
@click.argument("case_id")
@AS_ROLE_OPTION
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def case_command(case_id: str, view_roles: tuple[str, ...], db: str, now: LocalTime | None, fmt: str) -> None:
    """Show a case: state, owner, record and running deadlines (budget, used, left, due, paused since)."""
    from dataclasses import asdict

    from complaintflow.report.timeline import clock_views, describe_case

    engine = _engine(db)
    case = engine.case(case_id)
    at = _now(now)
    text = describe_case(engine, case, at, roles=set(view_roles))
    case = _masked_case(engine, case, view_roles)
    views = [asdict(v) for v in clock_views(engine, case, at)] if case.closed_at is None else []
    _emit(fmt, {**asdict(case), "deadlines": views}, text)


@main.command()
@click.argument("case_id")
@AS_ROLE_OPTION
@DB_OPTION
@format_option(*TEXT_OR_JSON)
def history(case_id: str, view_roles: tuple[str, ...], db: str, fmt: str) -> None:
    """Print a case's full history, oldest first."""
    from complaintflow.report.timeline import describe_history

    engine = _engine(db)
    from complaintflow.masking import event_specs

    current = engine.compiled(engine.case(case_id).process_hash).spec
    versions = event_specs(engine.history(case_id), lambda h: engine.compiled(h).spec, current)
    events = [_masked_event(engine, e, view_roles, spec) for e, spec in versions]
    _emit(fmt, [_event_data(e) for e in events], "\n".join(describe_history(engine, events)))


@main.command()
@click.option("--process", "process_id", help="Only cases of this process id.")
@click.option("--state", help="Only cases in this state.")
@click.option("--role", help="Only cases held by this role.")
@click.option("--open", "open_only", is_flag=True, help="Only open cases.")
@click.option("--overdue", is_flag=True, help="Only open cases with a deadline breached or due by --now.")
@AS_ROLE_OPTION
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def cases(
    process_id: str | None,
    state: str | None,
    role: str | None,
    open_only: bool,
    overdue: bool,
    view_roles: tuple[str, ...],
    db: str,
    now: LocalTime | None,
    fmt: str,
) -> None:
    """List cases."""
    from dataclasses import asdict

    from complaintflow import CaseQuery
    from complaintflow.report.timeline import describe_case_line

    engine = _engine(db)
    if overdue:
        found = [
            c
            for c in engine.overdue(_now(now), process_id)
            if (state is None or c.state == state) and (role is None or c.owner_role == role)
        ]
    else:
        found = engine.cases(CaseQuery(process_id, state, role, open_only))
    shown = [asdict(_masked_case(engine, c, view_roles)) for c in found]
    _emit(fmt, shown, "\n".join(describe_case_line(engine, c) for c in found) or "no cases")


@main.command()
@click.argument("case_id", required=False)
@DB_OPTION
@format_option(*TEXT_OR_JSON)
@click.option(
    "--against",
    "checkpoint",
    default=None,
    help="A checkpoint from 'complaintflow seal': also prove nothing it sealed was altered or removed.",
)
@click.option("--signer", default=None, help="With --against: the fingerprint of the key that must have signed it.")
def verify(case_id: str | None, db: str, fmt: str, checkpoint: str | None, signer: str | None) -> None:
    """Check that no stored history was altered: hash chains and replay (exit 1 on any problem)."""
    if checkpoint is not None:
        _verify_against(db, fmt, checkpoint, case_id, signer)
    if signer is not None:
        _fail("--signer goes with --against CHECKPOINT", 2)
    from complaintflow.audit.verify import verify_store

    engine = _engine(db)
    problems = verify_store(engine, case_id)
    # JSON: one object per problem (case null: the store as a whole), so a tool reads fields, not sentences
    found = [{"case": p.case_id, "seq": p.seq, "problem": p.message, "text": str(p)} for p in problems]
    _emit(fmt, found, "\n".join(str(p) for p in problems) or _intact(engine))
    sys.exit(1 if problems else 0)


def _intact(engine: Any) -> str:
    """The line for a store that verifies: with its format's history, since an upgrade sealed older events."""
    from complaintflow.audit.verify import upgrades_of

    lines = ["history intact"]
    version = getattr(engine.store, "format_version", None)
    for done in upgrades_of(engine):
        if done.from_format < 4:
            rules = f"hash rule 1 and sealed (root {done.root[:16]}); events from position {done.first_pos} on "
            rules += "are hashed under rule 2 (RFC 8785)"
        elif done.from_format < 5:
            rules = f"hash rule 2 and sealed (root {done.root[:16]}); personal values of events from position "
            rules += f"{done.first_pos} on are kept beside the chain"
        else:
            rules = f"hash rule 2 and sealed (root {done.root[:16]}); cases and processes are filed by tenant"
        lines.append(
            f"store upgraded from format {done.from_format} to {done.to_format} at {_utc(done.at)}: "
            f"{done.cases} cases and {done.events} events verified under {rules}"
        )
    from complaintflow.store.sqlite import FORMAT_VERSION

    if isinstance(version, int) and version < FORMAT_VERSION:
        lines.append(
            (
                f"store format {version}: every event is hashed under rule 1"
                if version < 4
                else f"store format {version}: personal values are inside the hashed payloads"
                if version < 5
                else f"store format {version}: made before tenants, read as the default tenant's"
            )
            + f"; 'complaintflow upgrade' brings it to format {FORMAT_VERSION} (docs/audit.md)"
        )
    return "\n".join(lines)


@main.command()
@click.argument("case_id", required=False)
@DB_OPTION
@format_option(*TEXT_OR_JSON, default="json", help="With CASE: how to print the case's personal data.")
@click.option(
    "--out", default=None, help="Without CASE: write the whole store to this file (default: standard output)."
)
@NOW_OPTION
@click.pass_context
def export(ctx: click.Context, case_id: str | None, db: str, fmt: str, out: str | None, now: LocalTime | None) -> None:
    """Two uses. 'export CASE': a case's personal data and every place the store keeps it, for an access
    request (docs/privacy.md). 'export' with no CASE: the whole store as JSON lines for 'complaintflow import',
    e.g. from SQLite to PostgreSQL (docs/postgres.md): processes, events, upgrade records, and the service's
    users, token digests, assignments and deliveries; with 'complaintflow --tenant T export', only tenant T's
    (docs/tenants.md)."""
    if case_id is None:
        if ctx.get_parameter_source("fmt") is not click.core.ParameterSource.DEFAULT:
            _fail("--format goes with CASE; an export of the whole store is always JSON lines", 2)
        _export_store(db, out, _now(now), _tenant_asked_for())
        return
    if out is not None or now is not None:
        _fail(
            "--out and --now go with an export of the whole store (no CASE); a case's data prints to standard output", 2
        )
    from complaintflow.privacy import describe, personal_data

    engine = _engine(db)
    exported = personal_data(engine, case_id)
    _emit(fmt, exported, describe(exported))


def _export_store(db: str, out: str | None, at: int, tenant: str | None) -> None:
    """The whole store, or ``tenant``'s part, to ``out`` (written beside it as OUT.tmp, synced, then renamed)
    or to standard output."""

    engine = _engine(db)
    separate = _separate_directory(db, engine.store)
    try:
        _write_export(engine.store, _shown_db(db), out, at, separate, tenant)
    finally:
        if separate is not None:
            separate.close()


def _write_export(store: Any, shown: str, out: str | None, at: int, separate: Any, tenant: str | None) -> None:
    from complaintflow.store.transfer import export_store

    whose = "" if tenant is None else f" of tenant {tenant}"
    if out is None:
        stream = sys.stdout.buffer
        counts = export_store(store, stream.write, at, directory_file=separate, tenant=tenant)
        stream.flush()
        click.echo(f"exported {counts.describe()}{whose} from {shown} to standard output", err=True)
        return

    def progress(done: int, total: int) -> None:
        click.echo(f"exported {done:,} of {total:,} events", err=True)

    target = Path(out)
    partial = target.with_name(target.name + ".tmp")
    try:
        with open(partial, "wb") as handle:
            counts = export_store(store, handle.write, at, progress, separate, tenant)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)  # a crash before this leaves OUT.tmp, never half a file named OUT
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a crash
    finally:
        os.close(folder)
    click.echo(f"exported {counts.describe()}{whose} to {out}", err=True)


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@DB_OPTION
def import_command(file: str, db: str) -> None:
    """Load a whole-store export ('complaintflow export --out FILE') into a new, empty store, the service's
    directory with it: every history is verified there before anything is committed, so a refused import
    leaves the store empty."""
    from complaintflow.store import faults
    from complaintflow.store.transfer import check_export, import_export

    path = Path(file)
    counts = check_export(path)  # every check of the file itself, before the store is opened or made
    created = not _is_url(db) and db != ":memory:" and not Path(db).exists()
    if not _is_url(db):
        faults.refuse_unusable_path(db, create=True)
    engine = _engine(db, create=True)

    def progress(done: int, total: int) -> None:
        click.echo(f"imported {done:,} of {total:,} events", err=True)

    try:
        if counts.directory_rows():  # the service's tables, made empty as its first start would, for the rows
            _open_directory_beside(db).close()
        import_export(engine, path, progress, checked=True)
    except BaseException:
        engine.close()
        if created:  # the file this import made holds nothing: leave no empty store behind
            for leftover in (db, f"{db}-wal", f"{db}-shm"):
                Path(leftover).unlink(missing_ok=True)
        raise
    engine.close()
    click.echo(f"imported {counts.describe()} into {_shown_db(db)}; every history verifies", err=True)


def _separate_directory(db: str, store: Any) -> Any:
    """The directory an export carries, made ready: the service tables beside the store are brought up to
    date first when there are any (an older release's gain the columns added since, as any service command's
    opening does); a store the service never ran on gets none. Returns the deprecated separate directory
    file beside a PostgreSQL store when COMPLAINTFLOW_DIRECTORY names one (exported instead), else None."""
    from complaintflow.store.open import open_directory
    from complaintflow.store.transfer_directory import directory_tables

    path = _directory_file(db, None)
    if path is not None:
        if not Path(path).is_file():
            _fail(f"no directory at {path!r} (unset COMPLAINTFLOW_DIRECTORY: the directory is in the database)", 2)
        return open_directory(db, path)
    if hasattr(store, "directory_catalog") and db != ":memory:" and "svc_users" in directory_tables(store):
        _open_directory_beside(db).close()
    return None


def _open_directory_beside(db: str) -> Any:
    from complaintflow.store.open import open_directory

    return open_directory(db)


@main.command()
@click.argument("case_id")
@click.option("--reason", required=True, help="Why the data is erased (recorded in the history).")
@click.option("--field", "fields", multiple=True, help="A pii field to erase (repeat; default: every pii field).")
@click.option("--as", "actor", required=True, help="Who erases it (recorded in the history).")
@click.option("--role", default="privacy", show_default=True, help="The role the eraser acts in.")
@DB_OPTION
@NOW_OPTION
@format_option(*TEXT_OR_JSON)
def erase(
    case_id: str,
    reason: str,
    fields: tuple[str, ...],
    actor: str,
    role: str,
    db: str,
    now: LocalTime | None,
    fmt: str,
) -> None:
    """Destroy a case's personal data (PIPL article 47); the history records the erasure and still verifies."""
    from complaintflow import Actor

    engine = _engine(db)
    spec = engine.compiled(engine.case(case_id).process_hash).spec
    case = engine.erase(case_id, Actor(actor, (role,)), at=_now(now, spec.timezone), reason=reason, fields=fields)
    erased = engine.history(case_id)[-1].payload["fields"]
    # The service's remembered replies may show the case as it was (in the store's database or file, or in
    # the deprecated directory file beside a PostgreSQL store).
    replies = os.environ.get("COMPLAINTFLOW_DIRECTORY") if _is_url(db) else db
    if _is_url(db):
        from complaintflow.store.open import open_directory

        directory = open_directory(db)
        try:
            directory.forget_replies(case_id)
        finally:
            directory.close()
    if replies and Path(replies).exists():
        from complaintflow.store.sqlite_directory import forget_replies

        forget_replies(replies, case_id)
    scrub = getattr(engine.store, "scrub", None)
    if callable(scrub) and not scrub():
        click.echo(
            f"warning: {db} is in use by another process, so its write-ahead log still holds the erased values' "
            "old pages until its next checkpoint",
            err=True,
        )
    _emit(fmt, {"case": case.id, "erased": erased, "seq": case.last_seq}, f"{case.id}: erased {', '.join(erased)}")


@main.command()
@DB_OPTION
@NOW_OPTION
def upgrade(db: str, now: LocalTime | None) -> None:
    """Bring an older store to the current format: verify every history, seal it, rehash nothing."""
    from complaintflow import Engine
    from complaintflow.audit.upgrade import upgrade_store
    from complaintflow.store.open import is_database_url
    from complaintflow.store.sqlite import FORMAT_VERSION, SQLiteStore

    if is_database_url(db):
        _engine(db).close()  # refuses what is not a store; a PostgreSQL store migrates its schema when opened
        click.echo(f"{db}: a PostgreSQL store migrates its schema when it is opened; nothing to do", err=True)
        return
    if not Path(db).exists():
        _fail(f"no store at {db!r}", 2)
    engine = Engine(SQLiteStore(db, for_upgrade=True))
    done = upgrade_store(engine, _now(now))
    if done is None:
        click.echo(f"{db} has store format {FORMAT_VERSION} already; nothing to do", err=True)
        return
    rule = 1 if done.from_format < 4 else 2
    click.echo(
        f"upgraded {db} from store format {done.from_format} to {done.to_format}: {done.cases} cases and "
        f"{done.events} events verified under hash rule {rule} and sealed, root {done.root}; new events are hashed "
        "under rule 2 (RFC 8785) and keep personal values beside the chain (docs/privacy.md); cases and processes are "
        "filed by tenant, those already there the default tenant's (docs/tenants.md)",
        err=True,
    )


def _verify_against(db: str, fmt: str, path: str, case_id: str | None, signer: str | None) -> NoReturn:
    from complaintflow.audit.against import verify_against
    from complaintflow.audit.checkpoint import CheckpointError, SignatureError, read, require_signer

    if case_id is not None:
        _fail("--against checks the whole store; leave out the case id", 2)
    try:
        checkpoint = read(Path(path))
    except CheckpointError as exc:
        _fail(str(exc), 2)
    except SignatureError as exc:
        _fail(str(exc))
    try:
        if signer is not None:
            require_signer(checkpoint, signer)
    except SignatureError as exc:
        _fail(f"{path}: {exc}")
    engine = _engine(db)
    result = verify_against(engine, checkpoint)
    problems = [str(p) for p in result.problems]
    signer = f"signed by key {checkpoint.signer}" if checkpoint.signer else "unsigned"
    summary = (
        f"history intact: the {result.sealed_cases} cases and {result.sealed_events} events sealed at "
        f"{_utc(checkpoint.sealed_at)} ({signer}) are unchanged; {result.new_cases} cases opened since verify clean"
    )
    _emit(fmt, problems, "\n".join(problems) or summary)
    if problems:
        click.echo(f"{len(problems)} differences from the seal of {_utc(checkpoint.sealed_at)} ({signer})", err=True)
    sys.exit(1 if problems else 0)


def _utc(epoch: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


@main.command()
@DB_OPTION
@NOW_OPTION
@click.option("--key", "key_file", default=None, help="Sign with this Ed25519 private key (PEM).")
@click.option("--out", default=None, help="Write the checkpoint to this new file (default: standard output).")
@click.option("--new-key", "new_key", default=None, help="Only make a new Ed25519 private key in this file, and exit.")
def seal(db: str, now: LocalTime | None, key_file: str | None, out: str | None, new_key: str | None) -> None:
    """Write a checkpoint: a Merkle root over every case's head, to keep outside the database (docs/audit.md)."""
    from complaintflow.audit import signing
    from complaintflow.audit.checkpoint import CheckpointError, to_json, write
    from complaintflow.audit.seal import seal as seal_store

    if new_key is not None:
        if key_file or out:
            _fail("--new-key only makes a key; seal with --key in a second run", 2)

        made = signing.new_private_key_pem()
        try:  # a new file only, readable by its owner alone
            with open(new_key, "xb", opener=lambda path, flags: os.open(path, flags, 0o600)) as handle:
                handle.write(made)
        except OSError as exc:
            _fail(f"cannot write {new_key}: {exc.strerror}", 2)
        click.echo(f"new key {new_key}, fingerprint {signing.fingerprint(signing.public_key_of(made))}", err=True)
        return
    pem: bytes | None = None
    if key_file is not None:
        try:
            pem = Path(key_file).read_bytes()
            signing.public_key_of(pem)
        except OSError as exc:
            _fail(f"cannot read {key_file}: {exc.strerror}", 2)
        except signing.SigningKeyError as exc:
            _fail(f"{key_file}: {exc}", 2)
    if out is not None and Path(out).exists():
        _fail(f"{out} already exists; a seal never replaces an older checkpoint", 2)
    engine = _engine(db)
    checkpoint = seal_store(engine, _now(now))
    text = to_json(checkpoint, pem)
    if out is None:
        click.echo(text, nl=False)
    else:
        try:
            write(Path(out), text)
        except CheckpointError as exc:
            _fail(str(exc), 2)
    signer = f", signed by key {signing.fingerprint(signing.public_key_of(pem))}" if pem else ""
    click.echo(
        f"sealed {checkpoint.cases} cases and {checkpoint.events} events at {_utc(checkpoint.sealed_at)}, "
        f"root {checkpoint.root}{signer}",
        err=True,
    )


@main.command()
@DB_OPTION
@click.option(
    "--period",
    required=True,
    type=PeriodType(),
    help="A month '2026-11', an ISO week '2026-W47' or days '2026-11-01..2026-11-15'.",
)
@click.option(
    "--households",
    type=click.IntRange(min=1),
    default=None,
    help="Occupied households, for the complaint rate (target below 5%).",
)
@format_option("markdown", "csv", "json", "html", default="markdown")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file instead of stdout.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="Timezone of the period's days.")
@NOW_OPTION
def report(
    db: str, period: str, households: int | None, fmt: str, out: str | None, timezone: str, now: LocalTime | None
) -> None:
    """Management report over a store: cases, on-time rates, escalations, complaint rate, Monday review list."""
    from complaintflow.report.build import build_report
    from complaintflow.report.formats import render
    from complaintflow.report.period import parse_period

    if not _is_url(db) and not Path(db).exists() and Path(db).parent.is_dir():
        _fail(f"no store at {db!r} (run 'complaintflow demo --db {db}' to make one)", 2)
    try:
        when = parse_period(period, timezone)
    except (ValueError, OverflowError) as exc:  # the shape was checked; a timezone can still push it out of range
        _fail(f"--period: {exc}", 2)
    engine = _engine(db)
    text = render(build_report(engine, when, households=households, now=_now(now, timezone)), fmt)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


@main.command()
@click.argument("process", required=False)
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Scenario YAML (arrivals, handling times, loop-backs); default: the built-in one.",
)
@click.option("--cases", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same numbers.")
@click.option(
    "--compare",
    "compare_paths",
    nargs=2,
    default=None,
    metavar="OLD NEW",
    help="Run the scenario against two versions of a process and show the difference.",
)
@format_option("text", "json", "html")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file instead of stdout.")
def simulate(
    process: str | None,
    scenario_path: str | None,
    cases: int,
    seed: int,
    compare_paths: tuple[str, str] | None,
    fmt: str,
    out: str | None,
) -> None:
    """What-if: synthetic complaints through the real engine on a simulated clock."""
    from complaintflow.simulate import load_scenario, render, simulate_compare
    from complaintflow.simulate import simulate as run_simulation
    from complaintflow.simulate.render import Format

    if bool(process) == bool(compare_paths):
        _fail("give a PROCESS, or --compare OLD NEW", 2)
    scenario = load_scenario(scenario_path)
    bar = click.progressbar(length=cases, label="simulating", file=sys.stderr, show_pos=True)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.pos)

    with bar:
        if compare_paths:
            old, new = (resolve_process_path(p) for p in compare_paths)
            result: Any = simulate_compare(old, new, scenario, cases, seed, progress)
        else:
            result = run_simulation(resolve_process_path(process or ""), scenario, cases, seed, progress)
    text = render(result, cast("Format", fmt))  # click.Choice has checked it is one of the three
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(text)


@main.command()
@click.option("--db", default=None, help="Store file to write (default: a new temporary file).")
def demo(db: str | None) -> None:
    """Run a scripted working day of complaints through every bundled process and print the timeline."""
    import tempfile

    from complaintflow import CaseQuery, Engine
    from complaintflow.demo import DemoStats, run_demo
    from complaintflow.resources import processes_dir

    path: Path | str = Path(db) if db else Path(tempfile.mkdtemp(prefix="complaintflow-demo-")) / "demo.db"
    if db and _is_url(db):  # a PostgreSQL store: an empty one
        engine = _engine(db)
        if engine.cases(CaseQuery(limit=1)):
            _fail(f"{_shown_db(db)} already holds cases; the demo writes a new store (pass another --db)", 2)
        path = _shown_db(db)
    elif Path(path).exists():
        _fail(f"{path} already exists; the demo writes a new store (pass another --db)", 2)
    else:
        engine = Engine(path)
    files = sorted(processes_dir().glob("*.yaml"))
    click.echo(f"complaintflow demo: {len(files)} processes, simulated clock, store {path}\n", err=True)
    stats = DemoStats()
    for line in run_demo(engine, files, stats):
        click.echo(line)
    click.echo(
        f"\n{stats.cases} cases, {stats.actions} actions, {stats.closed} closed; deadlines met on time "
        f"{stats.met_on_time}, met late {stats.met_late}, breached {stats.breaches}; "
        f"{stats.escalations} escalation steps (deepest: step {stats.deepest_step})"
    )
    click.echo(
        f"store kept at {path}: try  complaintflow cases --db {path}  and  complaintflow verify --db {path}", err=True
    )


# -- the service ------------------------------------------------------------------------------


def _service_clock(clock_file: str | None) -> Any:
    """The service's clock: the wall clock, or (for tests and rehearsals) the local time written in a file,
    read on every call, so a test moves the running service's time by rewriting the file."""
    if clock_file is None:
        import time

        return time.time
    from complaintflow.calendar import parse_local

    last = [0.0]

    def read() -> float:
        try:
            last[0] = float(parse_local(Path(clock_file).read_text(encoding="utf-8").strip(), "Asia/Shanghai"))
        except (OSError, ValueError):
            pass  # half-written or missing: keep the last good time
        return last[0]

    if read() == 0.0:
        _fail(f"--clock-file {clock_file}: no readable local time in it (e.g. 2025-11-03 10:00)", 2)
    return read


def _service_options(command: F) -> F:
    """The options ``serve`` and ``worker`` share: where the store, the directory and the processes are."""
    for option in reversed(
        (
            click.option(
                "--db",
                default=None,
                envvar="COMPLAINTFLOW_DB",
                help="SQLite store file or postgresql:// URL (environment: COMPLAINTFLOW_DB)  "
                "[default: complaintflow.db]",
            ),
            click.option(
                "--directory",
                default=None,
                envvar="COMPLAINTFLOW_DIRECTORY",
                help="Deprecated: an SQLite file for users, tokens and deliveries beside a PostgreSQL --db "
                "(environment: COMPLAINTFLOW_DIRECTORY); by default they are in the store's own database or file.",
            ),
            click.option(
                "--processes",
                "processes_path",
                type=click.Path(file_okay=False),
                default=None,
                help="Folder of process files (default: the bundled ones).",
            ),
            click.option(
                "--config", "config_path", default=None, help="Service configuration YAML (schemas/serve.schema.json)."
            ),
            click.option(
                "--db-wait",
                type=click.FloatRange(min=0),
                default=60.0,
                show_default=True,
                help="Seconds to wait for a PostgreSQL --db that does not answer yet, retrying with back-off "
                "(0: fail at once).",
            ),
        )
    ):
        command = option(command)
    return command


def _log_options(command: F) -> F:
    command = click.option(
        "--clock-file", default=None, hidden=True, help="Read the time from this file (tests, rehearsals)."
    )(command)
    return click.option(
        "--log-format",
        type=click.Choice(["json", "text"]),
        default="json",
        show_default=True,
        help="Log lines as JSON objects or as plain text.",
    )(command)


def _build_service(
    db: str | None,
    directory: str | None,
    processes_path: str | None,
    config_path: str | None,
    log_format: str,
    clock_file: str | None,
    db_wait: float,
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
) -> tuple[Any, Path, str]:
    """The service ``serve`` and ``worker`` run, its folder of processes and its store."""
    import time

    from complaintflow.resources import processes_dir
    from complaintflow.service.build import build_service
    from complaintflow.service.config import ConfigError, load_config
    from complaintflow.service.logs import configure

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        _fail("the service configuration has errors", 2)
    config.db = db or config.db or "complaintflow.db"
    directory_file = _directory_file(config.db, directory)
    config.host = host or config.host
    config.port = config.port if port is None else port
    config.workers = workers
    folder = Path(processes_path or config.processes or processes_dir())
    if not folder.is_dir():
        _fail(f"--processes: no folder {str(folder)!r}", 2)
    configure(log_format)
    clock = _service_clock(clock_file)
    if _is_url(config.db):
        _wait_for_database(config.db, db_wait)
        if clock_file is None:  # every process on the database fires by the database's clock
            from complaintflow.service.skew import CorrectedClock
            from complaintflow.store.postgres import database_time

            url = config.db
            clock = CorrectedClock(time.time, lambda: database_time(url))
    service = build_service(config, clock, folder, wall_clock=time.time, env=os.environ, directory=directory_file)
    return service, folder, config.db


@main.command()
@_service_options
@click.option("--host", default=None, help="Address to listen on  [default: 127.0.0.1]")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port  [default: 8080; 0 picks a free one]")
@click.option("--demo", is_flag=True, help="Seed the scripted demo day into an empty store and add a demo user.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Service processes on the one address, each with the HTTP API, the scheduler and the notifier; one "
    "process runs its Python on one core (docs/service.md).",
)
@_log_options
def serve(
    db: str | None,
    directory: str | None,
    processes_path: str | None,
    config_path: str | None,
    host: str | None,
    port: int | None,
    demo: bool,
    workers: int,
    log_format: str,
    clock_file: str | None,
    db_wait: float,
) -> None:
    """Run the complaint desk: the HTTP API, the scheduler and the notifier in one process (or --workers)."""
    metrics_folder = _shared_metrics_folder() if workers > 1 else None

    def build() -> Any:
        return _build_service(
            db, directory, processes_path, config_path, log_format, clock_file, db_wait, host, port, workers
        )

    try:
        _serve(build, demo, workers)
    finally:
        if metrics_folder is not None:
            import shutil

            shutil.rmtree(metrics_folder, ignore_errors=True)


def _shared_metrics_folder() -> str | None:
    """A folder for the workers' metric files (prometheus-client's multiprocess mode), named in the environment
    before the library is first imported, which is when it reads it; None when the operator named one (kept)."""
    import tempfile

    if "prometheus_client" in sys.modules:  # imported already: too late for the library to see the folder
        _fail("--workers: the metrics library was loaded before the workers' metrics folder was set", 1)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    folder = tempfile.mkdtemp(prefix="complaintflow-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def _serve(build: Callable[[], Any], demo: bool, workers: int) -> None:
    """The service ``build`` makes, its first admin (and ``--demo`` day) made once, run in one process or
    as ``workers`` forked ones."""
    from complaintflow.service.build import first_run, seed_demo_day

    service, folder, store = build()
    secrets = first_run(service.desk, demo=demo)
    if demo:
        click.echo(seed_demo_day(service.desk, folder), err=True)
    count = len(service.desk.every_latest())
    click.echo(f"complaintflow serve: {count} processes, store {_shown_db(store)}", err=True)
    if secrets.admin_token:
        click.echo(f"admin token (shown once, keep it): {secrets.admin_token}", err=True)
    if secrets.demo_token:
        click.echo(f"demo user token (holds every role): {secrets.demo_token}", err=True)
    for user_id, roles, password in secrets.demo_staff:
        click.echo(f"demo staff login for the web pages: user {user_id} password {password} ({roles})", err=True)
    if workers == 1:
        sys.exit(service.serve(lambda line: click.echo(line, err=True)))
    sys.exit(_serve_workers(service, workers, build))


def _serve_workers(service: Any, workers: int, build: Callable[[], Any]) -> int:
    """``serve --workers N``: this process binds the address and keeps N forked service processes on it."""
    import socket
    import time

    from complaintflow.service.runner import address, listen

    if not hasattr(os, "fork"):
        _fail("--workers needs a system that can fork processes (Linux, macOS); run one serve per port instead", 2)
    from complaintflow.service.workers import Supervisor

    def announce(line: str) -> None:
        click.echo(line, err=True)

    service.desk.close()  # no store connection may cross the fork: each worker opens its own
    # Worker 0 accepts on the socket bound here, which stays open in this process: connections that come
    # before the workers are up, or while worker 0 is started again, wait in its backlog. Every other
    # worker binds a socket of its own on the port (SO_REUSEPORT), and the kernel spreads connections evenly.
    first = listen(service.host, service.port, shared=True)
    host, port = first.getsockname()[:2]
    announce(f"complaintflow serve: listening on {address(first)}")

    def run_worker(number: int) -> int:
        if number == 0 or not hasattr(socket, "SO_REUSEPORT"):  # without it, all accept on the one socket
            return int(build()[0].serve(announce, first))
        first.close()  # this process's copy only
        return int(build()[0].serve(announce, listen(host, port, shared=True)))

    return Supervisor(workers, run_worker, now=time.monotonic, sleep=time.sleep, announce=announce).run()


@main.command()
@_service_options
@_log_options
def worker(
    db: str | None,
    directory: str | None,
    processes_path: str | None,
    config_path: str | None,
    log_format: str,
    clock_file: str | None,
    db_wait: float,
) -> None:
    """Run the scheduler and the notifier without the HTTP API: one more worker on a shared (PostgreSQL) store."""
    service, _, store = _build_service(db, directory, processes_path, config_path, log_format, clock_file, db_wait)
    click.echo(
        f"complaintflow worker: {len(service.desk.every_latest())} processes, store {_shown_db(store)}", err=True
    )
    sys.exit(service.work(lambda line: click.echo(line, err=True)))


def _wait_for_database(db: str, total: float) -> None:
    """Open and close the store until the database answers, for up to ``total`` seconds (a service may
    start before its database); what is refused for good (a wrong password) fails at once."""
    import random
    import time

    from complaintflow.service.retry import wait_for
    from complaintflow.store.open import open_store

    def attempt() -> None:
        open_store(db).close()

    wait_for(
        attempt, total=total, now=time.monotonic, sleep=time.sleep, say=lambda line: click.echo(line, err=True),
        rng=random.Random(),
    )  # fmt: skip


def _shown_db(db: str) -> str:
    """The store as a message names it: a URL without its password."""
    if _is_url(db):
        from complaintflow.store.postgres import shown_url

        return str(shown_url(db))
    return db


def _is_url(db: str) -> bool:
    from complaintflow.store.open import is_database_url

    return is_database_url(db)


def _directory_file(db: str, directory: str | None) -> str | None:
    """An SQLite file for the service's users, tokens and deliveries, if ``--directory`` (or
    COMPLAINTFLOW_DIRECTORY) names one beside a PostgreSQL store: accepted for one more release, with a
    note. None: the tables are beside the store (in its SQLite file or its PostgreSQL database)."""
    if not _is_url(db):
        return directory
    directory = directory or os.environ.get("COMPLAINTFLOW_DIRECTORY")
    if directory:
        click.echo(
            "note: --directory / COMPLAINTFLOW_DIRECTORY is deprecated and goes in the next release: a PostgreSQL "
            "store keeps the service's tables in its own database (docs/postgres.md)",
            err=True,
        )
    return directory or None


def _directory(db: str) -> Any:
    """The service tables of an existing store (users, tokens, deliveries)."""
    from complaintflow.store.open import open_directory

    if _is_url(db):
        _engine(db).close()  # refuses what is not a store
        path = _directory_file(db, None)
        if path is not None and not Path(path).is_file():
            _fail(f"no directory at {path!r} (unset COMPLAINTFLOW_DIRECTORY: the directory is in the database)", 2)
        return open_directory(db, path)
    if not Path(db).is_file():
        _fail(f"no store at {db!r} (run 'complaintflow serve --db {db}' once to make one)", 2)
    _engine(db).close()  # refuses a file that is not a complaintflow store, and upgrades an old one
    return open_directory(db)


def _tenant_named(name: str | None) -> str | None:
    """A tenant named on the command line, checked (a bad name: one line, exit 2); None stays None."""
    from complaintflow.tenants import check_tenant

    return None if name is None else check_tenant(name)


def contact_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--contact", "contacts", multiple=True, type=NameValueType(), metavar="CHANNEL=ADDRESS", help=help_text
    )


@main.group()
def users() -> None:
    """The people of the complaint desk: who they are, which roles they hold, how to reach them."""


@users.command("add")
@click.argument("user_id")
@click.option("--name", required=True, help="Display name, e.g. 王芳.")
@click.option("--role", "roles", multiple=True, help="A role for every process, or PROCESS:ROLE (may repeat).")
@contact_option("e.g. mobile=13800000000, email=a@b.cn, wecom_userid=WangFang (may repeat).")
@click.option("--admin", is_flag=True, help="May manage users, tokens and processes.")
@click.option("--password-stdin", is_flag=True, help="Read a login password from standard input.")
@click.option(
    "--tenant",
    default=None,
    help="The tenant (a property group, a customer company) the user works in; its tokens see only it  "
    "[default: complaintflow --tenant, else default]",
)
@DB_OPTION
def users_add(
    user_id: str,
    name: str,
    roles: tuple[str, ...],
    contacts: tuple[tuple[str, str], ...],
    admin: bool,
    password_stdin: bool,
    tenant: str | None,
    db: str,
) -> None:
    """Add a user to the store's directory, in one tenant (user ids are unique across tenants)."""
    from complaintflow.store.directory import User
    from complaintflow.tenants import check_tenant

    tenant = check_tenant(tenant) if tenant is not None else _tenant()  # checked before the store opens
    directory = _directory(db)
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if len(password) < 8:
            _fail("a password needs at least 8 characters", 2)
    from complaintflow.service.auth import hash_password

    password_hash = hash_password(password) if password else None
    user = User(user_id, name, tuple(roles), dict(contacts), admin, password_hash, tenant)
    directory.add_user(user, _now(None))
    click.echo(f"added {user_id} ({name}) to tenant {tenant}: roles {', '.join(roles) or 'none'}")


@users.command("edit")
@click.argument("user_id")
@click.option("--name", help="A new display name.")
@click.option("--role", "roles", multiple=True, help="The user's roles from now on, replacing the old (may repeat).")
@click.option("--no-roles", is_flag=True, help="Take every role away.")
@contact_option("Add or change one contact (may repeat); an empty ADDRESS removes it.")
@click.option("--admin/--no-admin", default=None, help="Give or take away the admin role.")
@click.option("--password-stdin", is_flag=True, help="Read a new login password from standard input.")
@DB_OPTION
def users_edit(
    user_id: str,
    name: str | None,
    roles: tuple[str, ...],
    no_roles: bool,
    contacts: tuple[tuple[str, str], ...],
    admin: bool | None,
    password_stdin: bool,
    db: str,
) -> None:
    """Change a user: name, roles, contacts, admin, password. What is not given stays."""
    from dataclasses import replace

    if roles and no_roles:
        _fail("--role and --no-roles contradict each other", 2)
    directory = _directory(db)
    user = directory.user(user_id)
    if user is None:
        _fail(f"no user {user_id!r} (complaintflow users list shows them)", 1)
    new_contacts = dict(user.contacts)
    for channel, address in contacts:
        if address:
            new_contacts[channel] = address
        else:
            new_contacts.pop(channel, None)
    password_hash = user.password_hash
    if password_stdin:
        from complaintflow.service.auth import hash_password

        password = sys.stdin.readline().rstrip("\n")
        if len(password) < 8:
            _fail("a password needs at least 8 characters", 2)
        password_hash = hash_password(password)
    changed = replace(
        user,
        name=name or user.name,
        roles=() if no_roles else tuple(roles) if roles else user.roles,
        contacts=new_contacts,
        admin=user.admin if admin is None else admin,
        password_hash=password_hash,
    )
    directory.update_user(changed)
    click.echo(f"changed {user_id} ({changed.name}): roles {', '.join(changed.roles) or 'none'}")


@users.command("disable")
@click.argument("user_id")
@DB_OPTION
def users_disable(user_id: str, db: str) -> None:
    """Disable a user who has left: logins, sessions and tokens stop; histories still name them."""
    _directory(db).disable_user(user_id, _now(None))
    click.echo(f"disabled {user_id}: their sessions and tokens are revoked")


@users.command("list")
@click.option("--tenant", default=None, help="Only this tenant's users  [default: every tenant's]")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def users_list(tenant: str | None, db: str, fmt: str) -> None:
    """List the users: id, name, tenant, the roles they hold, admin."""
    from complaintflow.service.app import user_json

    people = [user_json(u) for u in _directory(db).users(_tenant_named(tenant))]
    rows = [
        "\t".join([u["id"], u["name"], u["tenant"], ",".join(u["roles"])] + (["admin"] if u["admin"] else []))
        for u in people
    ]
    text = "\n".join(rows)
    _emit(fmt, people, text or "no users")


@main.group()
def tokens() -> None:
    """API tokens for integrations (the hotline system, the mini-program): shown once, hashed at rest."""


@tokens.command("create")
@click.argument("user_id")
@click.option("--label", default="", help="What the token is for.")
@click.option("--role", "roles", multiple=True, help="Limit the token to these of the user's roles.")
@DB_OPTION
def tokens_create(user_id: str, label: str, roles: tuple[str, ...], db: str) -> None:
    """Make a token for USER_ID and print it once; it sees the user's tenant only."""
    from complaintflow.service.auth import issue

    directory = _directory(db)
    user = directory.user(user_id)
    if user is None:
        _fail(f"no user {user_id!r} (complaintflow users add {user_id} --name ...)")
    secret, credential = issue(directory, user_id, "token", _now(None), label=label, roles=tuple(roles) or None)
    click.echo(secret)
    shown = f"token {credential.id} for {user_id} (tenant {user.tenant})"
    click.echo(f"{shown}: shown once, only its hash is kept", err=True)


@tokens.command("revoke")
@click.argument("token_id")
@DB_OPTION
def tokens_revoke(token_id: str, db: str) -> None:
    """Revoke a token by its id (the 8 characters after cft_)."""
    if not _directory(db).revoke(token_id, _now(None)):
        _fail(f"no live token {token_id!r}")
    click.echo(f"revoked {token_id}")


@main.group()
def deliveries() -> None:
    """Notification deliveries: list them, re-drive the dead ones."""


@deliveries.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]), default=None)
@click.option("--tenant", default=None, help="Only this tenant's deliveries  [default: every tenant's]")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def deliveries_list(status: str | None, tenant: str | None, db: str, fmt: str) -> None:
    """List deliveries, newest last: id, tenant, status, attempts, last error."""
    rows = _directory(db).deliveries(status, 1000, _tenant_named(tenant))
    data = [
        {
            "id": d.id,
            "tenant": d.tenant,
            "channel": d.channel,
            "status": d.status,
            "attempts": d.attempts,
            "last_error": d.last_error,
        }
        for d in rows
    ]
    text = "\n".join(f"{d['id']}\t{d['tenant']}\t{d['status']}\t{d['attempts']}\t{d['last_error'] or ''}" for d in data)
    _emit(fmt, data, text or "no deliveries")


@deliveries.command("redrive")
@click.argument("delivery_id")
@DB_OPTION
def deliveries_redrive(delivery_id: str, db: str) -> None:
    """Send a dead delivery again (after fixing its channel)."""
    if not _directory(db).redrive(delivery_id, _now(None)):
        _fail(f"delivery {delivery_id!r} is not dead (or does not exist)")
    click.echo(f"{delivery_id}: pending again")


if __name__ == "__main__":
    main()
