"""Service configuration, read from environment variables (all documented in the README)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


class StartupError(RuntimeError):
    """The configuration cannot be run safely; the message says which variable to fix."""


def _date(name: str, value: str) -> date | None:
    """An ISO date setting ("" means none), or a StartupError naming the variable."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise StartupError(f"{name} must be a date (YYYY-MM-DD), not {value.strip()!r}.") from None


def _number(env: Mapping[str, str], name: str, default: str, kind: type[int] | type[float]) -> int | float:
    """A numeric setting, or a StartupError naming the variable."""
    value = env.get(name, default)
    try:
        return kind(value)
    except ValueError:
        raise StartupError(f"{name} must be a {'whole ' if kind is int else ''}number, not {value!r}.") from None


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _pairs(value: str) -> tuple[tuple[str, Path], ...]:
    """"iss=path,iss2=path2" as ((iss, Path), ...); each pair splits at its last "="."""
    pairs = []
    for part in _split(value):
        issuer, sep, path = part.rpartition("=")
        if not sep or not issuer.strip() or not path.strip():
            raise StartupError(f"NET_CDS_ISSUER_JWKS: {part!r} is not issuer=path.")
        pairs.append((issuer.strip(), Path(path.strip())))
    return tuple(pairs)


def production_missing(settings: Settings) -> list[str]:
    """What a production configuration must name and does not: the URL EHRs call (else the JWT `aud` would
    follow the Host header) and the FHIR servers it may query (the README's promise; audit issue 13)."""
    if settings.environment != "production":
        return []
    needs = (("NET_CDS_PUBLIC_BASE_URL (the URL EHRs call, for the JWT audience)", settings.public_base_url),
             ("NET_CDS_ALLOWED_FHIR_SERVERS (the FHIR servers it may query)", settings.allowed_fhir_servers))
    return [name for name, value in needs if not value]


