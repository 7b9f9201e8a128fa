"""`net-cds serve`: run the service (gunicorn when available, else Flask's development server)."""

from __future__ import annotations

import argparse
import logging
import os

from cds_service.config import Settings

log = logging.getLogger("cds_service")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the CDS Hooks service")
    parser.add_argument("--host", default=os.environ.get("NET_CDS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("NET_CDS_PORT", "8080")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("NET_CDS_WORKERS", "2")))
    parser.add_argument("--dev", action="store_true", help="use Flask's development server (reloads)")
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=Settings.from_env().log_level, format="%(message)s")
    if args.dev:
        from cds_service import create_app

        create_app().run(host=args.host, port=args.port, debug=False)
        return 0
    from gunicorn.app.base import BaseApplication

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # one fresh metrics folder for this run's workers
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="net-cds-metrics-")

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 30)

        def load(self):  # noqa: ANN202
            from cds_service import create_app
            from cds_service.warmup import warm_up

            app = create_app()
            warm_up(app.config["NET_CDS"])
            return app

    print(f"NET-CDS listening on http://{args.host}:{args.port}/cds-services")
    _Gunicorn().run()
    return 0
