"""The dac command line: validate, test and build detection rules.

Each subcommand is a thin shell around a library function so the same work can
be driven from tests and from other tools; this module only parses arguments,
prints results and chooses the exit code (0 success, 1 findings or failures,
2 usage or input errors, 3 an internal error: a bug in dac).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Iterator, NoReturn

from dac import cli_data
from dac.errors import DacError, DacWarning, Location
from dac.output.escape import json_safe, printable

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def _emit_json(payload: dict) -> None:
    """``--format json``: one JSON document on stdout, the only thing written there."""
    sys.stdout.write(json_safe(json.dumps(payload, indent=2, ensure_ascii=False)) + "\n")


def _where(location) -> dict:
    return {"file": location.path, "line": location.line or None, "column": location.column or None}


class _Progress:
    """A one-line ``verb done/total path`` counter on stderr while a long command runs.

    Shown only when stderr is a terminal and the environment variable CI is unset;
    silent in pipes, files and CI logs. The line is erased when the work ends.
    """

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.enabled = sys.stderr.isatty() and "CI" not in os.environ
        self.shown = False

    def __call__(self, done: int, total: int, path: object = "") -> None:
        self.show(f"{self.verb} {done + 1}/{total} {path}")

    def show(self, line: str) -> None:
        if not self.enabled:
            return
        width = shutil.get_terminal_size((80, 20)).columns - 1
        sys.stderr.write("\r\x1b[K" + printable(line)[:width])
        sys.stderr.flush()
        self.shown = True

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _cmd_validate(args: argparse.Namespace) -> int:
    from dac.validate import validate_paths

    with _Progress("validating") as progress:
        if progress.enabled:  # validate_paths has no per-rule hook: one status line for the whole run
            from dac.rules.model import discover_rule_files

            progress.show(f"validating {len(discover_rule_files(args.paths))} rule file(s) ...")
        findings = validate_paths(args.paths, base=args.base, jobs=args.jobs)
    suppressed = [f for f in findings if f.suppressed]
    counted = [f for f in findings if not f.suppressed]
    errors = [f for f in counted if not isinstance(f, DacWarning)]
    failed = EXIT_INTERNAL if any(f.check == "internal" for f in errors) else EXIT_FINDINGS  # a bug in dac: 3
    warnings = len(counted) - len(errors)
    if args.format == "json":
        _emit_json({"command": "validate", "ok": not errors, "errors": len(errors), "warnings": warnings,
                    "suppressed": len(suppressed),
                    "findings": [{**_where(f.location), "message": f.message, "check": f.check,
                                  "severity": "warning" if isinstance(f, DacWarning) else "error",
                                  **({"suppressed": f.suppressed} if f.suppressed else {}),
                                  "detail": getattr(f, "detail", "").splitlines()} for f in findings]})
        return failed if errors else EXIT_OK
    if args.format == "sarif":
        from dac.output.sarif import write_log

        write_log(sys.stdout, findings, failed if errors else EXIT_OK)
        return failed if errors else EXIT_OK
    if args.format == "github":  # annotations replace the finding lines; stdout holds nothing else
        from dac.output.github import write_annotations

        write_annotations(sys.stdout, findings)
    for finding in findings if args.format == "text" else ():
        label = "warning: " if isinstance(finding, DacWarning) else ""
        if finding.suppressed:
            label = f"suppressed ({finding.suppressed}): "
        print(printable(f"{finding.location}: {label}{finding.message} [{finding.check}]"), file=sys.stderr)
        for line in getattr(finding, "detail", "").splitlines():
            print(f"    {printable(line)}", file=sys.stderr)
    tail = "".join([f", {warnings} warning(s)" if warnings else "", f", {len(suppressed)} suppressed" if suppressed else ""])
    if errors:
        print(f"{len(errors)} problem(s) found{tail}", file=sys.stderr)
        return failed
    print("all rules valid" + (f" ({tail[2:]})" if tail else ""), file=sys.stderr if args.format == "github" else sys.stdout)
    return EXIT_OK


def _cmd_test(args: argparse.Namespace) -> int:
    from dac.testing.runner import run_tests

    minimum = _min_mutation_score(args)
    with _Progress("testing") as progress:
        report = run_tests(args.paths, progress=progress, jobs=args.jobs, limits=_budget(args))
    if args.junit:  # before any output: an unwritable FILE is exit 2 with only the error on stdout
        from dac.testing.junit import write_junit

        write_junit(report, args.junit)
    mutation = coverage = None
    if args.mutate:
        from dac.testing.mutation import mutate_rules

        with _Progress("mutating") as progress:
            mutation = mutate_rules(args.paths, jobs=args.jobs, progress=progress)
    if args.coverage:
        from dac.testing.coverage import cover_rules

        with _Progress("measuring coverage") as progress:
            coverage = cover_rules(args.paths, jobs=args.jobs, progress=progress)
    below = mutation.below(minimum) if mutation is not None else []
    if args.format == "json":
        counts = report.counts()
        _emit_json({"command": "test", "ok": report.ok and not below, "passed": counts["PASS"],
                    "failed": counts["FAIL"], "errors": counts["ERROR"],
                    "results": [{"rule": r.rule, "case": r.case, "status": r.status, **_where(r.location),
                                 "message": r.details[0] if r.details else "", "diff": r.details[1:]}
                                for r in report.results],
                    **({"mutation": mutation.to_json(minimum)} if mutation is not None else {}),
                    **({"coverage": coverage.to_json()} if coverage is not None else {})})
        return _test_exit(report, below)
    print(report.render(verbose=args.verbose))
    if mutation is not None:
        print(mutation.render(minimum, verbose=args.verbose))
    if coverage is not None:
        print(coverage.render())
    return _test_exit(report, below)


def _min_mutation_score(args: argparse.Namespace) -> float | None:
    """--min-mutation-score, else [tool.dac] min-mutation-score; only with --mutate."""
    from dac import config
    from dac.testing.mutation import parse_min_score

    if args.min_mutation_score is not None and not args.mutate:
        raise DacError("--min-mutation-score needs --mutate, which computes the score")
    if args.min_mutation_score is not None:
        return parse_min_score(args.min_mutation_score, Location("--min-mutation-score"), "--min-mutation-score")
    return config.current().min_mutation_score if args.mutate else None


def _test_exit(report, below: list | None = None) -> int:
    """0 all passed, 1 a case failed or erred or a rule's mutation score is below the minimum,
    3 a case met a bug in dac (the other cases still ran)."""
    if report.internal:
        return EXIT_INTERNAL
    return EXIT_OK if report.ok and not below else EXIT_FINDINGS


def _build_failed(args: argparse.Namespace, exc) -> int:
    """build/pack refused: every bad file, one located error each; nothing was written."""
    for error in exc.errors:
        print(f"error: {printable(error)}", file=sys.stderr)
    print(f"{exc.summary}; {printable(args.out)} is unchanged", file=sys.stderr)
    if args.format == "json":
        _emit_json({"command": args.command, "ok": False, "error": {**_where(exc.location), "message": exc.message},
                    "errors": [{**_where(e.location), "message": e.message} for e in exc.errors]})
    return EXIT_USAGE


def _cmd_build(args: argparse.Namespace) -> int:
    from dac.render import BuildFailed, build

    try:
        built = build(args.paths, Path(args.out))
    except BuildFailed as exc:
        return _build_failed(args, exc)
    for note in built.notes:
        print(printable(note), file=sys.stderr)
    if args.format == "json":
        _emit_json({"command": "build", "ok": True, "out": args.out, "artifacts": [str(p) for p in built.artifacts],
                    "notes": [{**_where(n.location), "message": n.message} for n in built.notes]})
        return EXIT_OK
    print(f"wrote {len(built.artifacts)} artifact(s) to {printable(args.out)}")
    return EXIT_OK


def _cmd_pack(args: argparse.Namespace) -> int:
    from dac.pack import build_pack
    from dac.render import BuildFailed

    try:
        packed = build_pack(args.paths, Path(args.out), args.version, previous=args.previous, base=args.base)
    except BuildFailed as exc:
        return _build_failed(args, exc)
    for note in packed.notes:
        print(printable(note), file=sys.stderr)
    if args.format == "json":
        import zipfile

        with zipfile.ZipFile(packed.path) as archive:
            members = archive.namelist()
        _emit_json({"command": "pack", "ok": True, "version": args.version, "artifacts": [str(packed.path)],
                    "members": members, "notes": [{**_where(n.location), "message": n.message} for n in packed.notes]})
        return EXIT_OK
    print(f"wrote rule pack {args.version} to {printable(packed.path)}")
    return EXIT_OK


def _cmd_deploy(args: argparse.Namespace) -> int:
    from dac.deploy import build_requests, desired_rules, load_export, plan

    target = (args.subscription, args.resource_group, args.workspace)
    if not args.dry_run:
        print("error: dac deploy only runs with --dry-run. A real deployment needs --subscription, --resource-group, "
              "--workspace and an Azure token for https://management.azure.com/; it is sent by the pipeline "
              "(see README, Deploying), never by this command", file=sys.stderr)
        return EXIT_USAGE
    if not args.current:
        raise DacError("--dry-run needs --current EXPORT.json, the workspace's rules as the ARM list API returns them")
    if any(target) and not all(target):
        raise DacError("give all of --subscription, --resource-group and --workspace, or none")
    desired = desired_rules(args.paths)
    drift = plan(desired, load_export(args.current), prune=args.prune)
    requests = []
    if all(target):
        requests = build_requests(desired, subscription=args.subscription, resource_group=args.resource_group,
                                  workspace=args.workspace, drift=drift)
    if args.format == "json":
        _emit_json({"command": "deploy", "dry_run": True, "report": drift.report().splitlines(),
                    "requests": [{"method": method, "url": url, "body": body} for method, url, body in requests]})
        return EXIT_OK
    sys.stdout.write(drift.report())
    for method, url, _body in requests:
        print(f"would send: {method} {url}")
    return EXIT_OK


def _read_query(source: str, check: bool):
    """The query text of ``source`` and the rule it came from (None for .kql and stdin).

    With ``check`` a file that holds no query to lay out (a test file, a rule stub
    without a query) gives ``(None, None)``: pre-commit passes every changed YAML file.
    """
    from dac.files import MAX_QUERY_BYTES, decode_utf8, read_text
    from dac.rules.model import is_test_file, load_rule

    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)  # None: a text stream put in its place (tests, embedding)
        data = (stream or sys.stdin).read(MAX_QUERY_BYTES + 1)
        if len(data) > MAX_QUERY_BYTES:
            raise DacError(f"standard input holds more than {MAX_QUERY_BYTES} bytes; a query is expected to be small",
                           Location("<stdin>"))
        text = data if isinstance(data, str) else decode_utf8(data, "<stdin>", keep_bom=True)
        return _universal_newlines(text), None
    if source.endswith((".yaml", ".yml")):
        if check and is_test_file(Path(source)):
            return None, None
        rule = load_rule(source)
        if rule.query is None:
            if check:
                return None, None
            raise DacError("rule has no query", rule.location())
        return rule.query, rule
    return _universal_newlines(read_text(source, MAX_QUERY_BYTES, too_large="a query is expected to be small",
                                         keep_bom=True)), None


def _universal_newlines(text: str) -> str:
    """CRLF and CR as LF, as a text-mode read gives them (``dac fmt --write`` reads .kql files alike)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _cmd_fmt(args: argparse.Namespace) -> int:
    from dac.kql import KqlSyntaxError
    from dac.kql.formatter import format_text

    if args.write and args.check:
        raise DacError("--write and --check cannot be used together: --check only reports, --write rewrites")
    if args.write:
        return _fmt_write(args)
    if len(args.sources) > 1 and not args.check:
        raise DacError("dac fmt prints one SOURCE; use --check to check several (or --write to rewrite them)")
    status, unformatted = EXIT_OK, []
    for source in args.sources:
        text, origin = _read_query(source, args.check)
        if text is None:
            continue
        try:
            formatted = format_text(text)
        except KqlSyntaxError as exc:
            where = origin.query_location(exc.line, exc.column) if origin else f"{source}:{exc.line}:{exc.column}"
            print(printable(f"{where}: {exc.message}"), file=sys.stderr)
            for line in exc.caret().splitlines():
                print(printable(line), file=sys.stderr)
            status = EXIT_FINDINGS
            continue
        if not args.check:
            if args.format == "json":
                _emit_json({"command": "fmt", "source": source, "query": formatted})
            else:
                sys.stdout.write(formatted)
        elif formatted != text:
            unformatted.append(source)
            if args.format != "json":
                print(printable(f"{source}: query is not in the canonical layout (see: dac fmt {source})"))
    if args.check and args.format == "json":
        _emit_json({"command": "fmt", "ok": not unformatted and status == EXIT_OK, "unformatted": unformatted})
    elif unformatted:
        print(f"{len(unformatted)} file(s) to reformat")
    return EXIT_FINDINGS if unformatted else status


