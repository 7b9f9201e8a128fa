"""`net-cds feedback report`: what clinicians did with the cards, per topic (from the feedback store)."""

from __future__ import annotations

import argparse
import json
import sys

from cds_service.config import Settings
from cds_service.feedback.report import format_report
from cds_service.feedback.store import SqliteFeedbackStore, open_feedback_store
from cds_service.security.policy import StartupError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("feedback", help="card feedback stored by the service")
    actions = parser.add_subparsers(dest="feedback_command", metavar="ACTION", required=True)
    report = actions.add_parser("report", help="accepted and overridden cards per topic, with override reasons")
    report.add_argument("--db", help="feedback database (default: NET_CDS_FEEDBACK_DB or var/feedback.sqlite3)")
    report.add_argument("--json", action="store_true", help="print the summary as JSON")
    report.set_defaults(func=report_command)


def report_command(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        store = open_feedback_store(args.db or settings.feedback_db, settings.data_dir)
        if isinstance(store, SqliteFeedbackStore) and not store.path.exists():  # a report creates nothing
            print(f"No feedback database at {store.path} yet: no cards issued and no feedback.")
            return 0
        topics = store.summary()
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"Cannot read the feedback database {args.db or settings.feedback_db or ''}: "
              f"{type(exc).__name__}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"database": store.location, "topics": topics}, indent=2))
    else:
        print(format_report(topics, store.location))
    return 0
