"""POST/DELETE/GET /api/v1/consent, authenticated by API key."""

from __future__ import annotations

from .conftest import API_KEY, OTHER_KEY, Api, advance


def test_grant_show_revoke(api: Api) -> None:
    granted = api.client.post(
        "/api/v1/consent", json={"orgid": "org-a", "token": API_KEY, "scope": "org"}
    )
    assert granted.status_code == 200
    assert granted.json()["basis"] == "explicit:org"
    assert granted.json()["effective"]["actor"] == "api-key:test"

    shown = api.client.get(
        "/api/v1/consent?orgid=org-a", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert shown.status_code == 200
    assert shown.json()["basis"] == "explicit:org"
    assert [r["state"] for r in shown.json()["history"]] == ["granted"]

    advance(api.clock, seconds=1)  # history is ordered by time
    revoked = api.client.request(
        "DELETE", "/api/v1/consent", json={"orgid": "org-a", "token": API_KEY}
    )
    assert revoked.status_code == 200
    assert revoked.json()["basis"] == "revoked"
    assert api.ingest().status_code == 403

    again = api.client.get(
        "/api/v1/consent", params={"orgid": "org-a"}, headers={"X-API-Key": API_KEY}
    )
    assert [r["state"] for r in again.json()["history"]] == ["granted", "revoked"]


def test_unknown_org_shows_implicit_consent(api: Api) -> None:
    shown = api.client.get("/api/v1/consent?orgid=nobody", headers={"X-API-Key": API_KEY})
    assert shown.json()["basis"] == "implicit"
    assert shown.json()["history"] == []


def test_repo_scope_and_expiry(api: Api) -> None:
    expires = api.now_ms() + 3600 * 1000
    response = api.client.post(
        "/api/v1/consent",
        json={"orgid": "org-a", "token": API_KEY, "scope": "repo:acme/app", "expires_at": expires},
    )
    assert response.status_code == 200
    assert response.json()["changed"]["scope"] == "repo:acme/app"
    assert response.json()["changed"]["expires_at"] == expires
    shown = api.client.get(
        "/api/v1/consent",
        params={"orgid": "org-a", "repo": "acme/app"},
        headers={"X-API-Key": API_KEY},
    )
    assert shown.json()["basis"] == "explicit:repo:acme/app"


def test_bad_requests(api: Api) -> None:
    cases = [
        {"orgid": "org-a", "token": API_KEY, "scope": "team"},
        {"orgid": "org-a", "token": API_KEY, "expires_at": 1},
        {"orgid": "", "token": API_KEY},
        {"token": API_KEY},
    ]
    for body in cases:
        response = api.client.post("/api/v1/consent", json=body)
        assert response.status_code == 400, body
        assert response.json()["code"] == "INVALID_REQUEST"
    assert api.client.get("/api/v1/consent", headers={"X-API-Key": API_KEY}).status_code == 400


def test_authentication_and_org_binding(api: Api) -> None:
    assert api.client.post("/api/v1/consent", json={"orgid": "org-a"}).status_code == 401
    assert api.client.get("/api/v1/consent?orgid=org-a").status_code == 401
    assert (
        api.client.post(
            "/api/v1/consent", json={"orgid": "org-a", "token": "wrong-key-value"}
        ).status_code
        == 401
    )
    other_org = api.client.post("/api/v1/consent", json={"orgid": "org-b", "token": OTHER_KEY})
    assert other_org.status_code == 403