def _fmt_write(args: argparse.Namespace) -> int:
    """``dac fmt --write``: rewrite the files in place; exit 1 when a file was left unchanged for an error."""
    from dac.rules.rewrite import format_files

    report = format_files(args.sources)
    if args.format == "json":
        _emit_json({"command": "fmt", "ok": not report.errors, "reformatted": report.reformatted,
                    "findings": [{**_where(e.location), "message": e.message} for e in report.errors]})
        return EXIT_FINDINGS if report.errors else EXIT_OK
    for error in report.errors:
        print(printable(f"{error.location}: {error.message}"), file=sys.stderr)
        for line in error.detail.splitlines():
            print(printable(line), file=sys.stderr)
    for source in report.reformatted:
        print(f"reformatted {printable(source)}")
    print(f"{len(report.reformatted)} file(s) reformatted"
          + (f", {len(report.errors)} left unchanged for errors" if report.errors else ""))
    return EXIT_FINDINGS if report.errors else EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from dac.importer import import_sources

    written = import_sources(args.sources, Path(args.out), force=args.force)
    if args.format == "json":
        _emit_json({"command": "import", "written": [str(p) for p in written]})
        return EXIT_OK
    for path in written:
        print(f"wrote {printable(path)}")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from dac.report import build_report

    written = build_report(args.paths, Path(args.out), mutate=args.mutate)
    if args.format == "json":
        _emit_json({"command": "report", "written": [str(p) for p in written]})
        return EXIT_OK
    print(f"wrote {', '.join(p.name for p in written)} to {printable(args.out)}")
    return EXIT_OK


