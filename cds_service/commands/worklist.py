"""`net-cds worklist`: the clinic's worklist over a FHIR Bulk Data export, by the hooks' own rules.

Reads the export (a folder of NDJSON files or its manifest), keeps the patients the NEN pre-filter lets
through, evaluates each one as the patient-view hook would as of the export's date, and writes one row
per patient (with the queues that list it), the long form, and an audit record.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from cds_service.commands.as_of import as_of_value
from cds_service.commands.samples import TOKEN_ENV

ENGINES = ("local", "spark")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worklist", help="the NET clinic's worklist over a FHIR Bulk Data export",
        description=__doc__.splitlines()[0])
    parser.add_argument("--bulk", required=True, type=Path, metavar="DIR|manifest.json",
                        help="the export: a folder of Type.ndjson[.gz] files, or its manifest.json")
    parser.add_argument("--out", type=Path, default=Path("worklist.csv"), metavar="FILE",
                        help="rows to FILE (.csv, .ndjson or .parquet); the long form goes to "
                             "FILE's stem + .findings, the audit record to + .audit.json (default worklist.csv)")
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local: DuckDB partitioning and a process pool (default); spark: PySpark")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes (default: CPUs)")
    parser.add_argument("--as-of", type=as_of_value, metavar="DATE",
                        help="evaluate as of DATE; default: the export's transactionTime")
    parser.add_argument("--no-prefilter", dest="prefilter", action="store_false",
                        help="evaluate every patient, not only those with a NEN Condition")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--report", nargs="?", const=True, type=Path, metavar="FILE.html",
                        help="also write an HTML report (counts per queue, a chart); default FILE: the output's "
                             "stem + .report.html")
    parser.add_argument("--fhir-output", choices=("list", "task"),
                        help="also write the queues as FHIR (stem + .fhir-list.json / .fhir-task.json): one List "
                             "per queue, or one Task per patient and queue; stable ids, so re-runs update")
    parser.add_argument("--fhir-server", metavar="URL",
                        help="upload the --fhir-output resources to this FHIR base URL (PUT transactions, as "
                             "`samples load`)")
    parser.add_argument("--token", help=f"bearer token for --fhir-server (or set {TOKEN_ENV}); never printed")
    parser.set_defaults(func=run)


def _as_of(args: argparse.Namespace, export_as_of: date | None) -> date:
    if isinstance(args.as_of, date):
        return args.as_of
    if args.as_of == "today":
        return date.today()
    if export_as_of is None:
        raise SystemExit("net-cds worklist: the export has no transactionTime (no manifest): give --as-of DATE")
    return export_as_of


def run(args: argparse.Namespace) -> int:
    from cds_service.worklist.audit import RunTally, audit_record, write_audit
    from cds_service.worklist.export import BulkExport, ExportError
    from cds_service.worklist.outputs import row_record, write_rows
    from cds_service.worklist.prefilter import nen_patient_ids
    from cds_service.worklist.progress import progress_bar

    if args.fhir_server and not args.fhir_output:
        print("net-cds worklist: --fhir-server needs --fhir-output list|task", file=sys.stderr)
        return 2
    from cds_service.worklist.fhir_output import QueueMembers

    members = QueueMembers() if args.fhir_output else None
    started = time.monotonic()
    try:
        export = BulkExport.open(args.bulk)
        as_of = _as_of(args, export.as_of)
        only = nen_patient_ids(export) if args.prefilter else None
        if args.engine == "spark":
            from cds_service.worklist import engine_spark as engine
        else:
            from cds_service.worklist import engine_local as engine
        tally = RunTally()
        with progress_bar(args.quiet) as progress:
            rows = engine.run(export, as_of=as_of, workers=max(args.workers, 1), only=only, progress=progress)
            for row in write_rows(rows, args.out):
                tally.add(row, row_record(row)["queues"])
                if members is not None:
                    members.add(row)
                progress.advance_patients(1)
    except (ExportError, ValueError) as exc:
        print(f"net-cds worklist: {exc}", file=sys.stderr)
        return 2
    record = audit_record(export_path=args.bulk, fingerprint=export.fingerprint(), as_of=as_of.isoformat(),
                          engine=args.engine, workers=args.workers, prefiltered=None if only is None else len(only),
                          tally=tally, seconds=time.monotonic() - started, out=args.out)
    audit_path = args.out.with_name(f"{args.out.stem}.audit.json")
    write_audit(record, audit_path)
    print(f"{tally.patients} patients ({tally.errors} with errors) in {record['run']['seconds']} s → {args.out}")
    for queue, count in record["queues"].items():
        print(f"  {queue:32} {count}")
    print(f"audit: {audit_path}")
    if args.report:
        from cds_service.worklist.report import report_path, write_report

        print(f"report: {write_report(record, report_path(args.out) if args.report is True else args.report)}")
    if members is not None and _fhir_output(args, members) != 0:
        return 2
    return 1 if tally.errors else 0


def _fhir_output(args: argparse.Namespace, members: object) -> int:
    """Write the queues as FHIR beside the output and, with --fhir-server, upload them."""
    import json
    from datetime import UTC, datetime

    from cds_service.fhir.upload import UploadError
    from cds_service.worklist.fhir_output import collection, export_scope, upload, worklist_resources

    resources = worklist_resources(members.defined, members.members, args.fhir_output,  # type: ignore[attr-defined]
                                   scope=export_scope(args.bulk), when=datetime.now(UTC))
    path = args.out.with_name(f"{args.out.stem}.fhir-{args.fhir_output}.json")
    path.write_text(json.dumps(collection(resources), indent=1) + "\n", encoding="utf-8")
    print(f"FHIR: {len(resources)} {'List' if args.fhir_output == 'list' else 'Task'} resources → {path}")
    if not args.fhir_server:
        return 0
    try:
        results = upload(args.fhir_server, resources, token=args.token or os.environ.get(TOKEN_ENV) or None)
    except UploadError as exc:
        print(f"net-cds worklist: upload failed: {exc}", file=sys.stderr)
        return 2
    created = sum(r.created for r in results)
    print(f"uploaded to {args.fhir_server}: {created} created, {sum(r.updated for r in results)} updated")
    return 0
