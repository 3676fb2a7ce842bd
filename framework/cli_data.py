"""``dac run`` and ``dac simulate``: the commands that read files of log rows.

They share the data options (``--data``, ``--engine``, the budget) and print result rows or
a simulation; the rest of the command line (argument parsing, JSON on every exit, exit
codes) is ``dac.cli``'s, imported when a command runs (``dac.cli`` imports this module).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dac.errors import DacError, Location
from dac.output.escape import json_safe, printable


def cmd_run(args: argparse.Namespace) -> int:
    from dac.cli import EXIT_OK, _budget, _emit_json, _Progress, _read_query
    import time

    from dac import backtest, catalog
    from dac.engines.dispatch import run_files
    from dac.kql import KqlError, parse
    from dac.kql.binder import bind
    from dac.kql import values as V
    from dac.testing.clock import clock_option

    source = args.query
    is_text = source != "-" and not _is_file(source) and not source.endswith((".yaml", ".yml", ".kql", ".csl"))
    text, rule = (source, None) if is_text else _read_query(source, False)

    def located(error: KqlError) -> DacError:
        if rule is not None:
            from dac.testing.runner import query_error

            return query_error(rule, error)
        return DacError(error.message, Location("<query>" if is_text else source, error.line, error.column))

    try:
        tree = parse(text)
    except KqlError as exc:
        raise located(exc) from None
    names = [backtest.table_name(argument) for argument in args.data]
    platform = _run_platform(args.platform, rule, names)
    limits = _budget(args)
    binding = bind(tree, platform, limits=limits)
    if binding.errors:
        raise located(binding.errors[0])
    now = clock_option(args.now)
    with _Progress("reading") as progress:
        def report(table: str, rows: int, fraction: float | None) -> None:
            share = f" ({fraction:.0%} of its files)" if fraction is not None else ""
            progress.show(f"{table}: {rows:,} rows read{share}")

        if args.max_data_mb:
            limits = limits.replace(data_mb=args.max_data_mb)

        def python_tables():
            return backtest.file_tables(args.data, platform, args.chunk_rows, report, limits.data_mb)

        def note(text: str) -> None:
            progress.show("")
            print(f"note: {text}", file=sys.stderr)

        started = time.perf_counter()
        try:
            done = run_files(tree, args.data, platform, engine=args.engine, now=now, limits=limits,
                             python_tables=python_tables, note=note, spark_master=args.spark_master)
        except KqlError as exc:
            raise located(exc) from None
        seconds = time.perf_counter() - started
    result, read = done.result, done.rows_read
    names_out = result.names
    if args.format == "json":
        _emit_json({"command": "run", "ok": True, "platform": catalog.PLATFORMS[platform], "engine": done.engine,
                    "seconds": round(seconds, 3),
                    "rows_read": read, "columns": [{"name": n, "type": t} for n, t in result.columns],
                    "rows": json.loads(V.to_json_text([dict(zip(names_out, row)) for row in result.rows]))})
        return EXIT_OK
    try:
        _write_rows(result.columns, result.rows)
        sys.stdout.flush()
    except BrokenPipeError:  # `dac run ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    if read is None:
        print(f"{len(result.rows):,} row(s) in {seconds:.2f}s ({done.engine} engine)", file=sys.stderr)
        return EXIT_OK
    read_text = ", ".join(f"{printable(name)} {count:,}" for name, count in read.items())
    print(f"{len(result.rows):,} row(s) from {read_text} row(s) read in {seconds:.2f}s", file=sys.stderr)
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from dac.cli import EXIT_OK, _budget, _emit_json, _Progress
    from dac import backtest
    from dac.engines import dispatch
    from dac.rules.model import load_rule
    from dac.simulate import simulate
    from dac.simulate.report import render_text, to_json

    if not args.rule.endswith((".yaml", ".yml")):
        raise DacError("expected a rule file (.yaml) of kind Scheduled or NRT", Location(args.rule))
    rule = load_rule(args.rule)
    first, last = _time_option(args.start, "--from"), _time_option(args.end, "--to")
    limits = _budget(args)
    with _Progress("reading") as progress:
        def report(table: str, rows: int, fraction: float | None) -> None:
            share = f" ({fraction:.0%} of its files)" if fraction is not None else ""
            progress.show(f"{table}: {rows:,} rows read{share}")

        tables = backtest.file_tables(args.data, "sentinel", progress=report,
                                      max_data_mb=args.max_data_mb or limits.data_mb)
        engine = args.engine or dispatch.default_engine(args.data)
        sources = None if engine == "python" else \
            backtest.file_sources(args.data, "sentinel", remote=engine == "spark")

        def note(text: str) -> None:
            progress.show("")
            print(f"note: {text}", file=sys.stderr)

        simulation = simulate(rule, tables, first, last, engine=engine, limits=limits, sources=sources, note=note,
                              spark_master=args.spark_master, fallback=args.engine is None)
    charts = []
    if args.chart:
        from dac.simulate.chart import write_chart

        charts = [str(write_chart(simulation, path)) for path in args.chart]
    if args.format == "json":
        _emit_json({"command": "simulate", "ok": True, **to_json(simulation), "charts": charts})
        return EXIT_OK
    sys.stdout.write(render_text(simulation))
    for path in charts:
        print(f"wrote {printable(path)}", file=sys.stderr)
    return EXIT_OK


def _time_option(text: str, option: str):
    """An ISO 8601 time given to ``option``, naive UTC; a bad one is a usage error naming the option."""
    from dac.testing.clock import parse_clock

    try:
        return parse_clock(text)
    except ValueError as exc:
        raise DacError(f"{option}: {exc}", Location(option)) from None


def _write_rows(columns: list[tuple[str, str]], rows: list[tuple]) -> None:
    """Result rows on stdout as JSON lines, as ``V.to_json_text`` writes each (dac.output.json_lines),
    with one escape pass and write per batch of rows."""
    from dac.output.json_lines import json_lines

    for text in json_lines(columns, rows):
        sys.stdout.write(json_safe(text))


def _is_file(source: str) -> bool:
    """Whether QUERY names a file; query text too long to be a file name is not one (no OSError)."""
    try:
        return Path(source).is_file()
    except (OSError, ValueError):
        return False


def _run_platform(named: str | None, rule, tables: list[str]) -> str:
    """--platform, else the rule's first platform, else the one platform whose catalog has every table."""
    from dac import catalog

    if named:
        return catalog.normalise_platform(named)
    if rule is not None:
        return catalog.normalise_platform(rule.platforms[0])
    # the first platform that fits, found lazily: a later one's catalog (Sentinel's also reads the workspace's
    # declarations, ~0.1 s) is not loaded for tables the first already has
    fitting = next((p for p in catalog.PLATFORMS if all(catalog.table_columns(p, t) is not None for t in tables)), None)
    if fitting is None:
        raise DacError(f"no platform catalog has every data table ({', '.join(sorted(set(tables)))}); "
                       "check the file names or pass TABLE=PATH")
    return fitting