_PATHS_HELP = ("rule files, their test files or folders of them (default: the rules folders of [tool.dac] "
               "rules, else detections/)")


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _format_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--format", choices=("text", "json"), default="text",
                         help="json: one JSON document on stdout for machines (exit codes unchanged)")


# --flag -> (the Limits field it sets, help); each is also a [tool.dac] setting of the same name
_BUDGET_FLAGS = {
    "max-rows": ("rows", "rows all operators of one evaluation may materialise (default 10,000,000)"),
    "max-value-mb": ("value_mb", "MB of strings and dynamic values functions of one evaluation may build "
                                 "(default 1024)"),
    "max-series-points": ("series_points", "make-series points of one evaluation (default 10,000,000)"),
    "max-regex-groups": ("regex_groups", "capture groups one regular expression may have (default 256)"),
}


def _budget_options(command: argparse.ArgumentParser) -> None:
    """The evaluation budget's flags (dac.kql.budget); unset, the [tool.dac] setting or the default holds."""
    group = command.add_argument_group("evaluation budget (each query evaluation; also [tool.dac] settings)")
    for flag, (_limit, text) in _BUDGET_FLAGS.items():
        group.add_argument(f"--{flag}", type=_positive, metavar="N", help=text)


def _budget(args: argparse.Namespace):
    """The limits of each evaluation: the flags given over the repository's settings."""
    from dac import config

    return config.current().limits.replace(**{limit: getattr(args, flag.replace("-", "_"))
                                              for flag, (limit, _text) in _BUDGET_FLAGS.items()})


