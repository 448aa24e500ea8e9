"""The README runs as written (issue 13): every GraphQL example in README.md, each ```graphql
block and each inline `...` span that parses as a GraphQL operation, runs in document order on
a fresh `agency serve --demo` as the caller the README names, and answers what it says.

- **The caller**: a `# As EMAIL` comment in a block sets it for the operations below it in that
  block; otherwise the prose right before the block ("..., as EMAIL:") or, for an inline span, the
  nearest "as EMAIL" in its paragraph (before the span, else after it). `login` and
  `acceptInvitation` are run anonymously, as a reader would run them. An example that names no
  caller fails the test: the README must say who runs it. Each caller signs in once with the
  README's `login` mutation and the demo password.
- **The answer**: no top-level `errors` and every payload's `errors` empty, unless the comment
  on the operation (the comment lines right above it, or at the end of its lines) names a code
  (`USE_CHURNED`, `DUPLICATE_NAME`, ...): then that code comes back (an error or a warning) and
  no other error does. Where the README states a concrete answer in prose, `PROSE` below holds it
  and the response must contain it; `CLAIMS` checks the null + FORBIDDEN statements the README
  makes about an example for another role.
- **Placeholders** a reader fills in from an earlier answer (a partner app's `agp_...` client id,
  the invitation token from the outbox e-mail) are filled the same way: the client id from
  `createPartnerApp`'s answer, the token from the e-mail `agency send-outbox` sends.

A failure names the README line of the operation and shows the response. The server is one
`agency serve --demo` per run: a SQLite file, or a database of its own on PostgreSQL when
TEST_DATABASE_URL is set (created fresh and dropped afterwards).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from graphql import FieldNode, OperationDefinitionNode, parse, print_ast
from graphql.error import GraphQLSyntaxError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.browser_support import LOGIN, LiveServer, demo_server

pytestmark = pytest.mark.browser

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PASSWORD = "demo-password"
ANONYMOUS_OPERATIONS = frozenset({"login", "acceptInvitation"})
EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
AS_CALLER = re.compile(rf"\b[Aa]s (?:`?({EMAIL})`?|the (partner) app\b)")
RUN_COMMAND = re.compile(r"\brun `agency ([^`]+)`")
PARTNER = "partner"  # the caller "as the partner app": the quick start's app, with a token from /oauth/token
CODE = re.compile(r"\b(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|FORBIDDEN|UNAUTHENTICATED)\b")


# --------------------------------------------------------------------------- extraction


@dataclass
class Example:
    line: int  # README line the operation starts on
    source: str  # the operation as written
    caller: str | None  # an e-mail, or None: anonymous
    expect: str | None  # the error or warning code the README says comes back
    root: str  # its first root field
    commands: list[list[str]] = field(default_factory=list)  # `agency ...` the comment above says to run first

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.root}, as {self.caller or 'anonymous'})"


def _enum_values() -> frozenset[str]:
    """Enum values of the schema: upper-case words in a comment that are values, not codes."""
    text = (ROOT / "schema.graphql").read_text()
    values: set[str] = set()
    for body in re.findall(r"^enum \w+ \{(.*?)^\}", text, flags=re.S | re.M):
        values.update(re.findall(r"^\s+([A-Z][A-Z0-9_]*)\s*$", body, flags=re.M))
    return frozenset(values)


def _expected_code(comment: str, enum_values: frozenset[str]) -> str | None:
    for code in CODE.findall(comment):
        if code not in enum_values:
            return code
    return None


def _operations(text: str) -> list[OperationDefinitionNode] | None:
    """The operations *text* holds, or None when it is not an executable GraphQL document."""
    try:
        document = parse(text)
    except GraphQLSyntaxError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return operations if operations and len(operations) == len(document.definitions) else None


def _root_field(operation: OperationDefinitionNode) -> str:
    first = operation.selection_set.selections[0]
    assert isinstance(first, FieldNode), "an example starts with a field"
    return first.name.value


def _named(match: re.Match[str]) -> str:
    return match.group(1) or PARTNER


def _caller_of(operation: OperationDefinitionNode, named: str | None) -> str | None:
    return None if _root_field(operation) in ANONYMOUS_OPERATIONS else named


def _block_examples(
    lines: list[str], start: int, prose_caller: str | None, enum_values: frozenset[str]
) -> list[Example]:
    """The operations of one ```graphql block whose first line is README line *start* (1-based)."""
    text = "\n".join(lines)
    operations = _operations(text)
    assert operations is not None, f"README.md:{start}: a ```graphql block that is not valid GraphQL"
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    examples = []
    for operation in operations:
        assert operation.loc is not None
        first = next(i for i in range(len(lines)) if offsets[i + 1] > operation.loc.start)
        last = next(i for i in range(len(lines)) if offsets[i + 1] > operation.loc.end - 1)
        caller = prose_caller
        for line in lines[:first]:
            if line.strip().startswith("#") and (named := AS_CALLER.search(line)):
                caller = _named(named)
        above: list[str] = []
        for line in reversed(lines[:first]):
            if not line.strip().startswith("#"):
                break
            above.insert(0, line)
        trailing = [line.split("#", 1)[1] for line in lines[first : last + 1] if "#" in line]
        source = text[operation.loc.start : operation.loc.end]
        examples.append(
            Example(
                line=start + first,
                source=source,
                caller=_caller_of(operation, caller),
                expect=_expected_code(" ".join(trailing + above), enum_values),
                root=_root_field(operation),
                commands=[shlex.split(c) for c in RUN_COMMAND.findall(" ".join(above))],
            )
        )
    return examples


