"""`net-cds keys generate`: a CDS client key pair, to call a service that requires signed JWTs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cds_service.security.client_keys import generate_client_key

PRIVATE_NAME = "client-private.pem"
JWKS_NAME = "client-jwks.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("keys", help="CDS client keys for testing a secured service")
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    generate = actions.add_parser("generate", help="a P-384 key pair: private PEM and public JWK Set")
    generate.add_argument("--out", type=Path, required=True, help="folder for client-private.pem and client-jwks.json")
    generate.add_argument("--kid", default="net-cds-test-client", help="key id written into the JWK and each JWT")
    generate.add_argument("--force", action="store_true", help="replace existing files")
    generate.set_defaults(func=generate_command)


def generate_command(args: argparse.Namespace) -> int:
    private_file, jwks_file = args.out / PRIVATE_NAME, args.out / JWKS_NAME
    existing = [p for p in (private_file, jwks_file) if p.exists()]
    if existing and not args.force:
        print(f"{existing[0]} exists; use --force to replace it.", file=sys.stderr)
        return 2
    pem, jwks = generate_client_key(args.kid)
    args.out.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # readable by its owner only
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    jwks_file.write_text(json.dumps(jwks, indent=2) + "\n", encoding="utf-8")
    print(f"private key: {private_file} (keep it secret)\npublic JWK Set: {jwks_file}\n\n"
          f"Service side:  NET_CDS_AUTH=required NET_CDS_JWKS_FILE={jwks_file} NET_CDS_TRUSTED_ISSUERS=<your iss>\n"
          f"Client side:   net-cds call patient-view --patient <id> --service-url <url> "
          f"--jwt-key {private_file} --jwt-iss <your iss> --jwt-kid {args.kid}")
    return 0
