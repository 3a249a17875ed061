"""civicreport: 随手拍 civic reporting — photo evidence, grid routing, the closed loop.

Flask is imported inside ``create_app`` so that ``civicreport.media`` and
``civicreport.geo`` stay importable as plain Python.
"""

import os

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def create_app(config=None):
    """Build the app: settings, extensions, backends, blueprints and error handlers.

    ``config`` (a dict) wins over environment variables and defaults. Raises
    ``ValueError`` when a setting is malformed or names an unknown backend.
    """
    from flask import Flask, appcontext_popped, appcontext_pushed

    from civicreport import adapters, cli, models, registry  # noqa: F401  models registers the tables
    from civicreport import config as config_module
    from civicreport.abuse import throttle
    from civicreport.extensions import db, migrate, tune_sqlite
    from civicreport.web import (
        ROW_ID,
        RowIdConverter,
        admin,
        api,
        cobuild_admin,
        cobuild_pages,
        console,
        declarations,
        error_responses,
        guards,
        landing,
        media_files,
        mobile,
        oversight_pages,
        rate_limits,
        security_headers,
        signed_links,
        workflow,
    )
    from civicreport.web import docs as docs_routes
    from civicreport.web import exposure as exposure_routes
    from civicreport.web import listings as listing_routes
    from civicreport.web import matters as matter_routes
    from civicreport.web import open311 as open311_routes
    from civicreport.web import operations as operation_routes
    from civicreport.web import orders as order_routes
    from civicreport.web import points as point_routes
    from civicreport.web import public_map as public_map_routes
    from civicreport.web import rankings as ranking_routes
    from civicreport.web import redaction as redaction_routes
    from civicreport.web import stats as stats_routes
    from civicreport.web import whistles as whistle_routes
    from civicreport.web.access_log import scrub_werkzeug_log
    from civicreport.web.media_urls import FlaskMediaUrls
    from civicreport.web.public_url import PublicUrl
    from civicreport.web.request_bodies import InMemoryUploads, WholeBody

    scrub_werkzeug_log()  # the dev server's request lines would keep Open311's api_key
    app = Flask(__name__, instance_relative_config=True)
    app.request_class = InMemoryUploads
    app.wsgi_app = WholeBody(app.wsgi_app)
    guards.init_app(app)  # body size, JSON depth and NUL guards, before every other hook
    app.json.ensure_ascii = False
    os.makedirs(app.instance_path, exist_ok=True)
    settings = config_module.load(app.instance_path, config)
    app.config.update(config_module.flask_config(settings, config))
    app.extensions[registry.EXTENSION] = adapters.build_registry(settings, FlaskMediaUrls())
    # Domain code finds the settings and adapters through the registry of the app whose context is pushed.
    appcontext_pushed.connect(registry.bind_app, app)
    appcontext_popped.connect(registry.unbind_app, app)

    db.init_app(app)
    tune_sqlite(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    error_responses.init_app(app)
    security_headers.init_app(app)
    app.wsgi_app = PublicUrl(app.wsgi_app, app.config)  # inside ProxyFix: PUBLIC_URL wins over X-Forwarded-Host
    rate_limits.init_app(app)
    throttle.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        # Per-IP limits and blocks must see the client, not the proxy in front of us.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters[ROW_ID] = RowIdConverter
    app.register_blueprint(api.bp)
    app.register_blueprint(media_files.bp)
    app.register_blueprint(workflow.bp)
    app.register_blueprint(workflow.pages)
    app.register_blueprint(console.bp)
    app.register_blueprint(cobuild_pages.bp)
    app.register_blueprint(oversight_pages.pages)
    app.register_blueprint(oversight_pages.api)
    app.register_blueprint(mobile.bp)
    app.register_blueprint(landing.bp)
    app.register_blueprint(signed_links.bp)
    app.register_blueprint(mobile.api)
    app.register_blueprint(stats_routes.bp)
    app.register_blueprint(declarations.bp)
    app.register_blueprint(order_routes.bp)
    app.register_blueprint(whistle_routes.bp)
    app.register_blueprint(ranking_routes.bp)
    app.register_blueprint(ranking_routes.pages)
    app.register_blueprint(redaction_routes.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(cobuild_admin.bp)
    app.register_blueprint(matter_routes.bp)
    app.register_blueprint(listing_routes.bp)
    app.register_blueprint(listing_routes.pages)
    app.register_blueprint(point_routes.bp)
    app.register_blueprint(operation_routes.bp)
    app.register_blueprint(exposure_routes.bp)
    app.register_blueprint(exposure_routes.pages)
    app.register_blueprint(public_map_routes.api)
    app.register_blueprint(public_map_routes.pages)
    app.register_blueprint(docs_routes.bp)
    app.register_blueprint(open311_routes.bp)
    cli.init_app(app)
    return app
