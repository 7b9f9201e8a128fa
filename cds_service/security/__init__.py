"""Client authentication (CDS Hooks 2.0 §Trusting CDS Clients): signed JWTs from allowlisted EHRs."""

from cds_service.security.jwt_auth import AuthError, TokenVerifier
from cds_service.security.middleware import install_auth
from cds_service.security.policy import ALGORITHMS, AuthPolicy, StartupError

__all__ = ["ALGORITHMS", "AuthError", "AuthPolicy", "StartupError", "TokenVerifier", "install_auth"]
