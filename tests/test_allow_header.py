"""A 405 names the methods the resource takes in ``Allow`` (RFC 9110 §15.5.6), on every route."""

import pytest

# (method sent, path, methods the path takes)
WRONG_METHODS = [
    ("delete", "/api/v1/categories", {"GET"}),
    ("put", "/api/v1/reports", {"POST"}),
    ("get", "/api/v1/media", {"POST"}),
    ("patch", "/api/v1/reports/QJ20260101-0001/transitions", {"POST"}),
    ("delete", "/api/v1/reports/QJ20260101-0001", {"GET"}),
    ("post", "/api/v1/auth/me", {"GET"}),
    ("get", "/api/v1/auth/login", {"POST"}),
    ("post", "/api/v1/admin/blocks/1", {"DELETE"}),
    ("put", "/api/v1/admin/users/someone", {"PATCH"}),
    ("post", "/api/v1/stats/units", {"GET"}),
    ("put", "/api/v1/docs", {"GET"}),
    ("post", "/console", {"GET"}),
    ("delete", "/m/", {"GET"}),
    ("post", "/media/display/aa.jpg", {"GET"}),
    ("post", "/static/console/staff.js", {"GET"}),
    ("put", "/open311/v2/requests.json", {"GET", "POST"}),
    ("post", "/open311/v2/services.xml", {"GET"}),
    ("delete", "/open311/v2/discovery.json", {"GET"}),
    ("patch", "/open311/v2/tokens/abc.xml", {"GET"}),
]


def allowed(response):
    return {method.strip() for method in response.headers.get("Allow", "").split(",") if method.strip()}


@pytest.mark.parametrize("method, path, takes", WRONG_METHODS)
def test_a_405_says_which_methods_the_resource_takes(client, method, path, takes):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert takes <= allowed(response) and method.upper() not in allowed(response)
    assert "method_not_allowed" in response.get_data(as_text=True)  # still the error shape (or Open311's)


@pytest.mark.parametrize("method, path, takes", WRONG_METHODS)
def test_every_method_allow_names_is_routed(client, method, path, takes):
    """``Allow`` is the truth: none of the methods it names is refused with a 405 in turn."""
    for other in allowed(getattr(client, method)(path)):
        assert client.open(path, method=other).status_code != 405, other


def test_an_unknown_open311_path_is_404_without_allow(client):
    response = client.delete("/open311/v2/nothing-here.json")
    assert response.status_code == 404 and "Allow" not in response.headers