def _engine_options(command: argparse.ArgumentParser, what: str) -> None:
    """--engine and --spark-master, as dac run and dac simulate take them."""
    command.add_argument("--engine", choices=("python", "duckdb", "spark"),
                         help=f"what runs {what}: python (the row engine), duckdb (compiled to SQL over DuckDB's own "
                              "file readers; takes folders and globs) or spark (Spark SQL, --spark-master); default: "
                              "duckdb for Parquet and for 64 MiB of data or more, else python, and python when DuckDB "
                              "cannot run it exactly")
    command.add_argument("--spark-master", metavar="URL",
                         help="with --engine spark: the Spark master (default local[*]), e.g. spark://host:7077, or a "
                              "Spark Connect URL sc://host:15002")


def _jobs_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("-j", "--jobs", type=int, metavar="N",
                         help="worker processes for large rule sets (default: one per core; 1 runs in-process)")


class _Parser(argparse.ArgumentParser):
    """argparse that suggests the closest subcommand or choice for a mistyped one."""

    def error(self, message: str) -> NoReturn:
        import re

        from dac.errors import did_you_mean

        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2)) or [c.strip() for c in match.group(2).split(",")]
            message += did_you_mean(match.group(1), choices, 0.6)
        super().error(message)


_EPILOG = ("exit codes: 0 ok (warnings allowed), 1 findings or failed test cases, 2 bad input or usage, "
           "3 internal error (a bug in dac)")


