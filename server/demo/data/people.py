"""The agency's people: its staff (every sign-in shares one password), its custom client
statuses, which clients' primary contacts use the portal, and when everyone signs in."""

from __future__ import annotations

from models import ClientCategory, Role
from server.demo.data.records import StaffSpec

DEMO_PASSWORD = "demo-password"

STAFF = (
    StaffSpec(
        "owner",
        "owner@agency.example",
        "Alex Morgan",
        Role.ADMIN,
        "Founder & Managing Director",
        "+1 312 555 0100",
        "85.00",
        "225.00",
        "agency owner",
    ),
    StaffSpec(
        "maria",
        "maria.manager@agency.example",
        "Maria Delgado",
        Role.MANAGER,
        "Senior Account Manager",
        "+1 312 555 0101",
        "55.00",
        "165.00",
        "account manager (Northwind Coffee, Summit, Greenleaf, ...)",
    ),
    StaffSpec(
        "sam",
        "sam.manager@agency.example",
        "Sam Okafor",
        Role.MANAGER,
        "Account Manager",
        "+1 312 555 0102",
        "50.00",
        "150.00",
        "account manager (Bluebird Health, Meridian, Crescent, ...)",
    ),
    StaffSpec(
        "dev",
        "dev.member@agency.example",
        "Devon Park",
        Role.MEMBER,
        "Senior Full-Stack Developer",
        "+1 312 555 0103",
        "60.00",
        "175.00",
        "delivery team: developer",
    ),
    StaffSpec(
        "dana",
        "dana.member@agency.example",
        "Dana Whitfield",
        Role.MEMBER,
        "Product Designer",
        "+1 312 555 0104",
        "48.00",
        "140.00",
        "delivery team: designer",
    ),
    StaffSpec(
        "leo",
        "leo.member@agency.example",
        "Leo Martins",
        Role.MEMBER,
        "Content Strategist",
        "+1 312 555 0105",
        "40.00",
        "120.00",
        "delivery team: content",
    ),
)

# name -> (category, position); the built-ins come from the first migration.
CUSTOM_STATUSES = (
    ("VIP", ClientCategory.ACTIVE, 3),
    ("At Risk", ClientCategory.ACTIVE, 4),
    ("Pending Renewal", ClientCategory.ACTIVE, 5),
    ("Trial Period", ClientCategory.ACTIVE, 6),
)

# Portal users: (client key, note); each signs in as the client's primary contact.
PORTAL_CLIENTS = (
    ("northwind", "portal user for Northwind Coffee (costs shown, booking enabled)"),
    ("bluebird", "portal user for Bluebird Health (booking enabled)"),
)

# Portal sign-ins: client key -> (the client's network, its first host number, days ago). Northwind's
# is a regular portal user; Bluebird's logs in every couple of weeks.
PORTAL_LOGINS = {
    "northwind": ("203.0.113", 20, (1, 3, 5, 8, 12, 15, 19, 22, 26, 33, 40, 47, 61)),
    "bluebird": ("198.51.100", 40, (9, 16, 30, 44, 58)),
}
# Staff sign-ins, days ago: the owner and the managers are in every day, members now and then.
OFFICE_LOGIN_DAYS = (0, 1, 2, 4)
MEMBER_LOGIN_DAYS = (1, 3)
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
