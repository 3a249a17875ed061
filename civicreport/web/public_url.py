"""The one origin absolute URLs are built from, whatever Host header a client sends.

Flask builds ``url_for(..., _external=True)``, ``request.host_url`` and redirects from the
WSGI environ's ``HTTP_HOST`` and ``wsgi.url_scheme``, which come from the request. With
``PUBLIC_URL`` set, this middleware overwrites both before Flask sees the request, so every
absolute URL the app hands out (photo URLs, Open311 discovery, anything added later) starts
with the configured origin and a forged Host or X-Forwarded-Host cannot steer it.
"""

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": "80", "https": "443"}


class PublicUrl:
    """WSGI middleware over the app's config (``PUBLIC_URL`` validated by ``config.public_url``),
    read per request like every other setting. ``create_app`` puts it inside ProxyFix, so the
    configured origin also wins over a forwarded host from a trusted proxy."""

    def __init__(self, wsgi_app, config):
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ, start_response):
        if self.config["PUBLIC_URL"]:
            _set_origin(environ, urlsplit(self.config["PUBLIC_URL"]))
        return self.wsgi_app(environ, start_response)


def _set_origin(environ, origin):
    environ["wsgi.url_scheme"] = origin.scheme
    environ["HTTP_HOST"] = origin.netloc
    environ["SERVER_NAME"] = origin.hostname
    environ["SERVER_PORT"] = str(origin.port) if origin.port else _DEFAULT_PORTS[origin.scheme]
