"""Browser defences on every response the app sends: pages, API answers, errors, static files.

Pages (``text/html``) get a Content-Security-Policy that runs only the app's own scripts and
styles (no inline code, no plugins, no ``<base>``, forms post only to the app) and loads
images only from the app, ``data:``/``blob:`` (photo previews), the map tile host and the
photo store. Everything else gets ``default-src 'none'``: a JSON answer opened as a page
loads nothing. No response may be framed (the console's action buttons invite
clickjacking). ``Referrer-Policy: strict-origin`` sends the origin alone, and only over
HTTPS: tile providers (OpenStreetMap's usage policy; 天地图 and 高德 keys bound to a
domain) need to see it, while paths and queries never leave the app.
"""

from urllib.parse import urlsplit

from civicreport import registry

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin",
}


def init_app(app):
    app.after_request(add_security_headers)


def add_security_headers(response):
    """``after_request``: set the headers a view did not set itself (an original's sandbox stays)."""
    policy = page_policy() if response.mimetype == "text/html" else API_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def page_policy():
    images = " ".join(["'self'", "data:", "blob:", *image_origins()])
    return (
        f"default-src 'self'; img-src {images}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def image_origins():
    """Where pages load images from besides the app: tiles, presigned photo URLs, and the
    ``PUBLIC_URL`` photo URLs point at when staff reach the app by another address."""
    adapters = registry.current()
    settings = adapters.settings
    origins = (tile_origin(settings.MAP_TILE_URL), adapters.storage.url_origin, settings.PUBLIC_URL)
    return [origin for origin in dict.fromkeys(origins) if origin]


def tile_origin(template):
    """The CSP source of a Leaflet tile URL template: its scheme and host, with a host label
    that holds a placeholder (``{s}`` subdomains, ``webrd0{s}``) and all left of it as ``*``."""
    host = urlsplit(template).netloc
    if not host:
        return None
    labels = host.split(".")
    templated = [index for index, label in enumerate(labels) if "{" in label]
    if templated:
        host = ".".join(["*", *labels[templated[-1] + 1 :]])
    scheme = urlsplit(template).scheme
    return f"{scheme}://{host}" if scheme else host
