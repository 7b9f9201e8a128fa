"""`net-cds serve`: run the service under gunicorn with the Dockerfile's settings (cds_service/gunicorn_conf.py;
`--dev`: Flask's development server).

Everything that can stop the service from starting (its settings, the port) is checked here, before
any worker starts, and reported as one line with what to change.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import date

from cds_service.commands.as_of import TODAY, add_as_of_option
from cds_service.config import Settings, StartupError
from cds_service.demo import ENVIRONMENTS as DEMO_ENVIRONMENTS
from cds_service.logging_setup import configure_logging


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the CDS Hooks service")
    parser.add_argument("--host", default=os.environ.get("NET_CDS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("NET_CDS_PORT", "8080")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("NET_CDS_WORKERS", "2")))
    parser.add_argument("--dev", action="store_true",
                        help="one process with Flask's development server instead of gunicorn (no warm-up, "
                             "no reloading: restart it after a change)")
    add_as_of_option(parser, help="evaluate every call that does not ask for a date as of this one: YYYY-MM-DD "
                                  "or 'samples' (the sample set's date, so an EHR sandbox shows the samples' "
                                  "cards on any day); sets NET_CDS_AS_OF; default: today")
    parser.set_defaults(func=serve)


def port_problem(host: str, port: int) -> str | None:
    """Why the service could not listen on host:port (None when it can), found by binding it once
    the way gunicorn does."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        return f"cannot resolve --host {host} ({exc.strerror})"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return f"cannot listen on {host}:{port} ({exc.strerror or type(exc).__name__})"
    return None


def _startup_problem(args: argparse.Namespace) -> str | None:
    """The one line that says why the service would not start, or None."""
    problem = port_problem(args.host, args.port)
    if problem:
        return (f"{problem}: another program (perhaps another `net-cds serve`) is using it. "
                "Choose another port with --port N (or NET_CDS_PORT).")
    try:
        from cds_service import create_app

        create_app(Settings.from_env())  # the same checks every worker makes, once, before any starts
    except StartupError as exc:
        return str(exc)
    return None


def serve(args: argparse.Namespace) -> int:
    if isinstance(args.as_of, date):
        os.environ["NET_CDS_AS_OF"] = args.as_of.isoformat()  # for the workers' settings
    elif args.as_of == TODAY:
        os.environ.pop("NET_CDS_AS_OF", None)
    try:
        settings = Settings.from_env()
    except (StartupError, ValueError) as exc:
        print(f"net-cds serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if not args.dev:  # the workers' metrics go to one folder (a fresh one for this run unless configured)
        import tempfile

        from cds_service.metrics import MULTIPROCESS_ENV, use_multiprocess_dir

        use_multiprocess_dir(os.environ.get(MULTIPROCESS_ENV) or tempfile.mkdtemp(prefix="net-cds-metrics-"))
    problem = _startup_problem(args)
    if problem:
        print(f"net-cds serve: {problem}", file=sys.stderr)
        return 2
    url = f"http://{args.host}:{args.port}/cds-services"
    demo = (f"\nDemo page (the sample patients' cards as an EHR shows them): http://{args.host}:{args.port}/"
            if settings.environment in DEMO_ENVIRONMENTS else "")
    if args.dev:
        from cds_service import create_app

        print(f"NET-CDS (development server) listening on {url}{demo}", flush=True)
        create_app().run(host=args.host, port=args.port, debug=False, use_reloader=False)
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
            self.cfg.set("when_ready", lambda _server: print(f"NET-CDS listening on {url}{demo}", flush=True))

        def load(self):  # noqa: ANN202
            from cds_service.wsgi import app  # logging, the app and its warm-up, as under the Dockerfile

            return app

    _Gunicorn().run()
    return 0
