"""The ``dac`` command line: validate, test and build rules.

Each subcommand is a thin shell around a library function so the same work can
be driven from tests and from other tools; this module only parses arguments,
prints results and chooses the exit code (0 success, 1 findings or failures,
2 usage or input errors).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from framework.errors import DacError, DacWarning

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def _cmd_validate(args: argparse.Namespace) -> int:
    from framework.validate import validate_paths

    findings = validate_paths(args.paths, base=args.base)
    errors = [f for f in findings if not isinstance(f, DacWarning)]
    for finding in findings:
        label = "warning: " if isinstance(finding, DacWarning) else ""
        print(f"{finding.location}: {label}{finding.message}", file=sys.stderr)
        for line in getattr(finding, "detail", "").splitlines():
            print(f"    {line}", file=sys.stderr)
    warnings = len(findings) - len(errors)
    if errors:
        print(f"{len(errors)} problem(s) found" + (f", {warnings} warning(s)" if warnings else ""), file=sys.stderr)
        return EXIT_FINDINGS
    print("all rules valid" + (f" ({warnings} warning(s))" if warnings else ""))
    return EXIT_OK


def _cmd_test(args: argparse.Namespace) -> int:
    from framework.testing.runner import run_tests

    report = run_tests(args.paths)
    print(report.render(verbose=args.verbose))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _cmd_build(args: argparse.Namespace) -> int:
    from framework.render import build

    written = build(args.paths, Path(args.out))
    print(f"wrote {len(written)} artifact(s) to {args.out}")
    return EXIT_OK


def _cmd_pack(args: argparse.Namespace) -> int:
    from framework.pack import build_pack

    path = build_pack(args.paths, Path(args.out), args.version, previous=args.previous, base=args.base)
    print(f"wrote rule pack {args.version} to {path}")
    return EXIT_OK


def _cmd_fmt(args: argparse.Namespace) -> int:
    from framework.kql import KqlSyntaxError
    from framework.kql.formatter import format_text
    from framework.rules.model import load_rule

    if args.source == "-":
        text, origin = sys.stdin.read(), None
    elif args.source.endswith((".yaml", ".yml")):
        rule = load_rule(args.source)
        if rule.query is None:
            raise DacError("rule has no query", rule.location())
        text, origin = rule.query, rule
    else:
        try:
            text, origin = Path(args.source).read_text(encoding="utf-8"), None
        except OSError as exc:
            raise DacError(f"cannot read file: {exc.strerror}") from None
    try:
        sys.stdout.write(format_text(text))
    except KqlSyntaxError as exc:
        where = origin.query_location(exc.line, exc.column) if origin else f"{args.source}:{exc.line}:{exc.column}"
        print(f"{where}: {exc.message}\n{exc.caret()}", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dac", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check rule files: schema, ids, KQL syntax")
    validate.add_argument("paths", nargs="*", default=["detections"])
    validate.add_argument("--base", help="git revision to check version discipline against (e.g. origin/main)")
    validate.set_defaults(func=_cmd_validate)

    test = sub.add_parser("test", help="run every rule's test cases over their fixtures")
    test.add_argument("paths", nargs="*", default=["detections"])
    test.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    test.set_defaults(func=_cmd_test)

    build_cmd = sub.add_parser("build", help="render deployable artifacts")
    build_cmd.add_argument("paths", nargs="*", default=["detections"])
    build_cmd.add_argument("--out", required=True, help="output directory (replaced atomically)")
    build_cmd.set_defaults(func=_cmd_build)
    pack = sub.add_parser("pack", help="build a versioned, reproducible rule pack (zip)")
    pack.add_argument("paths", nargs="*", default=["detections"])
    pack.add_argument("--out", required=True, help="the .zip to write (replaced atomically)")
    pack.add_argument("--version", required=True, help="the pack's semantic version, e.g. 1.4.0")
    pack.add_argument("--previous", help="the previous pack (.zip) to compute the changelog against")
    pack.add_argument("--base", help="a git revision to compute the changelog against instead")
    pack.set_defaults(func=_cmd_pack)

    fmt = sub.add_parser("fmt", help="print a query in the canonical layout")
    fmt.add_argument("source", help="a .kql file, a rule .yaml (its query) or - for standard input")
    fmt.set_defaults(func=_cmd_fmt)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except DacError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
