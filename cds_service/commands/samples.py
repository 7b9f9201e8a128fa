"""`net-cds samples`: the bundled synthetic NET patients (the embedded default)."""

from __future__ import annotations

import argparse

from cds_service.samples import list_samples


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("samples", help="the bundled synthetic NET patients")
    actions = parser.add_subparsers(dest="samples_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the sample patients and what each shows")
    listing.set_defaults(func=list_command)


def list_command(args: argparse.Namespace) -> int:
    samples = list_samples()
    if not samples:
        print("No sample patients found.")
        return 1
    width = max(len(s.id) for s in samples)
    for sample in samples:
        rules = f"  [{' '.join(sample.rules)}]" if sample.rules else ""
        draft = "  (order-sign draft)" if sample.draft else ""
        print(f"{sample.id:<{width}}  {sample.title}{rules}{draft}")
    return 0