def check_production(settings: Settings) -> None:
    """StartupError when production_missing names anything (also with authentication turned off)."""
    missing = production_missing(settings)
    if missing:
        raise StartupError(f"NET_CDS_ENV=production needs {' and '.join(missing)}; see "
                           "docs/configuration-security.md.")


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with. Defaults are the safe ones."""

    environment: str = "development"  # NET_CDS_ENV: production | development | demo
    data_dir: Path = REPO_ROOT  # NET_CDS_DATA_DIR: holds mappings/, cards/, samples/
    allowed_fhir_servers: tuple[str, ...] = ()  # NET_CDS_ALLOWED_FHIR_SERVERS: base URL prefixes
    require_https_fhir: bool = False  # NET_CDS_REQUIRE_HTTPS_FHIR (true in production)
    fhir_timeout: float = 3.0  # NET_CDS_FHIR_TIMEOUT: seconds, per FHIR query (connect and read)
    fhir_total_timeout: float = 4.0  # NET_CDS_FHIR_TOTAL_TIMEOUT: seconds for all fallback queries
    fhir_max_pages: int = 20  # NET_CDS_FHIR_MAX_PAGES: pages read per query (more: the query fails)
    fhir_page_size: int = 100  # NET_CDS_FHIR_PAGE_SIZE: _count sent on fallback searches (0: none)
    fhir_query_budget: int = 40  # NET_CDS_FHIR_QUERY_BUDGET: HTTP requests per hook call
    fhir_max_call_bytes: int = 48 * 1024 * 1024  # NET_CDS_FHIR_MAX_CALL_BYTES: FHIR answer bytes per hook call
    fhir_max_resources: int = 20_000  # NET_CDS_FHIR_MAX_RESOURCES: resources from FHIR searches per hook call
    fhir_allow_loopback: bool = False  # NET_CDS_FHIR_ALLOW_LOOPBACK: a FHIR host name may resolve to loopback
    fhir_workers: int = 12  # NET_CDS_FHIR_WORKERS: parallel fallback requests (12: a whole patient-view call at once)
    cors_origins: tuple[str, ...] = ("https://sandbox.cds-hooks.org",)  # NET_CDS_CORS_ORIGINS
    max_body_bytes: int = 8 * 1024 * 1024  # NET_CDS_MAX_BODY_BYTES
    log_level: str = "INFO"  # NET_CDS_LOG_LEVEL
    server_timing: bool = True  # NET_CDS_SERVER_TIMING: Server-Timing header on hook answers (durations only)
    profile_card: bool = False  # NET_CDS_PROFILE_CARD: add the NET profile card, last, to patient-view
    public_base_url: str | None = None  # NET_CDS_PUBLIC_BASE_URL: the URL EHRs call (JWT aud)
    as_of: date | None = None  # NET_CDS_AS_OF: evaluate every call as of this date (demos; refused in production)
    # --- security and feedback (docs/configuration-security.md) ---
    auth: str = ""  # NET_CDS_AUTH: required | disabled ("": required in production, else disabled)
    trusted_issuers: tuple[str, ...] = ()  # NET_CDS_TRUSTED_ISSUERS: JWT iss values accepted
    trusted_tenants: tuple[str, ...] = ()  # NET_CDS_TRUSTED_TENANTS: if set, the JWT tenant must be one
    jwks_file: Path | None = None  # NET_CDS_JWKS_FILE: JWK Set of the trusted clients' public keys
    jwks_urls: tuple[str, ...] = ()  # NET_CDS_JWKS_URL: JWK Set URL(s), fetched and cached
    allowed_jku: tuple[str, ...] = ()  # NET_CDS_ALLOWED_JKU: jku header URLs that may be fetched
    issuer_jwks: tuple[tuple[str, Path], ...] = ()  # NET_CDS_ISSUER_JWKS: "iss=path,...": pinned key set per issuer
    jwt_require_sub: bool = True  # NET_CDS_JWT_REQUIRE_SUB: refuse tokens without `sub` (the 2.0 example has none)
    jwt_leeway: float = 60.0  # NET_CDS_JWT_LEEWAY: seconds of clock skew tolerated on exp/iat
    jwt_max_lifetime: float = 3600.0  # NET_CDS_JWT_MAX_LIFETIME: longest exp - now accepted, seconds
    jti_db: str = ""  # NET_CDS_JTI_DB: "memory", a SQLite path or a postgresql:// URL ("": var/jti.sqlite3)
    feedback_db: str = ""  # NET_CDS_FEEDBACK_DB: SQLite path or postgresql:// URL ("": var/feedback.sqlite3)
    # --- running as a fleet (README "Deploying") ---
    jti_fallback: str = "local"  # NET_CDS_JTI_FALLBACK: local | refuse, when a PostgreSQL jti cache is down
    jti_host_db: str = ""  # NET_CDS_JTI_HOST_DB: the host's SQLite cache for that fallback ("": var/jti.sqlite3)
    trusted_proxy: bool = False  # NET_CDS_TRUSTED_PROXY: behind deploy/ nginx (it sets X-Request-Id itself)
    metrics_token: str = ""  # NET_CDS_METRICS_TOKEN: bearer token for /metrics ("": loopback callers only)
    # --- the SMART on FHIR timeline app at /app (README "The NET timeline app") ---
    smart_client_id: str = ""  # NET_CDS_SMART_CLIENT_ID: the app's client id at the EHR's authorization server
    smart_client_secret: str = ""  # NET_CDS_SMART_CLIENT_SECRET: for a confidential client ("": public, PKCE only)
    smart_session_key: str = ""  # NET_CDS_SMART_SESSION_KEY: secret that encrypts and signs the app's session cookie
    smart_app_url: str = ""  # NET_CDS_SMART_APP_URL: the launch URL cards link to (type smart); "": no link
    extra: Mapping[str, str] = field(default_factory=dict)  # other NET_CDS_* settings, by name

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        get = env.get
        production = get("NET_CDS_ENV", "development").strip().lower() == "production"
        settings = cls(
            environment=get("NET_CDS_ENV", "development").strip().lower(),
            data_dir=Path(get("NET_CDS_DATA_DIR", str(REPO_ROOT))),
            allowed_fhir_servers=_split(get("NET_CDS_ALLOWED_FHIR_SERVERS", "")),
            require_https_fhir=_bool(get("NET_CDS_REQUIRE_HTTPS_FHIR", "true" if production else "false")),
            fhir_timeout=_number(env, "NET_CDS_FHIR_TIMEOUT", "3.0", float),
            fhir_total_timeout=_number(env, "NET_CDS_FHIR_TOTAL_TIMEOUT", "4.0", float),
            fhir_max_pages=_number(env, "NET_CDS_FHIR_MAX_PAGES", "20", int),
            fhir_page_size=_number(env, "NET_CDS_FHIR_PAGE_SIZE", "100", int),
            fhir_query_budget=_number(env, "NET_CDS_FHIR_QUERY_BUDGET", "40", int),
            fhir_max_call_bytes=_number(env, "NET_CDS_FHIR_MAX_CALL_BYTES", str(48 * 1024 * 1024), int),
            fhir_max_resources=_number(env, "NET_CDS_FHIR_MAX_RESOURCES", "20000", int),
            fhir_allow_loopback=_bool(get("NET_CDS_FHIR_ALLOW_LOOPBACK", "false")),
            fhir_workers=_number(env, "NET_CDS_FHIR_WORKERS", "12", int),
            # production allows no browser origin unless one is configured (the sandbox is a third-party site)
            cors_origins=_split(get("NET_CDS_CORS_ORIGINS", "" if production else "https://sandbox.cds-hooks.org")),
            max_body_bytes=_number(env, "NET_CDS_MAX_BODY_BYTES", str(8 * 1024 * 1024), int),
            log_level=get("NET_CDS_LOG_LEVEL", "INFO").upper(),
            server_timing=_bool(get("NET_CDS_SERVER_TIMING", "true")),
            profile_card=_bool(get("NET_CDS_PROFILE_CARD", "off")),
            public_base_url=get("NET_CDS_PUBLIC_BASE_URL") or None,
            as_of=_date("NET_CDS_AS_OF", get("NET_CDS_AS_OF", "")),
            auth=get("NET_CDS_AUTH", "").strip().lower(),
            trusted_issuers=_split(get("NET_CDS_TRUSTED_ISSUERS", "")),
            trusted_tenants=_split(get("NET_CDS_TRUSTED_TENANTS", "")),
            jwks_file=Path(get("NET_CDS_JWKS_FILE", "")) if get("NET_CDS_JWKS_FILE") else None,
            jwks_urls=_split(get("NET_CDS_JWKS_URL", "")),
            allowed_jku=_split(get("NET_CDS_ALLOWED_JKU", "")),
            issuer_jwks=_pairs(get("NET_CDS_ISSUER_JWKS", "")),
            jwt_require_sub=_bool(get("NET_CDS_JWT_REQUIRE_SUB", "true")),
            jwt_leeway=_number(env, "NET_CDS_JWT_LEEWAY", "60", float),
            jwt_max_lifetime=_number(env, "NET_CDS_JWT_MAX_LIFETIME", "3600", float),
            jti_db=get("NET_CDS_JTI_DB", "").strip(),
            feedback_db=get("NET_CDS_FEEDBACK_DB", "").strip(),
            jti_fallback=get("NET_CDS_JTI_FALLBACK", "local").strip().lower(),
            jti_host_db=get("NET_CDS_JTI_HOST_DB", "").strip(),
            trusted_proxy=_bool(get("NET_CDS_TRUSTED_PROXY", "false")),
            metrics_token=get("NET_CDS_METRICS_TOKEN", "").strip(),
            smart_client_id=get("NET_CDS_SMART_CLIENT_ID", "").strip(),
            smart_client_secret=get("NET_CDS_SMART_CLIENT_SECRET", "").strip(),
            smart_session_key=get("NET_CDS_SMART_SESSION_KEY", "").strip(),
            smart_app_url=get("NET_CDS_SMART_APP_URL", "").strip(),
            extra={k: v for k, v in env.items() if k.startswith("NET_CDS_")},
        )
        return settings

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with some settings changed (tests and the CLI use this)."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return replace(self, **overrides)  # type: ignore[arg-type]
