"""``facade x12 validate|inspect|to-fhir`` and ``facade fhir to-x12`` (DESIGN.md, "Public
interface")."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["add_fhir_commands", "add_x12_commands"]


def _validate(args: argparse.Namespace) -> int:
    from mappers.x12.acks import acknowledgments
    from mappers.x12.engine import validate
    from mappers.x12.writer import CountingControlNumbers

    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    report = validate(path, balancing=True)
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sets = [s for ic in report.interchanges for g in ic.groups for s in g.sets]
        verdict = "valid" if report.valid else "INVALID"
        print(f"{path}: {verdict} ({len(report.interchanges)} interchange(s), "
              f"{len(sets)} transaction set(s))")
        for line in report.errors:
            print(f"  error: {line}")
        for s in sets:
            for w in s.warnings:
                el = w.elements[0] if w.elements else None
                detail = f" {el.ref} {el.value!r}: {el.message}" if el else ""
                print(f"  warning: ST02={s.st02} segment {w.position} {w.tag} "
                      f"(loop {w.loop}){detail}")
    if args.ack:
        # Control numbers must not repeat between files sent to a partner: without a durable
        # counter (the server keeps one), start from the clock unless told where to start.
        start = args.control_number or int(time.time()) % 900_000_000 + 1
        Path(args.ack).write_text(acknowledgments(report, CountingControlNumbers(start)))
    return 0 if report.valid else 1


def _inspect(args: argparse.Namespace) -> int:
    from mappers.x12 import iter_transaction_sets

    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    sys.stdout.write('{"transaction_sets": [')
    first = True
    stream = iter_transaction_sets(path)
    for ts, report in stream:
        doc = ts.as_dict()
        doc["accepted"] = report.accepted
        sys.stdout.write(("\n" if first else ",\n") + json.dumps(doc, indent=1))
        first = False
    sys.stdout.write("\n]}\n")
    return 0 if stream.report.valid and not first else 1


def _to_fhir(args: argparse.Namespace) -> int:
    """An X12 file as one transaction Bundle of the resources it maps to."""
    from mappers.fhir_x12.bundles import transaction
    from mappers.fhir_x12.translations import inbound_resources
    from mappers.x12 import iter_transaction_sets
    from server.fhir.json_codec import dumps_pretty

    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    resources = []
    stream = iter_transaction_sets(path)
    for ts, report in stream:
        if not report.accepted:
            print(f"ST02={report.st02}: invalid, not mapped (see facade x12 validate)",
                  file=sys.stderr)
            continue
        mapped = inbound_resources(ts)
        if mapped is None:
            print(f"ST02={report.st02}: {ts.st.get(1)} {ts.guide} has no FHIR mapping",
                  file=sys.stderr)
        else:
            resources += mapped
    sys.stdout.buffer.write(dumps_pretty(transaction(resources)) + b"\n")
    return 0 if stream.report.valid and resources else 1


def _to_x12(args: argparse.Namespace) -> int:
    """A FHIR Bundle (or resource) as the X12 transaction asked for."""
    from mappers.fhir_x12.translations import outbound
    from mappers.x12.writer import CountingControlNumbers
    from server.connectors.trading_partners import partners_of
    from server.errors import FacadeError, MalformedJsonError
    from server.fhir.json_codec import dumps_pretty, loads
    from server.fhir.outcomes import error_outcome
    from server.settings import Settings

    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    x12 = Settings().x12
    partners = partners_of(x12)
    # Control numbers must not repeat between files sent to a partner: without a durable
    # counter (the server keeps one), start from the clock unless told where to start.
    start = args.control_number or int(time.time()) % 900_000_000 + 1
    try:
        try:
            source = loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedJsonError(f"{path} is not JSON: {exc}") from exc
        if not isinstance(source, dict) or "resourceType" not in source:
            raise MalformedJsonError(f"{path} holds no FHIR resource")
        text = outbound(args.transaction, [source], partners, CountingControlNumbers(start))
    except FacadeError as error:
        sys.stdout.buffer.write(dumps_pretty(error_outcome(error)) + b"\n")
        print(f"{path}: {error.message}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


def add_fhir_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from mappers.fhir_x12.translations import OUTBOUND

    fhir = commands.add_parser("fhir", help="translate FHIR resources")
    sub = fhir.add_subparsers(dest="fhir_command", required=True)
    to_x12 = sub.add_parser(
        "to-x12", help="a Bundle with a Claim or request and what it references, as X12; "
        "gaps are printed as an OperationOutcome (exit 1)")
    to_x12.add_argument("--transaction", required=True, choices=sorted(OUTBOUND))
    to_x12.add_argument("--control-number", type=int, metavar="N",
                        help="first ISA13/GS06/ST02 (default: from the clock)")
    to_x12.add_argument("file")
    to_x12.set_defaults(func=_to_x12)


def add_x12_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    x12 = commands.add_parser("x12", help="read, check and acknowledge X12 5010 files")
    sub = x12.add_subparsers(dest="x12_command", required=True)
    validate = sub.add_parser("validate", help="check a file against its implementation guide")
    validate.add_argument("file")
    validate.add_argument("--json", action="store_true", help="the report as JSON")
    validate.add_argument("--ack", metavar="OUT", help="write the 999 (and TA1) to OUT")
    validate.add_argument("--control-number", type=int, metavar="N",
                          help="first ISA13/GS06/ST02 of the acknowledgments (default: from "
                               "the clock)")
    validate.set_defaults(func=_validate)
    inspect = sub.add_parser("inspect", help="print the loop tree of each transaction set")
    inspect.add_argument("file")
    inspect.set_defaults(func=_inspect)
    to_fhir = sub.add_parser("to-fhir", help="an 837, 835, 277CA, 277, 271 or 278 response as "
                             "a FHIR transaction Bundle")
    to_fhir.add_argument("file")
    to_fhir.set_defaults(func=_to_fhir)