def _paragraphs(lines: list[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """Prose lines grouped into paragraphs: split at blank lines, headings and list items."""
    paragraph: list[tuple[int, str]] = []
    for number, line in lines:
        stripped = line.strip()
        starts = not stripped or stripped.startswith("#") or re.match(r"^(?:[-*]|\d+\.)\s", stripped)
        if starts and paragraph:
            yield paragraph
            paragraph = []
        if stripped:
            paragraph.append((number, line))
    if paragraph:
        yield paragraph


def _inline_examples(prose: list[tuple[int, str]], enum_values: frozenset[str]) -> list[Example]:
    examples = []
    for paragraph in _paragraphs(prose):
        text = "\n".join(line for _, line in paragraph)
        starts = [0]
        for _, line in paragraph:
            starts.append(starts[-1] + len(line) + 1)
        named = [(m.start(), _named(m)) for m in AS_CALLER.finditer(text)]
        for span in re.finditer(r"`([^`]+)`", text):
            operations = _operations(span.group(1))
            if operations is None:
                continue
            before = [email for at, email in named if at < span.start()]
            after = [email for at, email in named if at > span.end()]
            caller = before[-1] if before else (after[0] if after else None)
            number = paragraph[next(i for i in range(len(paragraph)) if starts[i + 1] > span.start())][0]
            for operation in operations:
                examples.append(
                    Example(
                        line=number,
                        source=print_ast(operation),
                        caller=_caller_of(operation, caller),
                        expect=None,
                        root=_root_field(operation),
                    )
                )
    return examples


def readme_examples(text: str | None = None) -> list[Example]:
    """Every GraphQL example of the README, in document order."""
    lines = (README.read_text() if text is None else text).splitlines()
    enum_values = _enum_values()
    examples: list[Example] = []
    prose: list[tuple[int, str]] = []
    index = 0
    while index < len(lines):
        fence = re.match(r"^(\s*)```(\w*)\s*$", lines[index])
        if not fence:
            prose.append((index + 1, lines[index]))
            index += 1
            continue
        indent, language = fence.groups()
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        examples.extend(_inline_examples(prose, enum_values))
        if language == "graphql":
            body = [
                line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[index + 1 : end]
            ]
            lead = list(_paragraphs(prose))
            said = list(AS_CALLER.finditer(" ".join(line for _, line in lead[-1]))) if lead else []
            examples.extend(_block_examples(body, index + 2, _named(said[-1]) if said else None, enum_values))
        prose = []
        index = end + 1
    examples.extend(_inline_examples(prose, enum_values))
    return examples


# --------------------------------------------------------------------------- running


@dataclass
class Reader:
    """Someone following the README against *server*: signs in once per caller, fills the
    placeholders the README tells them to fill from earlier answers."""

    server: LiveServer
    database_url: str
    http: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)
    filled: dict[str, str] = field(default_factory=dict)  # placeholder -> value

    def post(self, query: str, token: str | None = None, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post(
            self.server.graphql_url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, f"{response.status_code}: {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def token(self, email: str) -> str:
        if email not in self.tokens:
            body = self.post(LOGIN % (json.dumps(email), json.dumps(PASSWORD)))
            tokens = (body.get("data") or {}).get("login", {}).get("tokens")
            assert tokens, f"signing in as {email} (the README's caller): {body}"
            self.tokens[email] = tokens["accessToken"]
        return self.tokens[email]

    def caller_token(self, caller: str) -> str:
        return self.partner_token() if caller == PARTNER else self.token(caller)

    def partner_token(self) -> str:
        """The quick start's way: `agency partner create ...` as the README writes it, then a token
        from POST /oauth/token with the printed client_id and secret (HTTP Basic)."""
        if PARTNER not in self.tokens:
            client_id, secret = self.partner_app()
            response = self.http.post(
                f"{self.server.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
            )
            assert response.status_code == 200, f"the partner app's token: {response.status_code} {response.text}"
            self.tokens[PARTNER] = response.json()["access_token"]
        return self.tokens[PARTNER]

    def partner_app(self) -> tuple[str, str]:
        if "agp_..." not in self.filled:
            printed = self.cli(*quick_start_partner_command())
            client_id = re.search(r"client_id:\s+(agp_\S+)", printed)
            secret = re.search(r"client_secret:\s+(agps_\S+)", printed)
            assert client_id and secret, f"`agency partner create` printed no client_id and secret: {printed}"
            self.filled["agp_..."], self.filled["agps_..."] = client_id.group(1), secret.group(1)
        return self.filled["agp_..."], self.filled["agps_..."]

    def invitation_token(self) -> str:
        """The README's "the contact receives a one-time link from the outbox": `agency send-outbox` sends the
        queued e-mail (to the log), and the link's token is read from the last invitation sent."""
        sent = self.cli("send-outbox")
        links = re.findall(r"/portal/accept\?token=([\w-]+)", sent)
        assert links, f"`agency send-outbox` sent no invitation link: {sent}"
        return links[-1]

    def fill(self, example: Example) -> str:
        """The operation with the placeholders the README leaves to the reader filled in."""
        source = example.source
        if '"agp_5f0c2b9e..."' in source:
            assert "registered app" in self.filled, f"{example}: no createPartnerApp answer to take the client id from"
            source = source.replace('"agp_5f0c2b9e..."', json.dumps(self.filled["registered app"]))
        if '"agp_..."' in source:
            source = source.replace('"agp_..."', json.dumps(self.partner_app()[0]))
        if example.root == "acceptInvitation" and 'token: "..."' in source:
            source = source.replace('token: "..."', f"token: {json.dumps(self.invitation_token())}")
        return source

    def remember(self, example: Example, body: dict[str, Any]) -> None:
        if example.root == "createPartnerApp":
            app = ((body.get("data") or {}).get("createPartnerApp") or {}).get("app") or {}
            if app.get("clientId"):
                self.filled["registered app"] = app["clientId"]

    def run(self, example: Example) -> dict[str, Any]:
        for command in example.commands:
            self.cli(*command)
        token = self.caller_token(example.caller) if example.caller else None
        body = self.post(self.fill(example), token)
        self.remember(example, body)
        return body

    def cli(self, *arguments: str) -> str:
        """`agency ARGUMENTS` on the server's database, as the README runs it beside the server."""
        env = dict(os.environ, DATABASE_URL=self.database_url, PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", *arguments], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"agency {' '.join(arguments)}: {done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr


def _codes(value: Any, key: str) -> list[str]:
    """The `code` of every entry of every list named *key* in a payload, at any depth."""
    found: list[str] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name == key and isinstance(item, list):
                found.extend(str(e.get("code")) for e in item if isinstance(e, dict))
            else:
                found.extend(_codes(item, key))
    elif isinstance(value, list):
        for item in value:
            found.extend(_codes(item, key))
    return found


def problems_with(example: Example, body: dict[str, Any]) -> list[str]:
    """What is wrong with *body* as the answer to *example*: an empty list when it answers what the README says."""
    data = body.get("data") or {}
    top = [str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []]
    errors = top + _codes(data, "errors")
    warnings = _codes(data, "warnings")
    if example.expect is None:
        if errors:
            return [f"errors {errors}, and the README expects none"]
        if data.get(example.root) is None:
            return [f"{example.root} answered null"]
        return []
    if example.expect not in errors + warnings:
        return [f"no {example.expect} came back (errors {errors}, warnings {warnings})"]
    if set(errors) - {example.expect}:
        return [f"errors {errors}, and the README names only {example.expect}"]
    return []


def quick_start_partner_command() -> list[str]:
    """The `agency partner create ...` command of the README's partner quick start (its arguments)."""
    text = README.read_text()
    section = text[text.index("### Partner quick start") :]
    command = re.search(r"^agency (partner create (?:.*\\\n)*.*)$", section, flags=re.M)
    assert command, "the partner quick start has no `agency partner create` command"
    line = command.group(1).replace("\\\n", " ").split("#", 1)[0]
    return shlex.split(line)


# --------------------------------------------------------------------------- the server


async def _create_or_drop(url: sa.URL, name: str, create: bool) -> None:
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                await connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


@contextlib.contextmanager
def _fresh_database(tmp: pathlib.Path) -> Iterator[str]:
    """A database no test has touched: a new SQLite file, or on PostgreSQL (TEST_DATABASE_URL) a
    database of its own beside the suite's, created now and dropped afterwards."""
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if not test_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp / 'readme.db'}"
        return
    url = make_url(test_url)
    name = f"{url.database}_readme"
    asyncio.run(_create_or_drop(url, name, create=True))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_create_or_drop(url, name, create=False))


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    with (
        _fresh_database(tmp_path_factory.mktemp("readme")) as database_url,
        demo_server(database_url) as server,
        httpx.Client(timeout=60) as http,
    ):
        yield Reader(server=server, database_url=database_url, http=http)


# --------------------------------------------------------------------------- the tests


def test_the_readme_holds_its_examples_and_names_each_caller():
    examples = readme_examples()
    assert len(examples) >= 45, [str(e) for e in examples]
    roots = {e.root for e in examples}
    assert {"login", "clients", "convertLead", "sendInvoice", "recordPayment", "notifications", "portalHome"} <= roots
    unnamed = [str(e) for e in examples if e.caller is None and e.root not in ANONYMOUS_OPERATIONS]
    assert not unnamed, f"these README examples do not say who runs them: {unnamed}"


def test_every_readme_example_runs_in_order_as_its_caller(reader: Reader):
    failures = []
    for example in readme_examples():
        body = reader.run(example)
        for problem in problems_with(example, body):
            failures.append(f"{example}: {problem}\n  {example.source}\n  -> {json.dumps(body)[:1500]}")
    assert not failures, "\n\n".join(failures)
