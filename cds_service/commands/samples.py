"""`net-cds samples`: the bundled synthetic NET patients (the embedded default), and loading them into a
FHIR server so the service's fallback queries can be tried for real (`samples load`)."""

from __future__ import annotations

import argparse
import os
import sys

from cds_service.samples import Sample, list_samples

TOKEN_ENV = "NET_CDS_FHIR_TOKEN"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("samples", help="the bundled synthetic NET patients")
    actions = parser.add_subparsers(dest="samples_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list the sample patients and what each shows")
    listing.set_defaults(func=list_command)
    load = actions.add_parser(
        "load", help="upload the sample patients to a FHIR R4 server (transactions, stable ids, idempotent)",
        description=("Upload each sample patient as one FHIR transaction of PUT Type/id entries, so the ids "
                     "on the server are the samples' ids and loading again changes nothing new. Works with "
                     "any FHIR R4 server that accepts client-assigned ids, e.g. https://hapi.fhir.org/baseR4 "
                     "(public: synthetic data only)."))
    load.add_argument("--fhir-server", required=True, metavar="URL", help="the server's FHIR base URL")
    load.add_argument("--token", help=f"bearer token for the server (or set {TOKEN_ENV}); never printed")
    load.add_argument("--only", nargs="+", metavar="ID", help="load only these sample ids")
    load.add_argument("--timeout", type=float, default=60.0, help="seconds per transaction (default 60)")
    load.set_defaults(func=load_command)


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


def _chosen(only: list[str] | None) -> list[Sample]:
    samples = list_samples()
    if not only:
        return samples
    by_id = {s.id: s for s in samples}
    unknown = [i for i in only if i not in by_id]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [by_id[i] for i in only]


def load_command(args: argparse.Namespace) -> int:
    import requests

    from cds_service.fhir.upload import UploadError, check_base_url, dangling_references, upload_bundle

    try:
        base = check_base_url(args.fhir_server)
        samples = _chosen(args.only)
    except UploadError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyError as exc:
        print(f"No sample patient {exc.args[0]}. Try `net-cds samples list`.", file=sys.stderr)
        return 2
    if not samples:
        print("No sample patients found.", file=sys.stderr)
        return 1
    token = args.token or os.environ.get(TOKEN_ENV) or None
    loaded: list[str] = []
    with requests.Session() as session:
        for sample in samples:
            bundle = sample.bundle()
            dangling = dangling_references(bundle)
            if dangling:
                print(f"warning: {sample.id} refers to resources it does not contain ({', '.join(dangling[:5])}); "
                      "servers that check references (HAPI does) will refuse it.", file=sys.stderr)
            try:
                result = upload_bundle(base, bundle, sample.id, token=token, timeout=args.timeout, session=session)
            except UploadError as exc:
                print(f"FAILED {exc}", file=sys.stderr)
                continue
            loaded.append(sample.id)
            print(f"loaded {result.summary()}")
    print(f"{len(loaded)} of {len(samples)} sample patients loaded into {base}")
    if loaded:
        print(f"try: net-cds call patient-view --patient {loaded[0]} --fhir-server {base}"
              + (" --token ..." if token else ""))
    return 0 if len(loaded) == len(samples) else 1
