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


def _cmd_deploy(args: argparse.Namespace) -> int:
    from framework.deploy import build_requests, desired_rules, load_export, plan

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
    sys.stdout.write(drift.report())
    if all(target):
        for method, url, _body in build_requests(desired, subscription=args.subscription,
                                                 resource_group=args.resource_group, workspace=args.workspace,
                                                 drift=drift):
            print(f"would send: {method} {url}")
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


def _cmd_import(args: argparse.Namespace) -> int:
    from framework.importer import import_sources

    for path in import_sources(args.sources, Path(args.out), force=args.force):
        print(f"wrote {path}")
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

    deploy = sub.add_parser("deploy", help="compare the rules with a workspace export (drift report); never sends")
    deploy.add_argument("paths", nargs="*", default=["detections"])
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
    fmt.add_argument("source", help="a .kql file, a rule .yaml (its query) or - for standard input")
    fmt.set_defaults(func=_cmd_fmt)

    import_cmd = sub.add_parser("import", help="turn ARM templates (.json) or Azure-Sentinel files (.yaml) into rule files")
    import_cmd.add_argument("sources", nargs="+", metavar="SOURCE")
    import_cmd.add_argument("--out", required=True, help="directory to write <slug of rule name>.yaml files into")
    import_cmd.add_argument("--force", action="store_true", help="replace rule files that already exist")
    import_cmd.set_defaults(func=_cmd_import)
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
