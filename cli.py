"""complaintflow's command line: parse options, call one engine function, print.

Exit codes: 0 clean, 1 problems found or an action refused, 2 bad usage.
``--format json`` writes machine output to stdout; human summaries go to
stderr. This is the only module that imports click or reads the wall clock.
Heavy modules are imported inside commands so ``--help`` starts fast.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

VERSION = "0.1.0"
FORMATS = click.Choice(["text", "json"])


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _process_files(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                _fail(f"no .yaml files in {raw!r}", 2)
            files += found
        elif path.exists():
            files.append(path)
        else:
            _fail(f"no such file or directory: {raw!r}", 2)
    return files


def resolve_process_path(name: str) -> Path:
    """A path to a process file, or the id of one of the bundled processes."""
    path = Path(name)
    if path.exists():
        return path
    from engine.resources import processes_dir

    bundled = processes_dir() / f"{name}.yaml"
    if bundled.exists():
        return bundled
    known = sorted(p.stem for p in processes_dir().glob("*.yaml"))
    from engine.language.diagnostics import did_you_mean

    hint = did_you_mean(name, known)
    _fail(f"no process file or bundled process named {name!r}" + (f"; {hint}" if hint else "")
          + f"\nbundled processes: {', '.join(known)}", 2)


def _load(name: str) -> Any:
    from engine.language.check import check_file
    from engine.language.diagnostics import Severity, format_text

    path = resolve_process_path(name)
    process, problems = check_file(path)
    if process is None:
        click.echo(format_text(p for p in problems if p.severity is Severity.ERROR), err=True)
        _fail(f"{path} has errors; fix them first (complaintflow validate {path})", 2)
    return process


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="complaintflow")
def main() -> None:
    """Run customer-complaint handling as declarative YAML processes."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
def validate(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check process files (or folders of them); print every problem as file:line:col."""
    from engine.language.check import check_file
    from engine.language.diagnostics import Severity, format_json, format_text, has_errors

    files = _process_files(paths)
    problems = []
    for path in files:
        problems += check_file(path)[1]
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if fmt == "json":
        click.echo(format_json(problems))
    elif problems:
        click.echo(format_text(problems))
    click.echo(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)", err=True)
    sys.exit(1 if has_errors(problems) or (strict and problems) else 0)


@main.command()
@click.argument("process")
def show(process: str) -> None:
    """Print a process's roles, states, actions, deadlines and escalation chains as tables."""
    from engine.language.render import table

    click.echo(table.render(_load(process)))


@main.command()
@click.argument("process")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "markdown"]), default="mermaid",
              show_default=True, help="markdown: Mermaid inside a ```mermaid fence, as GitHub renders it.")
def graph(process: str, fmt: str) -> None:
    """Draw a process as a Mermaid state diagram or a Graphviz graph."""
    from engine.language.render import dot, mermaid

    spec = _load(process)
    text = {"mermaid": mermaid.render, "dot": dot.render, "markdown": mermaid.render_markdown}[fmt](spec)
    click.echo(text)


@main.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def diff(old: str, new: str, fmt: str) -> None:
    """Name the business changes between two versions of a process (exit 1 when they differ)."""
    import json

    from engine.language.diff import diff as semantic_diff

    changes = semantic_diff(_load(old), _load(new))
    if fmt == "json":
        click.echo(json.dumps([c.to_json() for c in changes], ensure_ascii=False, indent=2))
    else:
        for change in changes:
            click.echo(str(change))
        click.echo(f"{len(changes)} change(s)" if changes else "no business changes", err=True)
    sys.exit(1 if changes else 0)


if __name__ == "__main__":
    main()