def make_parser() -> argparse.ArgumentParser:
    from dac import __version__

    parser = _Parser(prog="dac", description="Detection as code for Microsoft Sentinel and Defender XDR: "
                                             "validate, test, build and pack KQL rules.", epilog=_EPILOG)
    parser.add_argument("--version", action="version", version=f"dac {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    validate = sub.add_parser("validate", help="check rule files: schema, ids, KQL syntax")
    validate.add_argument("paths", nargs="*", metavar="PATH", help=_PATHS_HELP)
    validate.add_argument("--base", help="git revision to check version discipline against (e.g. origin/main)")
    _jobs_option(validate)
    validate.set_defaults(func=_cmd_validate)
    validate.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text",
                          help="json: one JSON document on stdout; sarif: a SARIF 2.1.0 log on stdout (code "
                               "scanning); github: GitHub Actions annotations on stdout (exit codes unchanged)")

    test = sub.add_parser("test", help="run every rule's test cases over their fixtures")
    test.add_argument("paths", nargs="*", metavar="PATH", help=_PATHS_HELP)
    test.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    _jobs_option(test)
    _budget_options(test)
    test.set_defaults(func=_cmd_test)
    _format_option(test)
    test.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML to FILE (atomically)")
    test.add_argument("--mutate", action="store_true",
                      help="also plant faults in each query (mutants) and report how many the cases catch, "
                           "with each surviving mutant at file:line:col")
    test.add_argument("--min-mutation-score", metavar="SCORE",
                      help="with --mutate: exit 1 when a rule scores below SCORE (0..1 or a percentage like 80%%; "
                           "default: [tool.dac] min-mutation-score)")
    test.add_argument("--coverage", action="store_true",
                      help="also list each where-predicate no case made both true and false, at file:line:col")

    build_cmd = sub.add_parser("build", help="render deployable artifacts")
    build_cmd.add_argument("paths", nargs="*", metavar="PATH", help=_PATHS_HELP)
    build_cmd.add_argument("--out", required=True, help="output directory (replaced atomically)")
    build_cmd.set_defaults(func=_cmd_build)
    _format_option(build_cmd)
    pack = sub.add_parser("pack", help="build a versioned, reproducible rule pack (zip)")
    pack.add_argument("paths", nargs="*", metavar="PATH", help=_PATHS_HELP)
    pack.add_argument("--out", required=True, help="the .zip to write (replaced atomically)")
    pack.add_argument("--version", required=True, help="the pack's semantic version, e.g. 1.4.0")
    pack.add_argument("--previous", help="the previous pack (.zip) to compute the changelog against")
    pack.add_argument("--base", help="a git revision to compute the changelog against instead")
    pack.set_defaults(func=_cmd_pack)
    _format_option(pack)

    deploy = sub.add_parser("deploy", help="compare the rules with a workspace export (drift report); never sends")
    _format_option(deploy)
    deploy.add_argument("paths", nargs="*", metavar="PATH", help=_PATHS_HELP)
    deploy.add_argument("--dry-run", action="store_true", help="report the drift only (required)")
    deploy.add_argument("--current", help="EXPORT.json: the workspace's alertRules and/or savedSearches list response")
    deploy.add_argument("--prune", action="store_true",
                        help="the workspace's Scheduled/NRT rules and hunting queries are all ours: "
                             "report those missing from PATHS as delete, not unmanaged")
    deploy.add_argument("--subscription", help="with --resource-group and --workspace: also list the requests")
    deploy.add_argument("--resource-group")
    deploy.add_argument("--workspace")
    deploy.set_defaults(func=_cmd_deploy)

    fmt = sub.add_parser("fmt", help="print a query in the canonical layout")
    _format_option(fmt)
    fmt.add_argument("sources", nargs="+", metavar="SOURCE",
                     help="a .kql file, a rule .yaml (its query) or - for standard input")
    fmt.add_argument("--check", action="store_true",
                     help="print nothing but the files whose query is not in the canonical layout; exit 1 if any")
    fmt.add_argument("--write", action="store_true",
                     help="rewrite each file's query in place in the canonical layout, keeping every other byte")
    fmt.set_defaults(func=_cmd_fmt)

    import_cmd = sub.add_parser("import", help="turn ARM templates (.json) or Azure-Sentinel files (.yaml) into rule files")
    _format_option(import_cmd)
    import_cmd.add_argument("sources", nargs="+", metavar="SOURCE",
                            help="ARM templates (.json) or Azure-Sentinel rule files (.yaml) to import")
    import_cmd.add_argument("--out", required=True, help="directory to write <slug of rule name>.yaml files into")
    import_cmd.add_argument("--force", action="store_true",
                            help="replace files that already exist, when each is the rule file of the same id "
                                 "(never any other file)")
    import_cmd.set_defaults(func=_cmd_import)

    run = sub.add_parser("run", help="back-test a query or rule over files of log rows (JSON lines, CSV, Parquet)")
    _format_option(run)
    run.add_argument("query", metavar="QUERY", help="a rule .yaml, a .kql file, - for standard input, or query text")
    run.add_argument("--data", nargs="+", required=True, metavar="[TABLE=]PATH",
                     help="data files (.jsonl, .json, .csv, each optionally .gz, or .parquet), folders of them or "
                          "globs; the table is the file (or folder) name up to its first dot unless given as "
                          "TABLE=PATH")
    run.add_argument("--platform", help="Defender or Sentinel: whose catalog types the data (default: the rule's "
                                        "platform, else the one whose catalog has every data table)")
    run.add_argument("--now", help="the clock for now() and ago(), ISO 8601 (default: the current time); set it "
                                   "to the end of the exported window")
    _budget_options(run)
    run.add_argument("--max-data-mb", type=_positive, metavar="MB",
                     help="what one .gz data file may decompress to, or one .json file (read whole) or one "
                          "line of a .jsonl file may hold, in MB (default 4096, or [tool.dac] max-data-mb); "
                          "beyond it the run stops with an error naming the file")
    _engine_options(run, "the query")
    run.add_argument("--chunk-rows", type=int, default=50_000, help=argparse.SUPPRESS)
    run.set_defaults(func=cli_data.cmd_run)

    simulate_cmd = sub.add_parser("simulate", help="replay a Scheduled or NRT rule as Sentinel's scheduler runs it: "
                                                   "runs, alerts and incidents over files of log rows")
    _format_option(simulate_cmd)
    simulate_cmd.add_argument("rule", metavar="RULE", help="a rule .yaml of kind Scheduled or NRT")
    simulate_cmd.add_argument("--data", nargs="+", required=True, metavar="[TABLE=]PATH",
                              help="data files as for dac run, typed by the Sentinel catalog")
    simulate_cmd.add_argument("--from", dest="start", required=True, metavar="T1",
                              help="the first run's scheduled time, ISO 8601 (UTC unless it says otherwise)")
    simulate_cmd.add_argument("--to", dest="end", required=True, metavar="T2",
                              help="runs are scheduled up to this time, excluded")
    _engine_options(simulate_cmd, "the query's head once (one pass, when the query reads one table; the row "
                                  "engine runs the rest per run)")
    simulate_cmd.add_argument("--chart", action="append", metavar="OUT",
                              help="also write alerts and incidents per day to OUT: a .png (needs the chart "
                                   "extra, matplotlib) or a self-contained .html page; may be repeated")
    simulate_cmd.add_argument("--max-data-mb", type=_positive, metavar="MB",
                              help="as for dac run: what one data file may decompress to or hold, in MB")
    _budget_options(simulate_cmd)
    simulate_cmd.set_defaults(func=cli_data.cmd_simulate)

    report = sub.add_parser("report", help="write an ATT&CK Navigator layer and a static HTML report of the rules")
    _format_option(report)
    report.add_argument("paths", nargs="*", metavar="PATH", help=_PATHS_HELP)
    report.add_argument("--out", required=True, help="output directory (replaced atomically)")
    report.add_argument("--mutate", action="store_true",
                        help="also run dac test --mutate's analysis and show each rule's mutation score")
    report.set_defaults(func=_cmd_report)

    from dac import fixtures, scaffold

    scaffold.register(sub)  # dac new
    fixtures.register(sub)  # dac fixtures

    completion = sub.add_parser("completion", help="print a shell completion script (bash or zsh)",
                                description='Print a completion script; load it with eval "$(dac completion bash)" '
                                            "in ~/.bashrc (or zsh in ~/.zshrc).")
    completion.add_argument("shell", choices=("bash", "zsh"), help="the shell to complete in")
    completion.set_defaults(func=_cmd_completion)
    return parser


