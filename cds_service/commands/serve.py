"""`net-cds serve`: run the service under gunicorn as the Dockerfile does (cds_service/gunicorn_conf.py),
or with Flask's development server (`--dev`)."""

from __future__ import annotations

import argparse
import os

from cds_service.config import Settings
from cds_service.logging_setup import configure_logging


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the CDS Hooks service")
    parser.add_argument("--host", default=os.environ.get("NET_CDS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("NET_CDS_PORT", "8080")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("NET_CDS_WORKERS", "2")))
    parser.add_argument("--dev", action="store_true", help="use Flask's development server (reloads)")
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    configure_logging(Settings.from_env().log_level)
    if args.dev:
        from cds_service import create_app

        create_app().run(host=args.host, port=args.port, debug=False)
        return 0
    from gunicorn.app.base import BaseApplication

    from cds_service import gunicorn_conf

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for name, value in vars(gunicorn_conf).items():
                if name in self.cfg.settings and value is not None or name == "accesslog":
                    self.cfg.set(name, value)
            self.cfg.set("bind", [f"{args.host}:{args.port}"])
            self.cfg.set("workers", args.workers)

        def load(self):  # noqa: ANN202
            from cds_service.wsgi import app  # logging, the app and its warm-up, as under the Dockerfile

            return app

    print(f"NET-CDS listening on http://{args.host}:{args.port}/cds-services")
    _Gunicorn().run()
    return 0
