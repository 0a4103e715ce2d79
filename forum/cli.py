"""Command-line tasks: `flask --app forum seed`, and more as features arrive."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from forum.seed import load_demo_content


def register(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--content", type=click.Path(exists=True, file_okay=False), default=None,
                  help="Folder of demo content (default: the repository's content/).")
    def seed(content: str | None) -> None:
        """Load the demo diseases, questions, members and votes (safe to run twice)."""
        folder = Path(content or current_app.config["CONTENT_DIR"])
        report = load_demo_content(folder)
        click.echo(f"Seeded demo content from {folder}: {report}.")
