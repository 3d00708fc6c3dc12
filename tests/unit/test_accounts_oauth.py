"""The pure OAuth pieces: PKCE, the consent URL, the callback query, the token endpoint's reply."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse

import pytest

from trayagent.accounts.oauth import Pkce, TokenGrant, authorization_url, code_from_callback, new_state, token_grant
from trayagent.config import OAuthSettings
from trayagent.errors import AccountError, GoogleError, LoginFailed

NOW = 1_795_435_200.0
REDIRECT = "http://localhost:51234/oauth-callback"
# spec/upstream.md, "OAuth": every scope the consent screen must ask for.
SPEC_SCOPES = {
    "openid",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    "https://www.googleapis.com/auth/cclog",
    "https://www.googleapis.com/auth/experimentsandconfigs",
}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def query_of(url: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)


@pytest.mark.parametrize("attempt", range(20))
def test_pkce_follows_rfc_7636(attempt: int):
    pkce = Pkce.generate()
    assert 43 <= len(pkce.verifier) <= 128
    assert re.fullmatch(r"[A-Za-z0-9\-._~]+", pkce.verifier)  # the unreserved characters only
    assert pkce.challenge == s256(pkce.verifier)
    assert len(pkce.challenge) == 43 and "=" not in pkce.challenge and re.fullmatch(r"[A-Za-z0-9_-]+", pkce.challenge)


def test_pkce_and_state_are_fresh_each_time():
    assert len({Pkce.generate().verifier for _ in range(50)}) == 50
    states = {new_state() for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in states)


def test_consent_url_carries_everything_the_spec_asks_for():
    pkce = Pkce.generate()
    settings = OAuthSettings(client_id="cid.apps.googleusercontent.com", auth_url="https://accounts.example/o/auth")
    url = authorization_url(settings, REDIRECT, "st4te-_x", pkce)
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.example/o/auth"
    query = query_of(url)
    assert all(len(values) == 1 for values in query.values())  # no parameter twice
    single = {key: values[0] for key, values in query.items()}
    assert set(single["scope"].split(" ")) == SPEC_SCOPES
    assert single == {
        "client_id": "cid.apps.googleusercontent.com",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": single["scope"],
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": "st4te-_x",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    assert "+" not in parts.query  # spaces as %20: scope survives any decoder


def test_consent_url_extends_an_existing_query_with_ampersand():
    settings = OAuthSettings(client_id="cid", auth_url="https://accounts.example/auth?hl=fr&authuser=1")
    url = authorization_url(settings, REDIRECT, "s", Pkce.generate())
    assert url.startswith("https://accounts.example/auth?hl=fr&authuser=1&client_id=cid&")
    assert url.count("?") == 1
    query = query_of(url)
    assert (query["hl"], query["authuser"], query["state"]) == (["fr"], ["1"], ["s"])


def test_redirect_uri_with_its_own_query_survives():
    redirect = "http://127.0.0.1:9/oauth-callback?a=1&b=2"
    url = authorization_url(OAuthSettings(), redirect, "s", Pkce.generate())
    assert query_of(url)["redirect_uri"] == [redirect]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"state": "other", "code": "4/c"}, "wrong state"),
        ({"state": "expected-state-x", "code": "4/c"}, "wrong state"),  # a longer value is not a match
        ({"state": "expected-stat", "code": "4/c"}, "wrong state"),
        ({"code": "4/c"}, "wrong state"),
        ({"state": "other", "error": "access_denied"}, "wrong state"),  # a forged answer says nothing else
        ({"state": "expected-state", "error": "access_denied"}, "you declined the consent screen"),
        ({"state": "expected-state", "error": "access_denied", "code": "4/c"}, "declined"),
        (
            {"state": "expected-state", "error": "invalid_scope", "error_description": "Some requested scopes"},
            r"^Google refused the sign-in: invalid_scope Some requested scopes$",
        ),
        ({"state": "expected-state", "error": "server_error"}, r"^Google refused the sign-in: server_error$"),
        ({"state": "expected-state"}, "carried no authorization code"),
        ({"state": "expected-state", "code": ""}, "carried no authorization code"),
    ],
)
def test_callback_failures(query: dict[str, str], message: str):
    with pytest.raises(LoginFailed, match=message) as caught:
        code_from_callback(query, "expected-state")
    assert isinstance(caught.value, AccountError)


def test_wrong_state_message_says_what_to_do():
    with pytest.raises(LoginFailed, match=r"start again with `trayagent accounts login`"):
        code_from_callback({"state": "x", "code": "c"}, "y")


@pytest.mark.parametrize("state", ["s", "Zm9v-YmFy_baz", "état"])
def test_callback_returns_the_code_for_an_equal_state(state: str):
    echoed = "".join(list(state))  # equal, not the same object
    assert code_from_callback({"state": echoed, "code": "4/0Ab-cd_e", "scope": "openid"}, state) == "4/0Ab-cd_e"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"access_token": "ya29.a", "expires_in": 3599}, TokenGrant("ya29.a", NOW + 3599)),
        ({"access_token": "ya29.a", "expires_in": 120.5}, TokenGrant("ya29.a", NOW + 120.5)),
        ({"access_token": "ya29.a"}, TokenGrant("ya29.a", NOW + 3600)),
        ({"access_token": "ya29.a", "expires_in": None}, TokenGrant("ya29.a", NOW + 3600)),
        (
            {"access_token": "ya29.a", "expires_in": 3599, "refresh_token": "1//r", "token_type": "Bearer",
             "scope": "openid", "id_token": "eyJ"},
            TokenGrant("ya29.a", NOW + 3599, "1//r"),
        ),
        ({"access_token": "ya29.a", "refresh_token": ""}, TokenGrant("ya29.a", NOW + 3600, None)),
        ({"access_token": "ya29.a", "refresh_token": None}, TokenGrant("ya29.a", NOW + 3600, None)),
    ],
)  # fmt: skip
def test_token_grant(reply: dict[str, object], expected: TokenGrant):
    assert token_grant(reply, NOW) == expected


@pytest.mark.parametrize(
    "reply",
    [{}, {"expires_in": 3599}, {"access_token": ""}, {"access_token": 5}, {"access_token": None}, None, [], "ya29.a"],
)
def test_token_grant_without_access_token(reply: object):
    with pytest.raises(GoogleError, match="without an access token"):
        token_grant(reply, NOW)


def test_an_auth_url_ending_in_a_bare_question_mark():
    url = authorization_url(
        OAuthSettings(auth_url="https://accounts.example/auth?"), "http://localhost:1/cb", "s", Pkce.generate()
    )
    assert url.startswith("https://accounts.example/auth?client_id=")
