"""The forum for rare-disease communities: create_app builds the Flask application."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from forum import config, observability
from forum.database import configure_engine
from forum.extensions import compress, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application: settings from the environment, then `overrides` (for tests)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(config.load(app.instance_path))
    if overrides:
        app.config.update(overrides)
    if not app.config["CONTENT_DIR"]:
        app.config["CONTENT_DIR"] = str(ROOT / "content")

    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        # The client's address and scheme, which every proxy sets; the host only when the
        # operator says their proxy sets it (otherwise a client could choose it).
        host_hops = hops if app.config.get("PROXY_FIX_HOST") else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=host_hops)

    observability.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)

    from forum import assets, cli, errors, pagecache, querycount, security, templating

    errors.register(app)
    security.register(app)
    templating.register(app)
    assets.register(app)
    cli.register(app)
    querycount.register(app)
    # Last: its after_request then runs first, and keeps pages as their views made them.
    pagecache.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, connect_timeout=app.config["DATABASE_CONNECT_TIMEOUT"])
    # Server defaults are part of the schema `flask db check` compares with the models.
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        compare_server_default=True,
    )
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"

    from forum.auth.sessions import load_user
    from forum.redirects import unauthorized

    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


def _register_blueprints(app: Flask) -> None:
    from forum import health
    from forum.auth import views as auth
    from forum.comments import views as comments
    from forum.contacts import views as contacts
    from forum.diseases import views as diseases
    from forum.home import views as home
    from forum.mail import views as mail
    from forum.maps import views as maps
    from forum.members import views as members
    from forum.messages import views as messages
    from forum.moderation import bans
    from forum.moderation import views as moderation
    from forum.notifications import views as notifications
    from forum.pages import views as pages
    from forum.questions import views as questions

    for feature in (
        home,
        health,
        diseases,
        questions,
        comments,
        maps,
        auth,
        members,
        pages,
        moderation,
        contacts,
        messages,
        notifications,
        mail,
    ):
        app.register_blueprint(feature.bp)
    # Banned members are refused posting, voting, reporting, asking and joining a map.
    bans.register(app)
