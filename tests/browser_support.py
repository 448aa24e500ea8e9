"""Real clients against a real server: the demo agency served by `agency serve --demo` in a
subprocess on a free localhost port (SQLite in a temporary directory), headless Chromium
driven by Selenium through the system chromedriver, and a page object for GraphiQL 3.9.

Nothing here downloads anything: Chromium and chromedriver come from apt (`.ci/run` installs
them) and are named explicitly, so Selenium Manager is never asked for a driver.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVER_START_SECONDS = 30
WAIT_SECONDS = 10
SCREENSHOT_DIR = pathlib.Path(os.environ.get("AGENCY_SCREENSHOT_DIR", tempfile.gettempdir()))

LOGIN = """mutation {
  login(email: %s, password: %s) {
    tokens { accessToken }
    errors { code message }
  }
}"""


# --------------------------------------------------------------------------- the server


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    log_path: pathlib.Path

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def demo_server(database_url: str | None = None, workers: int = 1) -> Iterator[LiveServer]:
    """`agency serve --demo` from this checkout on a free port (a fresh SQLite file unless
    `database_url` is given), stopped (and its files removed) on the way out whatever happens.
    Raises with the server's log if it does not come up. With `workers` > 1 no AGENCY_SECRET_KEY
    is set: the command must give its workers one key itself."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="agency-live-"))
    env = dict(os.environ)
    env.pop("AGENCY_SECRET_KEY", None)
    env.update(DATABASE_URL=database_url or f"sqlite+aiosqlite:///{workdir / 'demo.db'}")
    if workers == 1:
        env["AGENCY_SECRET_KEY"] = secrets.token_urlsafe(48)
    env.update(
        AGENCY_OUTBOX_INTERVAL="0",
        AGENCY_JOBS_INTERVAL="0",
        AGENCY_DEBUG="false",
        # The code under test is this checkout, whatever the venv's install points at.
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    )
    process: subprocess.Popen | None = None
    try:
        for attempt in range(3):  # another process may take the free port before the server binds it
            port = _free_port()
            log_path = workdir / f"server-{attempt}.log"
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "server.cli",
                        "serve",
                        "--demo",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--workers",
                        str(workers),
                    ],
                    cwd=workdir,  # no stray .env or agency.db from the developer's checkout
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            server = LiveServer(url=f"http://127.0.0.1:{port}", log_path=log_path)
            if _wait_healthy(server, process):
                break
            _stop(process)
            if "address already in use" not in server.log_tail().lower():
                raise RuntimeError(f"the demo server did not start:\n{server.log_tail()}")
        else:
            raise RuntimeError(f"the demo server found no free port:\n{server.log_tail()}")
        yield server
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_healthy(server: LiveServer, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return True
        time.sleep(0.1)
    raise RuntimeError(f"the demo server did not answer /healthz in {SERVER_START_SECONDS}s:\n{server.log_tail()}")


# --------------------------------------------------------------------------- the browser


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium under the system chromedriver. A missing browser is an error,
    never a skip: CI must run these tests (`.ci/run` installs both with apt)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = _which("chromium", "chromium-browser", "/usr/lib/chromium/chromium")
    driver_path = _which("chromedriver", "/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")
    if not browser or not driver_path:
        raise RuntimeError(
            "Chromium and chromedriver are needed for the browser tests "
            "(Debian: apt-get install -y chromium chromium-driver; .ci/run does it). "
            f"Found browser={browser!r}, driver={driver_path!r}."
        )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(WAIT_SECONDS * 2)
        driver.set_script_timeout(WAIT_SECONDS)
        yield driver
    finally:
        driver.quit()


class SchemaNotLoaded(AssertionError):
    """GraphiQL could not load the schema (introspection refused or failed)."""


class GraphiQLPage:
    """The GraphiQL 3.9 page served at /graphql, driven the way a person would: editors are
    filled the way a paste fills them (CodeMirror's setValue), buttons are clicked, and
    autocompletion is triggered by real key presses."""

    QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
    RESPONSE = ".graphiql-response .CodeMirror"
    TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    DOCS_OUTCOME = (
        ".graphiql-doc-explorer-error, "  # "Error fetching schema", "No GraphQL schema available", ...
        ".graphiql-doc-explorer-root-type .graphiql-doc-explorer-type-name, "
        ".graphiql-doc-explorer-content .graphiql-doc-explorer-type-name"
    )

    def __init__(self, driver: Any, server: LiveServer) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.server = server
        self.wait = WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05)

    # ------------------------------------------------------------------ basics

    def open(self) -> GraphiQLPage:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC

        self.driver.get(self.server.graphql_url)
        self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, self.QUERY_EDITOR)))
        self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button")))
        return self

    def _editor(self, selector: str) -> str:
        return f"document.querySelector({json.dumps(selector)}).CodeMirror"

    def set_editor(self, selector: str, text: str) -> None:
        self.driver.execute_script(f"{self._editor(selector)}.setValue(arguments[0])", text)

    def editor_value(self, selector: str) -> str:
        return self.driver.execute_script(f"return {self._editor(selector)}.getValue()")

    def button(self, label: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, f"button[aria-label={json.dumps(label)}]")

    def until(self, condition: Callable[[], Any], message: str) -> Any:
        """Wait (explicitly, up to WAIT_SECONDS) until *condition* returns something truthy."""
        return self.wait.until(lambda _: condition(), message)

    def screenshot(self, name: str) -> pathlib.Path:
        path = SCREENSHOT_DIR / f"agency-graphiql-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.driver.save_screenshot(str(path))
        return path

    # ------------------------------------------------------------------ running operations

    def run(self, operation: str, done: Callable[[dict], bool]) -> dict:
        """Put *operation* in the query editor, press the run button, and return the JSON in the
        response pane once *done* says it is this operation's answer."""
        from selenium.webdriver.common.by import By

        self.set_editor(self.QUERY_EDITOR, operation)
        self.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

        def answered() -> dict | None:
            try:
                body = json.loads(self.editor_value(self.RESPONSE))
            except ValueError:
                return None
            return body if isinstance(body, dict) and done(body) else None

        return self.until(answered, f"no answer to {operation!r} in the response pane")

    def start(self, operation: str) -> None:
        """Put *operation* in the query editor and press the run button, without waiting for an
        answer (a subscription answers when its first event arrives)."""
        from selenium.webdriver.common.by import By

        self.set_editor(self.QUERY_EDITOR, operation)
        self.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

    def sign_in(self, email: str, password: str) -> str:
        """The README's steps: run the login mutation in the editor, read the access token from
        the response pane, put it in the Headers tab. Returns the token."""
        from selenium.webdriver.common.by import By

        body = self.run(
            LOGIN % (json.dumps(email), json.dumps(password)),
            lambda b: "login" in (b.get("data") or {}) or bool(b.get("errors")),
        )
        tokens = ((body.get("data") or {}).get("login") or {}).get("tokens")
        assert tokens and tokens.get("accessToken"), f"login as {email} through GraphiQL: {body}"
        token = tokens["accessToken"]
        self.driver.find_element(By.XPATH, "//button[normalize-space()='Headers']").click()
        self.set_editor(self.TOOL_EDITOR, json.dumps({"Authorization": f"Bearer {token}"}))
        return token

    def whoami(self) -> dict:
        body = self.run("{ me { email role } }", lambda b: "me" in (b.get("data") or {}) or bool(b.get("errors")))
        return body

    # ------------------------------------------------------------------ schema: docs and autocompletion

    def wait_for_signed_in_schema(self) -> None:
        """GraphiQL introspected anonymously when the page loaded; a changed Headers tab makes it
        introspect again by itself (server/graphiql.py). Open the docs and wait until they show a
        type only a signed-in caller's schema has."""
        from selenium.common.exceptions import StaleElementReferenceException

        self.open_docs()

        def signed_in_types() -> bool:
            try:
                return "Client" in self.docs_type_names()
            except StaleElementReferenceException:  # the docs re-rendered under us: look again
                return False

        self.until(signed_in_types, "the docs never showed the signed-in caller's schema")
        self.wait_for_schema()

    def open_docs(self) -> None:
        from selenium.webdriver.common.by import By

        self.button("Show Documentation Explorer").click()
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".graphiql-doc-explorer"))

    def wait_for_schema(self) -> None:
        """With the docs open: wait until the fetch is over (no spinner; an error or the root
        types shown), and raise SchemaNotLoaded if GraphiQL has no schema."""
        from selenium.webdriver.common.by import By

        def outcome() -> Any:
            if self.driver.find_elements(By.CSS_SELECTOR, ".graphiql-doc-explorer .graphiql-spinner"):
                return None
            return self.driver.find_elements(By.CSS_SELECTOR, self.DOCS_OUTCOME)

        shown = self.until(outcome, "the docs explorer showed neither the schema nor an error")
        errors = [e.text for e in shown if "graphiql-doc-explorer-error" in (e.get_attribute("class") or "")]
        if errors:
            raise SchemaNotLoaded(
                f"GraphiQL could not load the schema: {errors[0]!r}; "
                f"response pane: {self.editor_value(self.RESPONSE)[:500]}"
            )

    def docs_type_names(self) -> list[str]:
        """The type names the docs explorer's front page lists (root and all schema types)."""
        from selenium.webdriver.common.by import By

        return [
            a.text.strip()
            for a in self.driver.find_elements(
                By.CSS_SELECTOR, ".graphiql-doc-explorer .graphiql-doc-explorer-type-name"
            )
        ]

    def docs_fields_of(self, type_name: str) -> list[str]:
        """Click *type_name* among the root types and return the field names the docs list."""
        from selenium.webdriver.common.by import By

        link = self.until(
            lambda: next(
                (
                    a
                    for a in self.driver.find_elements(
                        By.CSS_SELECTOR, ".graphiql-doc-explorer .graphiql-doc-explorer-type-name"
                    )
                    if a.text.strip() == type_name
                ),
                None,
            ),
            f"no {type_name} link in the docs",
        )
        link.click()
        self.until(
            lambda: (
                self.driver.find_elements(By.CSS_SELECTOR, ".graphiql-doc-explorer-title")
                and self.driver.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer-title").text.strip() == type_name
            ),
            f"the docs did not open {type_name}",
        )
        return [
            e.text.strip()
            for e in self.driver.find_elements(
                By.CSS_SELECTOR, ".graphiql-doc-explorer .graphiql-doc-explorer-field-name"
            )
        ]

    def open_docs_field(self, field_name: str) -> str:
        """Click *field_name* in the type the docs show; return the text of the field's page."""
        from selenium.webdriver.common.by import By

        link = next(
            e
            for e in self.driver.find_elements(
                By.CSS_SELECTOR, ".graphiql-doc-explorer .graphiql-doc-explorer-field-name"
            )
            if e.text.strip() == field_name
        )
        link.click()
        self.until(
            lambda: (
                self.driver.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer-title").text.strip() == field_name
            ),
            f"the docs did not open the field {field_name}",
        )
        return self.driver.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer").text

    def type_in_query_editor(self, keys: str) -> None:
        """Empty the query editor, then type *keys* into it key by key, as a person would."""
        from selenium.webdriver.common.by import By

        self.set_editor(self.QUERY_EDITOR, "")
        self.driver.find_element(By.CSS_SELECTOR, f"{self.QUERY_EDITOR} .CodeMirror-scroll").click()
        self.driver.find_element(By.CSS_SELECTOR, f"{self.QUERY_EDITOR} textarea").send_keys(keys)

    def completions(self, expected: str) -> list[str]:
        """The autocompletion list, once it is open and offers *expected* (explicit wait)."""
        from selenium.webdriver.common.by import By

        def offered() -> list[str] | None:
            items = [
                e.text.strip() for e in self.driver.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints .CodeMirror-hint")
            ]
            return items if expected in items else None

        return self.until(offered, f"the autocompletion list never offered {expected!r}")
