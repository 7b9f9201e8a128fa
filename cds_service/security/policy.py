"""The authentication policy, resolved from Settings once at start-up (and refused if unsafe)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cds_service.config import Settings, StartupError, production_missing

__all__ = ["ALGORITHMS", "AuthPolicy", "StartupError"]

# Asymmetric only: CDS Hooks 2.0 forbids `none` and every symmetric (HMAC) algorithm.
ALGORITHMS: tuple[str, ...] = ("ES384", "RS384", "ES256", "RS256", "ES512", "RS512", "PS256", "PS384", "PS512")


@dataclass(frozen=True)
class AuthPolicy:
    """Who may call the service and how their tokens are checked."""

    required: bool
    trusted_issuers: frozenset[str] = frozenset()
    trusted_tenants: frozenset[str] = frozenset()
    jwks_file: Path | None = None
    jwks_urls: tuple[str, ...] = ()
    allowed_jku: frozenset[str] = frozenset()
    leeway: float = 60.0
    max_lifetime: float = 3600.0
    jti_db: str = "memory"
    jti_host_db: str | None = None  # the host's SQLite cache: the fallback of a PostgreSQL jti cache
    jti_fallback: str = "local"
    trusted_proxy: bool = False
    public_base_url: str | None = None
    require_sub: bool = True
    issuer_jwks: tuple[tuple[str, Path], ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        mode = settings.auth or ("required" if settings.environment == "production" else "disabled")
        if mode not in ("required", "disabled"):
            raise StartupError(f"NET_CDS_AUTH must be 'required' or 'disabled', not {mode!r}.")
        if mode == "disabled":
            return cls(required=False)
        missing = []
        if not settings.trusted_issuers:
            missing.append("NET_CDS_TRUSTED_ISSUERS (the EHRs' JWT issuers)")
        if not (settings.jwks_file or settings.jwks_urls or settings.allowed_jku or settings.issuer_jwks):
            missing.append("NET_CDS_JWKS_FILE, NET_CDS_JWKS_URL, NET_CDS_ALLOWED_JKU or NET_CDS_ISSUER_JWKS "
                           "(their public keys)")
        if missing:
            missing += production_missing(settings)  # one message names everything production still needs
            why = "NET_CDS_AUTH=required" if settings.auth else f"NET_CDS_ENV={settings.environment}"
            raise StartupError(f"Authentication is required ({why}) but not configured; set "
                               f"{' and '.join(missing)}. See docs/configuration-security.md; for the local "
                               "demo, leave NET_CDS_ENV unset.")
        for issuer, path in settings.issuer_jwks:
            if issuer not in settings.trusted_issuers:
                raise StartupError(f"NET_CDS_ISSUER_JWKS pins keys for {issuer!r}, which is not in "
                                   "NET_CDS_TRUSTED_ISSUERS.")
            if not path.is_file():
                raise StartupError(f"NET_CDS_ISSUER_JWKS: the key set for {issuer!r} ({path}) does not exist.")
        if settings.jwks_file and not settings.jwks_file.is_file():
            raise StartupError(f"NET_CDS_JWKS_FILE {settings.jwks_file} does not exist.")
        if not 0 <= settings.jwt_leeway <= 300:
            raise StartupError("NET_CDS_JWT_LEEWAY must be between 0 and 300 seconds.")
        if not 0 < settings.jwt_max_lifetime <= 86400:
            raise StartupError("NET_CDS_JWT_MAX_LIFETIME must be between 1 and 86400 seconds.")
        if settings.jti_fallback not in ("local", "refuse"):
            raise StartupError("NET_CDS_JTI_FALLBACK must be 'local' or 'refuse'.")
        host_db = settings.jti_host_db or str(settings.data_dir / "var" / "jti.sqlite3")
        jti_db = settings.jti_db or host_db
        return cls(
            required=True,
            trusted_issuers=frozenset(settings.trusted_issuers),
            trusted_tenants=frozenset(settings.trusted_tenants),
            jwks_file=settings.jwks_file,
            jwks_urls=tuple(settings.jwks_urls),
            allowed_jku=frozenset(settings.allowed_jku),
            leeway=settings.jwt_leeway,
            max_lifetime=settings.jwt_max_lifetime,
            jti_db=jti_db,
            jti_host_db=host_db,
            jti_fallback=settings.jti_fallback,
            trusted_proxy=settings.trusted_proxy,
            public_base_url=settings.public_base_url.rstrip("/") if settings.public_base_url else None,
            require_sub=settings.jwt_require_sub,
            issuer_jwks=tuple(settings.issuer_jwks),
        )