def _cmd_completion(args: argparse.Namespace) -> int:
    from dac.completion import SHELLS

    sys.stdout.write(SHELLS[args.shell](make_parser()))
    return EXIT_OK


def _inputs(args: argparse.Namespace) -> str:
    """The positional inputs of a command, for the one-line report of an internal error."""
    named = [*(getattr(args, "paths", None) or []), *(getattr(args, "sources", None) or [])]
    for single in ("query", "table", "rule"):
        if isinstance(getattr(args, single, None), str):
            named.append(getattr(args, single))
    return " ".join(named) or "(no input)"


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code is 0 ok, 1 findings, 2 bad input or usage, 3 a bug in dac.

    No Python traceback reaches the user: an exception dac did not expect is one
    line naming the command, the input and "this is a bug in dac" (``DAC_DEBUG=1``
    shows the traceback for a bug report). A reader that closes the pipe early
    (``dac fixtures ... | head``) ends the command quietly.
    """
    from dac.output.sarif import log_on_usage_error

    words = sys.argv[1:] if argv is None else argv
    with log_on_usage_error(words), _json_on_usage_error(words):
        args = make_parser().parse_args(argv)
    try:
        if hasattr(args, "paths") and not args.paths:
            from dac import config

            args.paths = config.current().default_paths()
        return args.func(args)
    except DacError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        if getattr(args, "format", "text") == "json":
            _emit_json({"command": args.command, "ok": False,
                        "error": {**_where(exc.location), "message": exc.message}})
        elif getattr(args, "format", "text") == "sarif":
            from dac.output.sarif import write_log

            write_log(sys.stdout, [], EXIT_USAGE, failure=exc)
        elif getattr(args, "format", "text") == "github":
            from dac.output.github import annotation

            print(annotation(exc))
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"dac {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every unexpected exception is reported as a bug, in one line
        if os.environ.get("DAC_DEBUG"):
            raise
        from dac.errors import InternalError

        where = "" if isinstance(exc, InternalError) else f" (input: {_inputs(args)})"
        cause = str(exc) if isinstance(exc, InternalError) else f"{type(exc).__name__}: {exc}"
        print(f"dac {args.command}: internal error: {printable(cause + where)}; this is a bug in dac, please report it "
              "(DAC_DEBUG=1 shows the traceback)", file=sys.stderr)
        if getattr(args, "format", "text") == "json":
            _emit_json({"command": args.command, "ok": False, "error": {
                "file": None, "line": None, "column": None, "internal": True,
                "message": f"internal error: {cause + where}; this is a bug in dac"}})
        return EXIT_INTERNAL


@contextlib.contextmanager
def _json_on_usage_error(argv: list[str]) -> Iterator[None]:
    """With ``--format json``, a command line argparse rejects still gives one JSON document on stdout.

    argparse prints its message on stderr and exits 2 before dac has a namespace; the
    message is held while it parses, passed on unchanged, and put in the document.
    """
    from dac.output.sarif import requested

    if not requested(argv, "json"):
        yield
        return
    held = io.StringIO()
    try:
        with contextlib.redirect_stderr(held):
            yield
    except SystemExit as exc:
        if exc.code == EXIT_USAGE:
            lines = held.getvalue().strip().splitlines()
            command = next((word for word in argv if not word.startswith("-")), None)
            _emit_json({"command": command, "ok": False, "error": {"file": None, "line": None, "column": None,
                                                                   "message": lines[-1] if lines else "usage error"}})
        raise
    finally:
        sys.stderr.write(held.getvalue())


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail on the closed pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run() -> None:
    """The ``dac`` console script."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    sys.exit(code)


if __name__ == "__main__":
    run()
