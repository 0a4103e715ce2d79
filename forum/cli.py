"""Command-line tasks: `flask --app forum seed`, `create-admin NAME`, `set-role NAME ROLE`,
`backup PATH` and `deliver`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from flask import Flask, current_app

from forum.auth.passwords import password_problem
from forum.auth.service import create_user, user_by_username, username_problem
from forum.backup import BackupError, backup_sqlite
from forum.extensions import db
from forum.mail.delivery import run_worker
from forum.models.users import ROLES
from forum.moderation.roles import set_role
from forum.notifications.service import queue_digests
from forum.seed import DEMO_LOGIN, DEMO_MODERATOR, load_demo_content

ADMIN_PASSWORD_ENV = "FORUM_ADMIN_PASSWORD"


def register(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option(
        "--content",
        type=click.Path(exists=True, file_okay=False),
        default=None,
        help="Folder of demo content (default: the repository's content/).",
    )
    @click.option(
        "--new-demo-password",
        is_flag=True,
        help=f"Give the demo account {DEMO_LOGIN!r} a new password, and print it.",
    )
    def seed(content: str | None, new_demo_password: bool) -> None:
        """Load the demo diseases, questions, members and votes (safe to run twice).

        Outside production it also makes the account "demo" a newcomer can log in as, and
        prints its password the first time (or with --new-demo-password).
        """
        folder = Path(content or current_app.config["CONTENT_DIR"])
        production = current_app.config["FORUM_ENV"] == "production"
        report = load_demo_content(
            folder, demo_login=not production, new_demo_password=new_demo_password
        )
        click.echo(f"Seeded demo content from {folder}: {report}.")
        if report.demo_password:
            click.echo(
                f"Log in as {DEMO_LOGIN!r} with the password {report.demo_password!r} "
                "(shown once; `flask seed --new-demo-password` makes another)."
            )
        if report.moderator_password:
            # Shown once: only the hash is stored, and later runs leave the account alone.
            click.echo(
                f"Demo moderator account: username {DEMO_MODERATOR}, "
                f"password {report.moderator_password} (shown only this once)."
            )

    @app.cli.command("create-admin")
    @click.argument("username")
    def create_admin(username: str) -> None:
        """Make USERNAME an administrator, creating the account if needed.

        The password of a new account is prompted for, or read from FORUM_ADMIN_PASSWORD
        for scripts.
        """
        existing = user_by_username(username)
        if existing is not None:
            existing.role = "admin"
            db.session.commit()
            click.echo(f"{existing.username} is now an administrator.")
            return
        problem = username_problem(username)
        if problem:
            raise click.BadParameter(problem, param_hint="USERNAME")
        password = os.environ.get(ADMIN_PASSWORD_ENV) or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        problem = password_problem(password, username)
        if problem:
            raise click.ClickException(f"That password cannot be used: {problem}")
        user = create_user(username, password, role="admin")
        db.session.commit()
        click.echo(f"Created the administrator account {user.username}.")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup(path: str) -> None:
        """Copy the SQLite database to PATH while the site keeps running (online backup).

        For PostgreSQL this prints the pg_dump command to use instead and exits with status 1.
        """
        try:
            report = backup_sqlite(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(str(report))

    @app.cli.command("set-role")
    @click.argument("username")
    @click.argument("role", type=click.Choice(ROLES))
    def set_member_role(username: str, role: str) -> None:
        """Give USERNAME the role member, moderator or admin (recorded in the moderation log)."""
        member = user_by_username(username)
        if member is None:
            raise click.ClickException(f"There is no member called {username}.")
        changed = set_role(None, member, role)
        db.session.commit()
        click.echo(f"{member.username} is {'now' if changed else 'already'} {role}.")

    @app.cli.command("deliver")
    @click.option("--once", is_flag=True, help="Send what is due, then exit.")
    @click.option(
        "--interval", default=5.0, show_default=True, help="Seconds between rounds when idle."
    )
    def deliver(once: bool, interval: float) -> None:
        """Send the outbox's email (and queue daily digests) until stopped, or --once.

        Several workers may run at once on PostgreSQL; on SQLite run one.
        """
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("forum.mail").setLevel(logging.INFO)
        if not current_app.config["MAIL_SERVER"]:
            click.echo("MAIL_SERVER is not set: email is written to this log instead of sent.")
        try:
            outcome = run_worker(once=once, interval=interval, before_each=queue_digests)
        except KeyboardInterrupt:
            click.echo("Stopped.")
            return
        click.echo(
            f"Delivered {outcome.sent}, to retry {outcome.retried}, given up {outcome.failed}."
        )
