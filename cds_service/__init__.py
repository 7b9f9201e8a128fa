"""NET-CDS: CDS Hooks 2.0 decision support for gastroenteropancreatic neuroendocrine neoplasms."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from flask import Flask

    from cds_service.config import Settings


def create_app(config: Settings | dict | None = None) -> Flask:
    """The Flask application (see cds_service.app.create_app)."""
    from cds_service.app import create_app as _create_app

    return _create_app(config)
