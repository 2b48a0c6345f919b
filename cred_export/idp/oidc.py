"""OpenID Connect client calls: discovery, the sign-in page and code exchange, device authorization,
refresh."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cred_export.errors import LoginRequired, UpstreamError
from cred_export.idp.profiles import OidcProfile
from cred_export.login import device as device_grant
from cred_export.login.browser_sign_in import AuthorizeRequest, CodeGrant
from cred_export.login.device import DeviceAuthorization
from cred_export.util import http

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_SAFE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


@dataclass(frozen=True)
class Provider:
    """The parts of a provider's discovery document cred-export uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    device_authorization_endpoint: str | None
    algorithms: tuple[str, ...]
    ca_bundle: str | None = None  # the profile's, for every call to this provider


def discover(profile: OidcProfile) -> Provider:
    url = http.check_url(profile.issuer.rstrip("/"), "issuer") + "/.well-known/openid-configuration"
    doc = http.get_json(url, profile.ca_bundle)
    if doc.get("issuer") != profile.issuer:
        raise UpstreamError(
            f"{url} names issuer {doc.get('issuer')!r}, not {profile.issuer!r}; set issuer to the exact value"
        )
    try:
        algorithms = [
            a for a in doc.get("id_token_signing_alg_values_supported", ["RS256"]) if a in _SAFE_ALGORITHMS
        ]
        return Provider(
            issuer=doc["issuer"],
            authorization_endpoint=http.check_url(doc["authorization_endpoint"], "authorization_endpoint"),
            token_endpoint=http.check_url(doc["token_endpoint"], "token_endpoint"),
            jwks_uri=http.check_url(doc["jwks_uri"], "jwks_uri"),
            device_authorization_endpoint=doc.get("device_authorization_endpoint"),
            algorithms=tuple(algorithms) or ("RS256",),
            ca_bundle=profile.ca_bundle,
        )
    except (KeyError, TypeError):
        raise UpstreamError(f"{url} is not a complete OpenID Provider configuration") from None


def token_request(
    profile: OidcProfile, provider: Provider, form: dict[str, str], client_secret: str | None
) -> dict[str, Any]:
    """POST to the token endpoint with the client's authentication (client_secret_post or none)."""
    body = {**form, "client_id": profile.client_id}
    if client_secret:
        body["client_secret"] = client_secret
    return http.post_form(provider.token_endpoint, body, ca=provider.ca_bundle)


def authorize_url(profile: OidcProfile, provider: Provider, request: AuthorizeRequest, nonce: str) -> str:
    """The provider's sign-in page for the authorization code flow, with PKCE and the nonce."""
    query = {
        "response_type": "code",
        "client_id": profile.client_id,
        "redirect_uri": request.redirect_uri,
        "scope": " ".join(profile.scopes),
        "state": request.state,
        "nonce": nonce,
        "code_challenge": request.code_challenge,
        "code_challenge_method": "S256",
        **dict(profile.authorize_parameters),
    }
    separator = "&" if "?" in provider.authorization_endpoint else "?"
    return provider.authorization_endpoint + separator + http.urlencode(query)


def redeem_code(
    profile: OidcProfile, provider: Provider, grant: CodeGrant, client_secret: str | None
) -> dict[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": grant.redirect_uri,
        "code_verifier": grant.code_verifier,
    }
    try:
        return token_request(profile, provider, form, client_secret)
    except http.OAuthError as exc:
        raise refused(profile, exc, "the sign-in") from None


def refused(profile: OidcProfile, error: http.OAuthError, what: str) -> LoginRequired | UpstreamError:
    """The failure an OAuth error response means: sign in again, or the provider refused."""
    reason = f"{error.error}: {error.description}" if error.description else error.error
    if error.error in ("invalid_grant", "access_denied", "expired_token", "login_required"):
        return LoginRequired(profile.name, f"{what} was refused: {reason}", code=error.error)
    return UpstreamError(
        f"the identity provider refused {what} for profile {profile.name!r}: {reason}",
        profile=profile.name,
        service=profile.issuer,
        code=error.error,
    )


def start_device(profile: OidcProfile, provider: Provider, client_secret: str | None) -> DeviceAuthorization:
    if not provider.device_authorization_endpoint:
        raise UpstreamError(f"{profile.issuer} does not offer the device authorization grant; use --browser")
    form = {"client_id": profile.client_id, "scope": " ".join(profile.scopes)}
    if client_secret:
        form["client_secret"] = client_secret
    try:
        endpoint = http.check_url(provider.device_authorization_endpoint, "device endpoint")
        data = http.post_form(endpoint, form, ca=provider.ca_bundle)
    except http.OAuthError as exc:
        raise refused(profile, exc, "device authorization") from None
    url = (
        data.get("verification_uri_complete") or data.get("verification_uri") or data.get("verification_url")
    )
    return DeviceAuthorization.starting_now(
        str(data["device_code"]),
        str(data["user_code"]),
        str(url),
        int(data.get("expires_in", 600)),
        int(data.get("interval", 5)),
    )


def poll_device(
    profile: OidcProfile,
    provider: Provider,
    device: DeviceAuthorization,
    client_secret: str | None,
    deadline: float,
) -> dict[str, Any]:
    """Poll the token endpoint until approval, expiry, or `deadline` (monotonic)."""
    form = {"grant_type": DEVICE_GRANT, "device_code": device.device_code}

    def attempt() -> dict[str, Any] | str:
        try:
            return token_request(profile, provider, form, client_secret)
        except http.OAuthError as exc:
            if exc.error in (device_grant.PENDING, device_grant.SLOW_DOWN):
                return exc.error
            raise refused(profile, exc, "the device sign-in") from None

    return device_grant.poll(device, deadline, profile.name, attempt)
