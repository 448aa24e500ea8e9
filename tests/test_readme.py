"""The README runs as written (issue 13): every GraphQL example in README.md runs in document
order on a fresh `agency serve --demo` as the caller the README names, and answers what it says.

- **The examples**: each ```graphql block (split into its operations), each inline `...` span
  that parses as a GraphQL operation, and what the shell and Python examples send with the
  partner app's token (`gql '{JSON}'`, `gql "$P"`, `curl ... -d '{JSON}'` with `Bearer $TOKEN`,
  the sync loop's `QUERY`); and the deliverables upload script, its curl commands sent by httpx and
  its two jq filters read by the test. Not run: the console commands (tests/test_cli.py) and the
  marketing export's curl (tests/partners/test_marketing_export.py).
- **The caller**: a `# As EMAIL` comment in a block sets it for the operations below it in that
  block; otherwise the prose right before the block ("..., as EMAIL:") or, for an inline span, the
  nearest "as EMAIL" (or "as the partner app") in its paragraph, before the span, else after it.
  `login` and `acceptInvitation` run anonymously. An example that names no caller fails the
  test: the README must say who runs it. Each user signs in once with the README's `login`
  mutation and the demo password; the partner app is the quick start's, registered with its
  `agency partner create` command and given a token by POST /oauth/token.
- **The answer**: no top-level `errors` and every payload's `errors` empty, unless the comment
  on the operation (the comment lines right above it or below a shell line, or at the end of its
  lines) names a code (`USE_CHURNED`, `DUPLICATE_NAME`, ...): then that code comes back (an error
  or a warning) and no other error does. `SAYS` holds what the README's prose says of an answer
  (the converted opportunity's project, the churn warning's project, ...) and its claims for other
  callers (null + FORBIDDEN for a portal user, a MEMBER, a partner; View as is read-only), checked
  right after the example runs.
- **What a reader fills in**: a partner app's `agp_...` client id (from `createPartnerApp`'s answer,
  or the quick start's app), the invitation token (from the e-mail `agency send-outbox` sends), and
  a comment's "run `agency ...`" is run before the operation below it.

A failure names the README line of the operation and shows the response. The server is one
`agency serve --demo` for the file: a new SQLite file, or on PostgreSQL (TEST_DATABASE_URL) a
database of its own beside the suite's, created fresh and dropped afterwards.
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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
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
    variables: dict[str, Any] | None = None  # a shell example's JSON body carries them

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


def _shell_examples(lines: list[str], start: int, enum_values: frozenset[str]) -> list[Example]:
    """The GraphQL a ```sh block sends with the partner app's token: `gql '{JSON}'` (the quick start's
    function), `P='{JSON}'` then `gql "$P"` or `gql "${P/old/new}"`, and `curl ... -d '{JSON}'` to
    /graphql with `Bearer $TOKEN`. The answer shown in the comment lines below one (or at the end
    of its line) names the code it expects."""
    examples = []
    saved: dict[str, str] = {}
    for index, line in enumerate(lines):
        code, _, comment = line.strip().partition("   #")
        code = code.strip()
        if assigned := re.fullmatch(r"(\w+)='(.*)'", code):
            saved[assigned.group(1)] = assigned.group(2)
            continue
        body = None
        if sent := re.fullmatch(r"gql '(.*)'", code):
            body = sent.group(1)
        elif sent := re.fullmatch(r'gql "\$(\w+)"', code):
            body = saved[sent.group(1)]
        elif sent := re.fullmatch(r'gql "\$\{(\w+)/([^/]*)/([^}]*)\}"', code):
            body = saved[sent.group(1)].replace(sent.group(2), sent.group(3), 1)
        elif (sent := re.fullmatch(r"-d '(\{\"query\".*)'", code)) and "Bearer $TOKEN" in lines[index - 1]:
            body = sent.group(1)
        if body is None:
            continue
        shown = [comment]
        for below in lines[index + 1 :]:
            if not below.startswith("#"):
                break
            shown.append(below)
        request = json.loads(body)
        operations = _operations(request["query"])
        assert operations is not None and len(operations) == 1, f"README.md:{start + index}: not one operation"
        examples.append(
            Example(
                line=start + index,
                source=request["query"],
                caller=PARTNER,
                expect=_expected_code(" ".join(shown), enum_values),
                root=_root_field(operations[0]),
                variables=request.get("variables"),
            )
        )
    return examples


def _python_examples(lines: list[str], start: int) -> list[Example]:
    """The partner sync loop's `QUERY = \"\"\"...\"\"\"`, sent as its first page is (`after`: null)."""
    text = "\n".join(lines)
    examples = []
    for query in re.finditer(r'^QUERY = """(.*?)"""', text, flags=re.S | re.M):
        operations = _operations(query.group(1))
        assert operations is not None and len(operations) == 1, f"README.md:{start}: QUERY is not one operation"
        examples.append(
            Example(
                line=start + text[: query.start()].count("\n"),
                source=query.group(1),
                caller=PARTNER,
                expect=None,
                root=_root_field(operations[0]),
                variables={"after": None},
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
    """Every GraphQL example of the README, in document order: ```graphql blocks, inline spans, and
    what the shell examples send with the partner app's token."""
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
        elif language == "sh":
            examples.extend(_shell_examples(lines[index + 1 : end], index + 2, enum_values))
        elif language == "python":
            examples.extend(_python_examples(lines[index + 1 : end], index + 2))
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
        if response.status_code != 200:  # a failure to report with the others, not to stop at
            return {"errors": [{"message": response.text, "extensions": {"code": f"HTTP {response.status_code}"}}]}
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
        body = self.post(self.fill(example), token, example.variables)
        self.remember(example, body)
        return body

    def cli(self, *arguments: str) -> str:
        """`agency ARGUMENTS` on the server's database, as the README runs it beside the server."""
        env = dict(os.environ, DATABASE_URL=self.database_url, PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", *arguments],
            cwd=self.server.log_path.parent,  # the server's directory: no .env from the checkout
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
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


# --------------------------------------------------------------------------- what the README says


Check = Callable[["Reader", Example, dict[str, Any]], list[str]]


def _data(body: dict[str, Any], *path: str | int) -> Any:
    value: Any = body.get("data")
    for key in path:
        value = value[key] if value is not None else None
    return value


def contains(*fragments: str) -> Check:
    """The answer holds each fragment (as `json.dumps` writes it)."""

    def check(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
        text = json.dumps(body)
        return [f"the README says the answer holds {f}" for f in fragments if f not in text]

    return check


def refused(caller: str, *fields: str) -> Check:
    """The README's claim that *caller* gets each of *fields* (`Type.field`, as `extensions.field`
    names it) back null with one FORBIDDEN error naming it: the example is run again as *caller*."""

    def check(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
        again = reader.post(reader.fill(example), reader.caller_token(caller))
        forbidden = [e for e in again.get("errors") or [] if (e.get("extensions") or {}).get("code") == "FORBIDDEN"]
        problems = []
        for name in fields:
            naming = [e for e in forbidden if e["extensions"].get("field") == name]
            if len(naming) != 1:
                problems.append(f"as {caller}, {len(naming)} FORBIDDEN errors name {name}; the README says one")
            elif _data(again, *naming[0]["path"]) is not None:
                problems.append(f"as {caller}, {name} answered data; the README says null")
        return problems + ([f"  -> {json.dumps(again)[:800]}"] if problems else [])

    return check


def _portal_sees_northwind_alone(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """Try it: "Sign in as olivia@northwind.example and the same query lists Northwind Coffee alone;
    its status and account value come back null, each with one FORBIDDEN error naming the field.
    Without a token it answers no data and an UNAUTHENTICATED error." """
    problems = refused("olivia@northwind.example", "Client.status", "Client.accountValue")(reader, example, body)
    olivia = reader.post(example.source, reader.token("olivia@northwind.example"))
    nodes = [e["node"] for e in _data(olivia, "clients", "edges") or []]
    if [n["name"] for n in nodes] != ["Northwind Coffee"] or any(n["status"] or n["accountValue"] for n in nodes):
        problems.append(f"as olivia@northwind.example: {json.dumps(olivia)[:800]}")
    anonymous = reader.post(example.source)
    codes = [(e.get("extensions") or {}).get("code") for e in anonymous.get("errors") or []]
    if _data(anonymous, "clients") is not None or codes != ["UNAUTHENTICATED"]:
        problems.append(f"without a token: {json.dumps(anonymous)[:800]}")
    return problems


def _worst_first(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "Active projects in trouble, worst first." """
    rank = {"OFF_TRACK": 0, "AT_RISK": 1}
    healths = [e["node"]["health"] for e in _data(body, "projects", "edges") or []]
    ok = healths and all(h in rank for h in healths) and healths == sorted(healths, key=rank.__getitem__)
    return [] if ok else [f"not active projects in trouble, worst first: {healths}"]


def _open_tasks_by_due_date(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "Open tasks by due date (undated last)." """
    nodes = [e["node"] for e in _data(body, "tasks", "edges") or []]
    dates = [n["dueDate"] or "9999-12-31" for n in nodes]
    ok = nodes and dates == sorted(dates) and {n["status"] for n in nodes} <= {"TODO", "IN_PROGRESS"}
    return [] if ok else [f"not open tasks by due date: {nodes}"]


def _view_as_is_the_portal_read_only(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "Every query answers exactly as for the portal user; every mutation is refused." """
    token = _data(body, "viewAs", "accessToken")
    home = "{ portalHome { client { name } openTasks { title dueDate } openInvoices { number amountDue } } }"
    viewed, own = reader.post(home, token), reader.post(home, reader.token("olivia@northwind.example"))
    problems = [] if viewed == own and "errors" not in own else [f"View as {viewed}, as Olivia {own}"]
    write = reader.post("mutation { markNotificationsRead { marked } }", token)
    codes = [(e.get("extensions") or {}).get("code") for e in write.get("errors") or []]
    if _data(write, "markNotificationsRead") is not None or "FORBIDDEN" not in codes:
        problems.append(f"a mutation with the View as token was not refused: {write}")
    return problems


def _dashboard_for_others(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "A portal user is refused it (FORBIDDEN, no zeros); a MEMBER gets every figure except
    money (the FINANCE fields, overdue payments and upsell readiness among them, null + FORBIDDEN)." """
    problems = refused("olivia@northwind.example", "Query.clientsDashboard")(reader, example, body)
    money = (
        "FinancialSnapshot.totalOutstanding",
        "HealthIndicators.overduePayments",
        "HealthIndicators.readyForUpsell",
    )
    problems += refused("dev.member@agency.example", *money)(reader, example, body)
    member = reader.post(example.source, reader.token("dev.member@agency.example"))
    if not _data(member, "clientsDashboard", "breakdown", "total"):
        problems.append(f"as a MEMBER, no breakdown: {json.dumps(member)[:800]}")
    return problems


def _same_payment_again(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "The same key with the same input answers the first payment and writes nothing." """
    payment = _data(body, "recordPayment", "payment")
    if example.expect or not payment:
        return [] if example.expect else ["no payment"]
    first = reader.filled.setdefault("idempotent payment", payment["id"])
    return [] if payment["id"] == first else [f"a second payment {payment['id']}, the README says the first, {first}"]


def _member_reads_the_directory_without_rates(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "A MEMBER gets the list, with rates null + FORBIDDEN as everywhere." (the example, asking for rates too)"""
    with_rates = replace(example, source=example.source.replace("jobTitle", "jobTitle hourlyCostRate hourlyBillRate"))
    problems = refused("dev.member@agency.example", "User.hourlyCostRate", "User.hourlyBillRate")(
        reader, with_rates, body
    )
    member = reader.post(with_rates.source, reader.token("dev.member@agency.example"))
    names = [e["node"]["fullName"] for e in _data(member, "users", "edges") or []]
    return problems + ([] if names == ["Dana Whitfield"] else [f"as a MEMBER, the directory lists {names}"])


def _portal_user_notified(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "A portal user sees an invoice once it is sent, and is notified." """
    number = _data(body, "sendInvoice", "invoice", "number")
    olivia = reader.token("olivia@northwind.example")
    seen = reader.post("{ invoices(filter: {status: [SENT]}) { edges { node { number } } } }", olivia)
    told = reader.post("{ notifications(unreadOnly: true) { edges { node { kind message } } } }", olivia)
    problems = []
    if number not in [e["node"]["number"] for e in _data(seen, "invoices", "edges") or []]:
        problems.append(f"Olivia does not see invoice {number}: {seen}")
    if f"#{number}" not in json.dumps(_data(told, "notifications")):
        problems.append(f"Olivia was not notified of invoice {number}: {told}")
    return problems


def _answers_as(caller: str, expected: Any, *path: str | int) -> Check:
    """The README's claim that the example, run as *caller*, answers *expected* at *path*, with no errors."""

    def check(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
        again = reader.post(reader.fill(example), reader.caller_token(caller), example.variables)
        ok = "errors" not in again and _data(again, *path) == expected
        return [] if ok else [f"as {caller}, {'.'.join(map(str, path))} is not {expected}: {json.dumps(again)[:800]}"]

    return check


def _revoked(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    return [] if _data(body, "revokePartnerApp", "app", "revokedAt") else ["the app is not revoked"]


INVITED = "the invited user's token"


def _signed_in(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    token = _data(body, "acceptInvitation", "tokens", "accessToken")
    if not token:
        return ["no tokens: not signed in"]
    reader.filled[INVITED] = token
    me = reader.post("{ me { email role } }", token)
    return [] if _data(me, "me", "role") == "CLIENT" else [f"the invited user is not a portal user: {me}"]


def _revoked_tokens_stop(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "A revoked user's tokens stop working at once." (the token the invitation's acceptance gave)"""
    response = reader.http.post(
        reader.server.graphql_url,
        json={"query": "{ me { email } }"},
        headers={"Authorization": f"Bearer {reader.filled[INVITED]}"},
    )
    return [] if response.status_code == 401 else [f"the revoked user's token still works: {response.text}"]


def _report_for_portal_users(reader: Reader, example: Example, body: dict[str, Any]) -> list[str]:
    """ "A portal user gets its own client's (another client's id answers null), with profitability only
    where its client shows costs (Northwind does), and never the team's hours." """
    problems = refused("olivia@northwind.example", "ClientReport.utilization")(reader, example, body)
    own = reader.post(example.source, reader.token("olivia@northwind.example"))
    if _data(own, "clientReport", "profitability", "profit") is None:
        problems.append(f"Olivia gets no profitability: {json.dumps(own)[:800]}")
    other = reader.post(example.source, reader.token("ben@bluebird.example"))
    if other != {"data": {"clientReport": None}}:
        problems.append(f"another client's portal user gets {json.dumps(other)[:800]}")
    return problems


# (root field, a piece of the operation's source, what the README says of its answer)
SAYS: list[tuple[str, str, Check]] = [
    # "REPLYs on her task ... as they are posted": the staff REPLY below it, with its author
    (
        "commentAdded",
        "",
        contains('"kind": "REPLY"', '"body": "The beta feedback is summarised in the brief"', '"fullName": "Maria'),
    ),
    ("clients", "clients(first: 5, orderBy: {field: NAME})", _portal_sees_northwind_alone),
    # the README's revokePortalAccess takes this user: the one just invited
    ("grantPortalAccess", "", contains('"user": {"id": "VXNlcjo5"}')),
    ("acceptInvitation", "", _signed_in),
    ("revokePortalAccess", "", _revoked_tokens_stop),
    ("viewAs", "", _view_as_is_the_portal_read_only),
    ("portalHome", "", contains('"client": {"name": "Northwind Coffee"}')),
    # "A Won lead becomes an Active client with its primary contact"
    ("convertLead", "", contains('"status": {"name": "Active"}', '"primaryContact": {"fullName": ')),
    ("deleteClient", "", contains('"code": "USE_CHURNED"')),
    # "The first returns the project "Loyalty app phase 2: gift cards" (budget 45000.00, ACTIVE)" and
    # "the opportunity is WON"
    (
        "convertOpportunity",
        "startDate",
        contains(
            '"opportunity": {"stage": "WON"',
            '"name": "Loyalty app phase 2: gift cards", "budget": "45000.00", "status": "ACTIVE"',
        ),
    ),
    ("updateContact", "roles: [DAY_TO_DAY, TECHNICAL]", contains('"reportsTo": {"fullName": "Olivia Chen"}')),
    ("createClient", "northwind coffee", contains('"client": null')),
    # "the churn warning on Crescent Financial Advisors lists "Advisor Website Rebuild""
    (
        "setClientStatus",
        "",
        contains('"status": {"name": "Churned"}', "Crescent Financial Advisors", '"name": "Advisor Website Rebuild"'),
    ),
    # "roles, reportsTo ... a portal user reads them on its own client's contacts"
    ("client", "reportsTo", contains('"fullName": "Priya Nair", "roles": ["TECHNICAL", "DAY_TO_DAY"]')),
    # "users is the team's (TEAM): a portal user or a partner gets null + FORBIDDEN"
    ("users", "", refused("olivia@northwind.example", "Query.users")),
    ("users", "", refused(PARTNER, "Query.users")),
    ("users", "", _member_reads_the_directory_without_rates),
    # "Client.portalUsers is TEAM too"
    ("clients", "portalUsers", refused("olivia@northwind.example", "Client.portalUsers")),
    # "A client's portal users, revoked ones too" (Marcus, revoked above)
    (
        "clients",
        "portalUsers",
        contains('"fullName": "Marcus Reed", "email": "marcus.reed@northwind.example", "isActive": false'),
    ),
    ("contacts", "", contains('"fullName": "Olivia Chen"')),
    ("projects", "", _worst_first),
    # "a portal user's projects(filter: {health: [AT_RISK]}) is null + FORBIDDEN"
    ("projects", "", refused("olivia@northwind.example", "Query.projects")),
    ("tasks", "", _open_tasks_by_due_date),
    # "includeUnbilled pulls the client's unbilled billable time (one TIME line per project and bill rate)":
    # the 2.5 hours just logged at Maria's bill rate among them
    ("createInvoice", "", contains('"kind": "TIME"', '"quantity": "2.50", "unitPrice": "165.00"')),
    ("sendInvoice", "", contains('"number": 1025, "status": "SENT"')),
    ("sendInvoice", "", _portal_user_notified),
    ("recordPayment", "method: CARD", contains('"status": "SENT"', '"paidOn": null')),  # part of it: still due
    ("clientsDashboard", "noActivityDays: 30)", _dashboard_for_others),
    # Health score: "a portal user gets Client.healthScore null + FORBIDDEN"; the weights are an ADMIN's to set.
    ("clients", "healthScore { score band }", refused("olivia@northwind.example", "Client.healthScore")),
    ("clientsDashboard", "healthScores { clientsScored", refused("olivia@northwind.example", "Query.clientsDashboard")),
    ("healthScoreWeights", "", refused("olivia@northwind.example", "Query.healthScoreWeights")),
    (
        "setHealthScoreWeights",
        "OVERDUE_PAYMENTS",
        refused("dev.member@agency.example", "Mutation.setHealthScoreWeights"),
    ),
    # Saved views: "a view is its user's alone" (the same dashboard as the view's owner's, refused to a portal user).
    ("dashboardViews", "", refused("olivia@northwind.example", "Query.dashboardViews")),
    ("clientReport", "", _report_for_portal_users),
    ("updatePartnerAppScopes", "", contains('"scopes": ["invoices:read"]')),
    ("revokePartnerApp", "", _revoked),
    # "the team's partnerApps is empty, a portal user's is refused"
    ("partnerApps", "", _answers_as("maria.manager@agency.example", [], "partnerApps")),
    ("partnerApps", "", refused("olivia@northwind.example", "Query.partnerApps")),
    # "ADMIN and MANAGER see every change, a MEMBER gets empty pages, a portal user is refused (FORBIDDEN)"
    ("changes", "first: 3", _answers_as("dev.member@agency.example", [], "changes", "edges")),
    ("changes", "first: 3", refused("olivia@northwind.example", "Query.changes")),
    # "`SW52b2ljZToyMA==` its sent invoice #1020"
    ("invoices", "status: [SENT]", contains('{"id": "SW52b2ljZToyMA==", "number": 1020}')),
    # the partner quick start, as the quick start's app
    ("setExternalId", "xero-contact-8f2a", contains('"name": "Northwind Coffee", "externalId": "xero-contact-8f2a"')),
    ("recordByExternalId", "", contains('"number": 1020')),
    ("setExternalId", "externalId: null", contains('"externalId": null')),
    ("recordPayment", "$input", _same_payment_again),
    ("webhookDeliveries", "", contains('"eventType": "client.updated"')),
    ("updateWebhookEndpoint", "", contains('"active": false')),
    (
        "setContactMarketingConsent",
        "",
        contains('"marketingConsent": true', '"marketingConsentSource": "Newsletter sign-up form"'),
    ),
]


# --------------------------------------------------------------------------- the deliverables script


def deliverables_script() -> tuple[int, list[str]]:
    """The README's upload-and-download script (the ```sh block that uploads with addDeliverable): its
    first line's number and its commands, continuation lines joined."""
    lines = README.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.strip() == "```sh" and "addDeliverable" in "\n".join(lines[index : index + 30]):
            end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
            text = "\n".join(lines[index + 1 : end]).replace("\\\n", " ")
            return index + 2, [c for c in text.splitlines() if c.strip() and not c.startswith("#")]
    raise AssertionError("the README has no deliverables upload script")


def _jq(document: Any, arguments: list[str]) -> str:
    """The two jq filters the script uses, `-r .a.b[0].c` and
    `-r --arg v X '.a.list[] | select(.k == $v) | .f'`; another one fails the test."""
    assert arguments[0] == "-r", arguments
    named = dict(zip(arguments[2:-1:3], arguments[3:-1:3], strict=True)) if arguments[1] == "--arg" else {}

    def path(value: Any, expression: str) -> Any:
        for key, index in re.findall(r"\.(\w+)(?:\[(\d+)\])?", expression):
            value = value.get(key) if isinstance(value, dict) else None
            if index and isinstance(value, list):
                value = value[int(index)] if int(index) < len(value) else None
        return value

    expression = arguments[-1]
    if picked := re.fullmatch(r"(\S+)\[\] \| select\(\.(\w+) == \$(\w+)\) \| (\S+)", expression):
        items = path(document, picked.group(1)) or []
        found = [path(item, picked.group(4)) for item in items if item.get(picked.group(2)) == named[picked.group(3)]]
        return str(found[0]) if found else ""
    assert re.fullmatch(r"(\.\w+(\[\d+\])?)+", expression), f"a jq filter the test does not know: {expression}"
    value = path(document, expression)
    return "null" if value is None else str(value)


def run_script(reader: Reader, commands: list[str]) -> list[str]:
    """Run the script's commands as bash would, with httpx for curl; what went wrong, by command."""
    variables: dict[str, str] = {}
    files: dict[str, bytes] = {}
    problems: list[str] = []

    def expand(text: str) -> str:
        return re.sub(r"\$\{?([A-Z]+)\}?", lambda m: variables.get(m.group(1), m.group(0)), text)

    def curl(arguments: list[str]) -> httpx.Response:
        headers: dict[str, str] = {}
        form: dict[str, str] = {}
        data: str | None = None
        url, output = "", None
        words = iter(arguments)
        for word in words:
            if word == "-H":
                name, _, value = expand(next(words)).partition(":")
                headers[name.strip()] = value.strip()
            elif word == "-d":
                data = expand(next(words))
            elif word == "-F":
                name, _, value = next(words).partition("=")
                form[name] = expand(value)
            elif word == "-o":
                output = next(words)
            elif word != "-s":
                url = expand(word)
        if form:
            uploads = {}
            for name, value in list(form.items()):
                if value.startswith("@"):
                    file, _, kind = value[1:].partition(";type=")
                    uploads[name] = (file, files[file], kind)
                    del form[name]
            response = reader.http.post(url, data=form, files=uploads, headers=headers)
        elif data is not None:
            response = reader.http.post(url, content=data.encode(), headers=headers)
        else:
            response = reader.http.get(url, headers=headers)
        if output:
            files[output] = response.content
        return response

    for command in commands:
        command = command.replace("http://127.0.0.1:8000", reader.server.url)  # the README's address: this server's
        assigned = re.fullmatch(r"([A-Z]+)=(.*)", command)
        target, command = (assigned.group(1), assigned.group(2)) if assigned else (None, command)
        if command.startswith("login() {"):
            continue  # signs in with the demo password: Reader.token does the same
        if signed_in := re.fullmatch(r"\$\(login (\S+)\)", command):
            variables[str(target)] = reader.token(signed_in.group(1))
        elif printed := re.fullmatch(r"printf '(.*)' > (\S+)", command):
            files[printed.group(2)] = printed.group(1).replace("%%", "%").replace("\\n", "\n").encode()
        elif target and not command.startswith("$("):
            variables[target] = expand(command)
        else:
            steps = command.removeprefix("$(").removesuffix(")").split(" && ")
            sent, _, jq = steps[0].partition(" | jq ")
            words = shlex.split(sent)
            assert words[0] == "curl", f"a command the test does not know: {command}"
            response = curl(words[1:])
            if "/graphql" in sent:
                body = response.json()
                if response.status_code != 200 or body.get("errors") or _codes(body.get("data"), "errors"):
                    problems.append(f"{command[:160]}\n  -> {response.status_code} {response.text[:800]}")
                if target:
                    variables[target] = _jq(body, [expand(word) for word in shlex.split(jq)])
                    if variables[target] in ("", "null"):
                        problems.append(f"{target} is empty after {command[:160]}\n  -> {response.text[:800]}")
            elif response.status_code != 200:
                problems.append(f"{command[:160]}\n  -> {response.status_code} {response.text[:300]}")
            for step in steps[1:]:
                if compared := re.fullmatch(r"cmp (\S+) (\S+)", step):
                    if files.get(compared.group(1)) != files.get(compared.group(2)):
                        problems.append(f"{step}: the files differ")
    return problems


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
    assert len(examples) >= 55, [str(e) for e in examples]
    roots = {e.root for e in examples}
    assert {"login", "clients", "convertLead", "sendInvoice", "recordPayment", "notifications", "portalHome"} <= roots
    unnamed = [str(e) for e in examples if e.caller is None and e.root not in ANONYMOUS_OPERATIONS]
    assert not unnamed, f"these README examples do not say who runs them: {unnamed}"
    unused = [
        (root, piece) for root, piece, _ in SAYS if not any(e.root == root and piece in e.source for e in examples)
    ]
    assert not unused, f"what the test checks of these README examples finds no example any more: {unused}"


def _is_subscription(example: Example) -> bool:
    operations = _operations(example.source)
    return bool(operations) and operations[0].operation.value == "subscription"  # type: ignore[index]


class Subscribed:
    """A README subscription, open over the WebSocket as its caller (graphql-transport-ws, the
    token in connection_init): it must answer with an event once the examples after it have run."""

    def __init__(self, reader: Reader, example: Example) -> None:
        from websockets.sync.client import connect
        from websockets.typing import Subprotocol

        self.example = example
        self._stack = contextlib.ExitStack()
        self.socket = self._stack.enter_context(
            connect(
                reader.server.url.replace("http", "ws", 1) + "/graphql",
                subprotocols=[Subprotocol("graphql-transport-ws")],
            )
        )
        token = reader.caller_token(example.caller) if example.caller else None
        self.socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        ack = json.loads(self.socket.recv(timeout=10))
        assert ack.get("type") == "connection_ack", f"{example}: the socket was not acknowledged: {ack}"
        query = reader.fill(example)
        self.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        time.sleep(0.5)  # the server opens the subscription's inbox as it starts the operation
        self.waited = 0

    def event(self, timeout: float) -> dict[str, Any] | None:
        """The first message for the subscription (an event's payload, or its error), or None."""
        try:
            message = json.loads(self.socket.recv(timeout=timeout))
        except TimeoutError:
            return None
        if message.get("type") == "next":
            return dict(message.get("payload") or {})
        return {"errors": message.get("payload") or [{"message": str(message)}]}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()


def _failure(example: Example, problems: list[str], body: dict[str, Any]) -> str:
    return f"{example}: " + "\n  ".join(problems) + f"\n  {example.source}\n  -> {json.dumps(body)[:1500]}"


def run_examples(reader: Reader, examples: list[Example]) -> list[str]:
    """Run *examples* in order; one message per example that does not answer what the README says.
    A subscription is opened over the WebSocket and answers with the first event the next
    examples (up to three) cause."""
    failures = []
    open_subscriptions: list[Subscribed] = []
    for example in examples:
        if _is_subscription(example):
            open_subscriptions.append(Subscribed(reader, example))
            continue
        body = reader.run(example)
        problems = problems_with(example, body)
        if not problems:
            for root, piece, check in SAYS:
                if root == example.root and piece in example.source:
                    problems += check(reader, example, body)
        if problems:
            failures.append(_failure(example, problems, body))
        still_open = []
        for subscribed in open_subscriptions:
            event = subscribed.event(timeout=3.0)
            if event is None and subscribed.waited < 2:
                subscribed.waited += 1
                still_open.append(subscribed)
                continue
            subscribed.close()
            if event is None:
                failures.append(_failure(subscribed.example, ["no event arrived"], {}))
            else:
                found = problems_with(subscribed.example, event)
                for root, piece, check in SAYS if not found else ():
                    if root == subscribed.example.root and piece in subscribed.example.source:
                        found += check(reader, subscribed.example, event)
                if found:
                    failures.append(_failure(subscribed.example, found, event))
        open_subscriptions = still_open
    for subscribed in open_subscriptions:
        subscribed.close()
        failures.append(_failure(subscribed.example, ["no example after it caused an event"], {}))
    return failures


def test_every_readme_example_runs_in_order_as_its_caller(reader: Reader):
    failures = run_examples(reader, readme_examples())
    assert not failures, "\n\n".join(failures)


BROKEN = """Run these as maria.manager@agency.example:

```graphql
query { client(id: "Q2xpZW50OjE=") { nam } }
mutation { grantPortalAccess(contactId: "Q29udGFjdDox") { user { id } errors { code message } } }
mutation { deleteClient(clientId: "Q2xpZW50OjE=") { errors { code } } }   # USE_CHURNED
mutation { deleteClient(clientId: "Q2xpZW50OjE=") { errors { code } } }   # NOT_FOUND
query { client(id: "Q2xpZW50OjE=") { name } }
```
"""


def test_a_broken_example_fails_naming_its_readme_line_and_the_answer(reader: Reader):
    """A renamed field, a spent id (Olivia has portal access already) and a code the README gets
    wrong each fail, with their line and the response; the examples that hold do not."""
    failures = run_examples(reader, readme_examples(BROKEN))
    assert [f.split(" ", 1)[0] for f in failures] == ["README.md:4", "README.md:5", "README.md:7"], failures
    assert "GRAPHQL_VALIDATION_FAILED" in failures[0] and "nam" in failures[0]
    assert "grantPortalAccess" in failures[1] and '"errors": [{"code": ' in failures[1]
    assert "no NOT_FOUND came back" in failures[2] and "USE_CHURNED" in failures[2]


def test_the_deliverables_script_uploads_completes_and_downloads(reader: Reader):
    """The README's shell script (curl and jq, run here by the test): a MEMBER uploads a PDF as a
    deliverable of Olivia's first open task and completes it, Olivia downloads the same bytes."""
    line, commands = deliverables_script()
    problems = run_script(reader, commands)
    assert not problems, f"README.md:{line}, the deliverables script:\n" + "\n".join(problems)
