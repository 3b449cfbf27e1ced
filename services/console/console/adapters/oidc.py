"""Production sign-in: OpenID Connect's authorization-code flow with PKCE (S256) against the
county's provider, through Authlib. The state and the code verifier travel in a signed,
short-lived cookie, so the console keeps nothing in memory between the two legs."""

from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client


class SignInFailed(Exception):
    """The provider's answer could not sign anyone in; the message is for people."""


@dataclass(frozen=True)
class Provider:
    authorization_endpoint: str
    token_endpoint: str
    client_id: str
    client_secret: str | None
    scope: str
    redirect_uri: str


@dataclass(frozen=True)
class Started:
    url: str
    flow: dict[str, str]


class OidcFlow:
    def __init__(self, provider: Provider) -> None:
        self._provider = provider

    def _client(self) -> AsyncOAuth2Client:
        p = self._provider
        return AsyncOAuth2Client(
            client_id=p.client_id,
            client_secret=p.client_secret,
            scope=p.scope,
            redirect_uri=p.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post" if p.client_secret else "none",
        )

    def start(self, next_page: str) -> Started:
        verifier = generate_token(64)
        nonce = generate_token(24)
        client = self._client()
        url, state = client.create_authorization_url(
            self._provider.authorization_endpoint, code_verifier=verifier, nonce=nonce
        )
        return Started(
            url=str(url),
            flow={"state": str(state), "verifier": verifier, "nonce": nonce, "next": next_page},
        )

    async def finish(self, flow: dict[str, Any] | None, *, state: str, code: str) -> str:
        """The access token for the code, after the state matched the one this browser began."""
        if not flow or flow.get("state") != state:
            raise SignInFailed(
                "This sign-in did not start here or took too long. Please sign in again."
            )
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    self._provider.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=flow["verifier"],
                )
            except OAuthError as error:
                raise SignInFailed(
                    f"The sign-in provider refused: {error.description or error.error}."
                ) from None
            except httpx.HTTPError:
                raise SignInFailed(
                    "The sign-in provider could not be reached or refused. Please try again."
                ) from None
        access = token.get("access_token")
        if not isinstance(access, str) or not access:
            raise SignInFailed("The sign-in provider gave no access token.")
        return access
