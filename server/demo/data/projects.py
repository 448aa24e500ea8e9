"""Every project, in the order the clients are listed (each client's own projects in the order
they are written), whichever account manager's module holds them."""

from __future__ import annotations

from server.demo.data import projects_maria, projects_sam
from server.demo.data.clients import CLIENTS

_CLIENT_ORDER = {client.key: i for i, client in enumerate(CLIENTS)}

PROJECTS = tuple(
    sorted((*projects_maria.PROJECTS, *projects_sam.PROJECTS), key=lambda project: _CLIENT_ORDER[project.client])
)
