"""Every enum of models.enums is a GraphQL enum under its own name.

`strawberry.enum` registers a class in place, so the models' classes themselves are the GraphQL
enums: types and inputs import them from `models` like any other code. This module only registers
them (with a description where the name alone does not say enough); `schema/__init__.py` imports
it, so the registration has happened before any type module is read.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from models import enums

DESCRIPTIONS: dict[type[Enum], str] = {
    enums.ClientCategory: "Lifecycle category every status belongs to.",
    enums.CommentKind: "REPLY: the client sees it. NOTE: internal, never shown to a client.",
    enums.OpportunityStage: "WON and LOST are final.",
    enums.ContactRole: "What a contact does for its client; BILLING: whom overdue-invoice reminders are meant for.",
}

for _enum in vars(enums).values():
    if isinstance(_enum, type) and issubclass(_enum, Enum) and _enum.__module__ == enums.__name__:
        strawberry.enum(_enum, description=DESCRIPTIONS.get(_enum))
