"""The real MLflow UI of a repository's store (the README's `make ui`), in
Debian's chromium driven by Playwright, for the tests that look at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import readme
from tests.e2e import free_port, start_server, stop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def mlflow_ui(repo: Path) -> Iterator[tuple[object, str]]:
    """A chromium page and the UI's base URL, over ``repo``'s mlflow.db."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    port = free_port()
    # The README's command, on a free port.
    server = start_server(
        f"UI_PORT={port} {readme.command('make ui')}", repo, port, repo.with_suffix(".ui.log")
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield (
                browser.new_page(viewport={"width": 1600, "height": 1000}),
                (f"http://127.0.0.1:{port}"),
            )
            browser.close()
    finally:
        stop(server)
