"""Demo data: a realistic sample agency, loaded into an empty database, that exercises every part of the user guide."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.passwords import hash_password
from models import (
    Activity,
    ActivityKind,
    Client,
    ClientCategory,
    ClientStatus,
    ClientTier,
    Comment,
    CommentKind,
    Contact,
    Deliverable,
    DeliverableKind,
    Expense,
    Interaction,
    InteractionKind,
    Invoice,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceStatus,
    Lead,
    LeadStage,
    LoginEvent,
    Meeting,
    MeetingStatus,
    Notification,
    Opportunity,
    OpportunityKind,
    OpportunityStage,
    OutboxEmail,
    Payment,
    PaymentMethod,
    PortalInvitation,
    Project,
    ProjectHealth,
    ProjectStatus,
    Role,
    Task,
    TaskStatus,
    TimeEntry,
    User,
)
from models.clients import STATUS_ACTIVE, STATUS_CHURNED, STATUS_ON_HOLD
from models.surveys import SatisfactionSurvey

UTC = dt.UTC
CENT = Decimal("0.01")
NO_TAX = Decimal("0.0000")
VAT = Decimal("0.2000")

DEMO_PASSWORD = "demo-password"
FIRST_INVOICE_NUMBER = 1001
# Serialises two concurrent loads on PostgreSQL; on SQLite, BEGIN IMMEDIATE does.
_PG_LOCK_KEY = 0x0A6E_D3E0


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    password: str
    role: str
    note: str


# --------------------------------------------------------------------------- the agency


class _Staff(NamedTuple):
    key: str
    email: str
    full_name: str
    role: Role
    job_title: str
    phone: str
    cost_rate: str
    bill_rate: str
    note: str


_STAFF = (
    _Staff(
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
    _Staff(
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
    _Staff(
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
    _Staff(
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
    _Staff(
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
    _Staff(
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
_CUSTOM_STATUSES = (
    ("VIP", ClientCategory.ACTIVE, 3),
    ("At Risk", ClientCategory.ACTIVE, 4),
    ("Pending Renewal", ClientCategory.ACTIVE, 5),
    ("Trial Period", ClientCategory.ACTIVE, 6),
)


class _Person(NamedTuple):
    full_name: str
    local_part: str
    title: str
    phone: str
    decision_maker: bool = False
    notes: str | None = None


class _ClientSpec(NamedTuple):
    key: str
    name: str
    status: str
    tier: ClientTier
    industry: str
    domain: str
    address: str
    manager: str
    terms: int
    became: int | str  # days ago, or "month" / "quarter" for this month's / quarter's new clients
    notes: str
    contacts: tuple[_Person, ...]  # the first is the primary contact
    tax_rate: Decimal = NO_TAX
    booking: bool = False
    show_costs: bool = False


_CLIENTS = (
    _ClientSpec(
        "northwind",
        "Northwind Coffee",
        "VIP",
        ClientTier.GOLD,
        "Food & Beverage",
        "northwind.example",
        "1200 Harbor Ave SW\nSeattle, WA 98126\nUSA",
        "maria",
        30,
        610,
        "Our longest-running retail account: 42 cafés. Olivia is an enthusiastic portal user; keep Replies "
        "short and visual. Renewal of the loyalty programme retainer is due in Q3.",
        (
            _Person(
                "Olivia Chen",
                "olivia",
                "Head of Marketing",
                "+1 206 555 0142",
                True,
                "Prefers async updates in the portal; call only for budget questions.",
            ),
            _Person("Marcus Reed", "marcus.reed", "Operations Director", "+1 206 555 0143", True),
            _Person("Priya Nair", "priya", "Digital Product Manager", "+1 206 555 0144"),
        ),
        tax_rate=VAT,
        booking=True,
        show_costs=True,
    ),
    _ClientSpec(
        "bluebird",
        "Bluebird Health",
        "Active",
        ClientTier.PLATINUM,
        "Healthcare",
        "bluebird.example",
        "88 Meridian Plaza, Suite 400\nBoston, MA 02110\nUSA",
        "sam",
        45,
        420,
        "Regional clinic network (19 sites). Every patient-facing change needs sign-off from Dr. Grant; "
        "hosting changes need Tom's security review. Net 45 agreed in the MSA.",
        (
            _Person(
                "Ben Carter",
                "ben",
                "Director of Digital Experience",
                "+1 617 555 0190",
                True,
                "Champion for the portal redesign; books meetings through the portal.",
            ),
            _Person(
                "Dr. Alisha Grant",
                "alisha.grant",
                "Chief Medical Officer",
                "+1 617 555 0191",
                True,
                "Signs off on all patient-facing copy.",
            ),
            _Person(
                "Tom Becker",
                "tom.becker",
                "IT Security Lead",
                "+1 617 555 0192",
                False,
                "Needs five working days to review any hosting change.",
            ),
            _Person("Nora Simmons", "nora", "Patient Experience Coordinator", "+1 617 555 0193"),
        ),
        booking=True,
    ),
    _ClientSpec(
        "summit",
        "Summit Outdoor Gear",
        "Active",
        ClientTier.SILVER,
        "Retail & E-commerce",
        "summitgear.example",
        "455 Canyon Rd\nBoulder, CO 80302\nUSA",
        "maria",
        30,
        700,
        "Returned after a year on hold (reactivated for the spring catalogue). Seasonal: heavy in Q1 and Q4.",
        (
            _Person("Jake Lindqvist", "jake", "CEO & Founder", "+1 303 555 0120", True),
            _Person("Hannah Brooks", "hannah", "E-commerce Manager", "+1 303 555 0121"),
        ),
    ),
    _ClientSpec(
        "crescent",
        "Crescent Financial Advisors",
        "At Risk",
        ClientTier.GOLD,
        "Financial Services",
        "crescentfa.example",
        "20 Wall Street, 12th Floor\nNew York, NY 10005\nUSA",
        "sam",
        30,
        500,
        "At risk: website rebuild is past its deadline, an invoice is overdue and the new CFO keeps "
        "mentioning a competitor's proposal. Owner to join the next call.",
        (
            _Person(
                "Richard Vance",
                "richard.vance",
                "Managing Director",
                "+1 212 555 0170",
                True,
                "Has mentioned a competitor's proposal twice.",
            ),
            _Person("Emily Sato", "emily.sato", "Marketing Coordinator", "+1 212 555 0171"),
            _Person(
                "Paul Hughes",
                "paul.hughes",
                "Chief Financial Officer",
                "+1 212 555 0172",
                True,
                "New stakeholder since last quarter; very cost-focused.",
            ),
        ),
    ),
    _ClientSpec(
        "greenleaf",
        "Greenleaf Organics",
        "Pending Renewal",
        ClientTier.SILVER,
        "Agriculture & Food",
        "greenleaf.example",
        "7 Orchard Lane\nPortland, OR 97205\nUSA",
        "maria",
        30,
        350,
        "SEO retainer ends next month; renewal proposal sent with an expanded content scope.",
        (
            _Person("Sofia Alvarez", "sofia", "Brand Manager", "+1 503 555 0130", True),
            _Person("Liam O'Connor", "liam", "Content Lead", "+1 503 555 0131"),
        ),
    ),
    _ClientSpec(
        "atlas",
        "Atlas Logistics",
        "Trial Period",
        ClientTier.STANDARD,
        "Logistics",
        "atlaslogistics.example",
        "3100 Freight Way\nMemphis, TN 38118\nUSA",
        "sam",
        30,
        "quarter",
        "Paid pilot: a shipment tracking dashboard. If the pilot lands, they have budget for a customer portal.",
        (
            _Person("Daniel Kim", "daniel.kim", "VP Operations", "+1 901 555 0150", True),
            _Person("Rachel Moss", "rachel.moss", "Customer Success Lead", "+1 901 555 0151"),
        ),
    ),
    _ClientSpec(
        "harbor",
        "Harbor & Pine Legal",
        "Active",
        ClientTier.STANDARD,
        "Legal Services",
        "harborpine.example",
        "14 Pine Street\nPortland, ME 04101\nUSA",
        "maria",
        15,
        "month",
        "New this month, converted from a referral lead. Small firm, quick decisions, wants a fixed-price launch.",
        (
            _Person("Grace Holloway", "grace", "Managing Partner", "+1 207 555 0160", True),
            _Person("Owen Fitzgerald", "owen", "Office Manager", "+1 207 555 0161"),
        ),
    ),
    _ClientSpec(
        "lumen",
        "Lumen Architecture Studio",
        "On Hold",
        ClientTier.SILVER,
        "Architecture",
        "lumenstudio.example",
        "250 Mission St\nSan Francisco, CA 94105\nUSA",
        "sam",
        30,
        260,
        "On hold: video series paused until their new office opens. Likely to return in the autumn.",
        (
            _Person("Isabel Duarte", "isabel", "Principal Architect", "+1 415 555 0180", True),
            _Person("Felix Wagner", "felix", "Studio Coordinator", "+1 415 555 0181"),
        ),
    ),
    _ClientSpec(
        "redwood",
        "Redwood Fitness Co.",
        "On Hold",
        ClientTier.STANDARD,
        "Health & Fitness",
        "redwoodfit.example",
        "900 Redwood Blvd\nSacramento, CA 95814\nUSA",
        "maria",
        30,
        230,
        "Paused the booking app for budget reasons after opening two new gyms. Revisit in January.",
        (
            _Person("Chris Patel", "chris", "Owner", "+1 916 555 0110", True),
            _Person("Mia Johnson", "mia", "Membership Manager", "+1 916 555 0111"),
        ),
    ),
    _ClientSpec(
        "copperline",
        "Copperline Brewing",
        "Churned",
        ClientTier.STANDARD,
        "Food & Beverage",
        "copperline.example",
        "61 Foundry St\nMilwaukee, WI 53204\nUSA",
        "sam",
        30,
        340,
        "Churned: went with an in-house developer after the distribution portal was cancelled. Parted on good terms.",
        (
            _Person("Sean Murphy", "sean", "Co-founder", "+1 414 555 0140", True),
            _Person("Kate Donnelly", "kate", "Taproom Manager", "+1 414 555 0141"),
        ),
    ),
    _ClientSpec(
        "orbit",
        "Orbit Software Labs",
        "Churned",
        ClientTier.GOLD,
        "SaaS",
        "orbitlabs.example",
        "500 Innovation Dr\nAustin, TX 78701\nUSA",
        "maria",
        30,
        430,
        "Churned: acquired by a larger vendor whose in-house team took over the site. Aisha may refer us.",
        (
            _Person("Aisha Bello", "aisha", "VP Marketing", "+1 512 555 0195", True),
            _Person("Ravi Shah", "ravi", "Developer Relations Lead", "+1 512 555 0196"),
            _Person("Jonas Berg", "jonas", "CTO", "+1 512 555 0197", True),
        ),
    ),
    _ClientSpec(
        "meridian",
        "Meridian Hotels Group",
        "VIP",
        ClientTier.PLATINUM,
        "Hospitality",
        "meridianhotels.example",
        "1 Meridian Square\nChicago, IL 60601\nUSA",
        "sam",
        30,
        480,
        "Largest account by revenue (11 hotels). Quarterly business reviews with Claire; upsell path is a "
        "multi-property booking engine.",
        (
            _Person("Claire Dubois", "claire.dubois", "Chief Commercial Officer", "+1 312 555 0210", True),
            _Person("Martin Osei", "martin.osei", "Director of E-commerce", "+1 312 555 0211", True),
            _Person(
                "Yuki Tanaka",
                "yuki",
                "Revenue Manager",
                "+1 312 555 0212",
                False,
                "Owns the rate calendar; loop in before any booking-engine release.",
            ),
            _Person("Laura Fischer", "laura", "Brand Manager", "+1 312 555 0213"),
        ),
        tax_rate=VAT,
    ),
)

# Portal users: (client key, note); each signs in as the client's primary contact.
_PORTAL_CLIENTS = (
    ("northwind", "portal user for Northwind Coffee (costs shown, booking enabled)"),
    ("bluebird", "portal user for Bluebird Health (booking enabled)"),
)


class _LeadSpec(NamedTuple):
    company: str
    contact: str
    email: str
    title: str
    phone: str
    industry: str
    stage: LeadStage
    value: str
    source: str
    owner: str
    created_ago: int
    converts_to: str | None = None  # client key


_LEADS = (
    _LeadSpec(
        "Harbor & Pine Legal",
        "Grace Holloway",
        "grace@harborpine.example",
        "Managing Partner",
        "+1 207 555 0160",
        "Legal Services",
        LeadStage.WON,
        "28000.00",
        "Referral (Northwind Coffee)",
        "maria",
        48,
        converts_to="harbor",
    ),
    _LeadSpec(
        "Quill & Ink Publishing",
        "Hugo Lambert",
        "hugo@quillink.example",
        "Publisher",
        "+1 617 555 0230",
        "Publishing",
        LeadStage.LOST,
        "32000.00",
        "Conference",
        "sam",
        120,
    ),
    _LeadSpec(
        "Vista Dental Group",
        "Dr. Sara Whitman",
        "sara@vistadental.example",
        "Practice Owner",
        "+1 480 555 0240",
        "Healthcare",
        LeadStage.NEW,
        "15000.00",
        "Website form",
        "sam",
        3,
    ),
    _LeadSpec(
        "Pioneer Robotics",
        "Kenji Mori",
        "kenji@pioneerrobotics.example",
        "Head of Growth",
        "+1 408 555 0250",
        "Manufacturing",
        LeadStage.CONTACTED,
        "45000.00",
        "LinkedIn",
        "owner",
        12,
    ),
    _LeadSpec(
        "Sunrise Bakery Collective",
        "Amelia Ross",
        "amelia@sunrisebakery.example",
        "Co-owner",
        "+1 503 555 0260",
        "Food & Beverage",
        LeadStage.QUALIFIED,
        "12000.00",
        "Referral (Greenleaf)",
        "maria",
        21,
    ),
    _LeadSpec(
        "Tidewater Marine Supply",
        "Frank Delaney",
        "frank@tidewatermarine.example",
        "General Manager",
        "+1 757 555 0270",
        "Retail & E-commerce",
        LeadStage.PROPOSAL,
        "38000.00",
        "Trade show",
        "sam",
        35,
    ),
    _LeadSpec(
        "Keystone Property Management",
        "Nadia Petrova",
        "nadia@keystonepm.example",
        "Director of Marketing",
        "+1 215 555 0280",
        "Real Estate",
        LeadStage.NEGOTIATION,
        "64000.00",
        "Outbound",
        "owner",
        55,
    ),
)


# --------------------------------------------------------------------------- the work


class _Del(NamedTuple):
    title: str
    kind: DeliverableKind
    url: str
    complete: bool


class _TaskSpec(NamedTuple):
    title: str
    status: TaskStatus
    assignee: str
    due: int  # days from today (negative: past)
    estimate: str
    visible: bool = True
    deliverables: tuple[_Del, ...] = ()


class _CommentSpec(NamedTuple):
    task: str | None  # a task title of the same project, or None for a project comment
    kind: CommentKind
    author: str  # a staff key or a portal client key
    days_ago: int
    body: str


class _ExpenseSpec(NamedTuple):
    description: str
    amount: str
    billable: bool
    days_ago: int
    by: str


class _ProjectSpec(NamedTuple):
    client: str
    name: str
    status: ProjectStatus
    health: ProjectHealth
    start: int | None  # days ago; None: the client's first day
    end: int  # days from today (negative: past)
    budget: str
    description: str
    tasks: tuple[_TaskSpec, ...]
    comments: tuple[_CommentSpec, ...] = ()
    expenses: tuple[_ExpenseSpec, ...] = ()
    paused: int | None = None  # ON_HOLD: days ago the work stopped
    fixed_fee: bool = False  # invoiced by milestone; its hours are tracked for profitability, not billed


def _figma(slug: str) -> str:
    return f"https://www.figma.com/file/demo-{slug}"


def _files(slug: str) -> str:
    return f"https://files.agency.example/deliverables/{slug}"


T, C, E, D = _TaskSpec, _CommentSpec, _ExpenseSpec, _Del
LINK, FILE = DeliverableKind.LINK, DeliverableKind.FILE
TODO, DOING, REVIEW, DONE = TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.IN_REVIEW, TaskStatus.DONE
REPLY, NOTE = CommentKind.REPLY, CommentKind.NOTE

_PROJECTS = (
    # ---------------------------------------------------------------- Northwind Coffee
    _ProjectSpec(
        "northwind",
        "Loyalty App Launch",
        ProjectStatus.ACTIVE,
        ProjectHealth.ON_TRACK,
        120,
        45,
        "85000.00",
        "iOS and Android loyalty app: points on every order, rewards catalogue, barista-side redemption.",
        (
            T(
                "Wireframes for the rewards flow",
                DONE,
                "dana",
                -70,
                "24",
                True,
                (
                    D("Rewards flow wireframes (PDF)", FILE, _files("northwind/rewards-wireframes-v3.pdf"), True),
                    D("Clickable prototype", LINK, _figma("northwind-rewards"), True),
                ),
            ),
            T("Build the points ledger API", DONE, "dev", -30, "40"),
            T("Barista app checkout integration", DOING, "dev", 10, "32"),
            T(
                "Review beta tester feedback",
                REVIEW,
                "dana",
                3,
                "8",
                True,
                (D("Beta feedback summary", LINK, "https://docs.agency.example/northwind/beta-feedback", False),),
            ),
            T("App Store and Play Store submission", TODO, "dev", 35, "6"),
            T("Load-test the ledger before launch", TODO, "dev", 20, "10", False),
        ),
        (
            C(
                "Wireframes for the rewards flow",
                REPLY,
                "maria",
                72,
                "The final wireframes are attached. Could you approve them by Friday so design can start?",
            ),
            C(
                "Wireframes for the rewards flow",
                REPLY,
                "northwind",
                71,
                "Approved! The team loves the 'stamp card' animation. Go ahead.",
            ),
            C(
                "Build the points ledger API",
                NOTE,
                "dev",
                33,
                "Technical blocker: the POS vendor's webhook drops events under load. Added a nightly "
                "reconciliation job; needs 6 extra hours we did not estimate.",
            ),
            C(
                "Review beta tester feedback",
                REPLY,
                "dana",
                4,
                "Beta feedback is summarised in the linked doc. Top request: show points balance on the home screen.",
            ),
            C(
                "Review beta tester feedback",
                REPLY,
                "northwind",
                2,
                "Thanks Dana! Agree on the home screen balance. Can we also shorten the sign-up form?",
            ),
            C(
                "Load-test the ledger before launch",
                NOTE,
                "maria",
                6,
                "Budget concern: we are at 71% of budget with the store submission still ahead. Keep "
                "load-testing internal and non-billable.",
            ),
            C(
                None,
                REPLY,
                "maria",
                9,
                "Sprint update: checkout integration is under way and on schedule for the launch date.",
            ),
            C(None, NOTE, "owner", 8, "Possible upsell: Olivia asked about a phase 2 with gift cards."),
        ),
        (
            E("TestFlight device lab rental", "240.00", True, 62, "dev"),
            E("Stock photography licence (rewards catalogue)", "149.00", True, 40, "dana"),
            E("Push notification service (first month)", "99.00", True, 18, "dev"),
            E("Team lunch after beta launch", "86.50", False, 12, "maria"),
        ),
    ),
    _ProjectSpec(
        "northwind",
        "Seasonal Menu Campaign",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        150,
        -75,
        "18000.00",
        "Autumn menu launch: in-store posters, social creative and a campaign landing page.",
        (
            T(
                "Campaign creative",
                DONE,
                "dana",
                -110,
                "30",
                True,
                (D("Social creative pack (ZIP)", FILE, _files("northwind/autumn-social-pack.zip"), True),),
            ),
            T(
                "Campaign landing page",
                DONE,
                "dev",
                -95,
                "16",
                True,
                (D("Live landing page", LINK, "https://northwind.example/autumn", True),),
            ),
            T(
                "Post-campaign report",
                DONE,
                "leo",
                -78,
                "6",
                True,
                (D("Campaign results report (PDF)", FILE, _files("northwind/autumn-results.pdf"), True),),
            ),
        ),
        (
            C(
                "Post-campaign report",
                REPLY,
                "leo",
                78,
                "The results report is attached: +18% pumpkin latte sales versus last year.",
            ),
        ),
        fixed_fee=True,
    ),
    _ProjectSpec(
        "northwind",
        "Store Locator Refresh",
        ProjectStatus.ON_HOLD,
        ProjectHealth.AT_RISK,
        60,
        30,
        "12000.00",
        "Rebuild the café finder with live opening hours. Paused while Northwind renegotiates its maps licence.",
        (
            T("Audit the current store locator", DONE, "dev", -45, "6"),
            T("Decide on the maps API licence", TODO, "maria", 14, "2"),
            T("Map clustering prototype", DOING, "dev", 20, "12", False),
        ),
        (
            C(
                None,
                NOTE,
                "maria",
                25,
                "On hold until Marcus signs the new maps licence. Scope change risk: they may want delivery radius too.",
            ),
        ),
        paused=25,
    ),
    # ---------------------------------------------------------------- Bluebird Health
    _ProjectSpec(
        "bluebird",
        "Patient Portal Redesign",
        ProjectStatus.ACTIVE,
        ProjectHealth.AT_RISK,
        100,
        20,
        "120000.00",
        "Redesign of the patient portal: appointment booking, test results and secure messaging.",
        (
            T(
                "Accessibility audit (WCAG 2.2 AA)",
                DONE,
                "dana",
                -60,
                "20",
                True,
                (D("Accessibility audit report", FILE, _files("bluebird/wcag-audit.pdf"), True),),
            ),
            T(
                "Appointment booking flow",
                DOING,
                "dev",
                7,
                "48",
                True,
                (D("Booking flow prototype", LINK, _figma("bluebird-booking"), True),),
            ),
            T(
                "Rewrite patient FAQ content",
                REVIEW,
                "leo",
                2,
                "16",
                True,
                (D("FAQ draft for clinical review", LINK, "https://docs.agency.example/bluebird/faq-draft", False),),
            ),
            T("Security review of session handling", DOING, "dev", 5, "12", False),
            T("User acceptance testing with clinic staff", TODO, "sam", 15, "10"),
        ),
        (
            C(
                "Appointment booking flow",
                REPLY,
                "sam",
                12,
                "The booking prototype is linked above. Please try rescheduling an appointment and tell us what feels slow.",
            ),
            C(
                "Appointment booking flow",
                REPLY,
                "bluebird",
                10,
                "Tried it with two receptionists: much faster. Can the confirmation SMS include the clinic address?",
            ),
            C(
                "Appointment booking flow",
                NOTE,
                "dev",
                9,
                "Technical blocker: the EHR sandbox rate-limits us to 10 requests/min. Waiting on Tom for a higher quota.",
            ),
            C(
                "Security review of session handling",
                NOTE,
                "sam",
                8,
                "Budget concern: security review was not in the SOW. Absorbing it for now; raise at the next QBR.",
            ),
            C(
                "Rewrite patient FAQ content",
                REPLY,
                "leo",
                3,
                "The FAQ draft is ready for Dr. Grant's clinical review.",
            ),
            C(
                None,
                NOTE,
                "sam",
                5,
                "Marked at risk: two weeks of slip on booking because of the EHR quota. Ben is aware; "
                "Dr. Grant is not yet.",
            ),
        ),
        (
            E("Accessibility testing tools licence", "320.00", True, 70, "dana"),
            E("Usability test participant incentives", "450.00", True, 35, "sam"),
            E("Internal design review workshop", "120.00", False, 20, "dana"),
        ),
    ),
    _ProjectSpec(
        "bluebird",
        "Telehealth Landing Pages",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        200,
        -95,
        "22000.00",
        "Six landing pages for the new telehealth service, one per speciality.",
        (
            T(
                "Landing page design system",
                DONE,
                "dana",
                -150,
                "20",
                True,
                (D("Landing page templates", LINK, _figma("bluebird-telehealth"), True),),
            ),
            T("Build and publish six landing pages", DONE, "dev", -110, "30"),
            T("Speciality page copy", DONE, "leo", -120, "18"),
        ),
        fixed_fee=True,
    ),
    # ---------------------------------------------------------------- Summit Outdoor Gear
    _ProjectSpec(
        "summit",
        "Spring Catalogue E-commerce Refresh",
        ProjectStatus.ACTIVE,
        ProjectHealth.ON_TRACK,
        45,
        40,
        "40000.00",
        "New product pages, a gear-finder quiz and faster checkout for the spring catalogue.",
        (
            T(
                "Product page redesign",
                DONE,
                "dana",
                -15,
                "24",
                True,
                (D("Product page designs", LINK, _figma("summit-pdp"), True),),
            ),
            T("Gear-finder quiz", DOING, "dev", 12, "28"),
            T("Spring catalogue product copy", DOING, "leo", 8, "20"),
            T("Checkout performance pass", TODO, "dev", 25, "12"),
            T("Set up analytics events", TODO, "dev", 30, "4", False),
        ),
        (
            C(
                "Product page redesign",
                REPLY,
                "maria",
                14,
                "Final product page designs are linked. Jake approved them on our call.",
            ),
            C(None, NOTE, "maria", 30, "Welcome back! Reactivated after a year on hold; keep an eye on scope creep."),
        ),
        (E("Product photography day rate", "850.00", True, 20, "dana"),),
    ),
    _ProjectSpec(
        "summit",
        "Holiday Campaign",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        400,
        -330,
        "26000.00",
        "Black Friday to New Year campaign: gift guides, email series and paid social creative.",
        (
            T("Gift guide pages", DONE, "dev", -360, "18"),
            T("Email series (6 emails)", DONE, "leo", -350, "14"),
            T("Paid social creative", DONE, "dana", -345, "20"),
        ),
        fixed_fee=True,
    ),
    # ---------------------------------------------------------------- Crescent Financial Advisors
    _ProjectSpec(
        "crescent",
        "Advisor Website Rebuild",
        ProjectStatus.ACTIVE,
        ProjectHealth.OFF_TRACK,
        130,
        -10,
        "60000.00",
        "Rebuild of the advisory firm's site with advisor profiles, a resources library and compliance review.",
        (
            T("Information architecture", DONE, "dana", -95, "16"),
            T(
                "Advisor profile pages",
                REVIEW,
                "dev",
                -12,
                "20",
                True,
                (D("Staging: advisor profiles", LINK, "https://staging.crescentfa.example/advisors", False),),
            ),
            T("Compliance review of all copy", DOING, "leo", -5, "24"),
            T("Resources library migration", TODO, "dev", -2, "18"),
            T("Re-baseline the timeline", DOING, "sam", 3, "3", False),
        ),
        (
            C("Advisor profile pages", REPLY, "sam", 14, "Advisor profiles are on staging for your review."),
            C(
                "Compliance review of all copy",
                NOTE,
                "leo",
                9,
                "Technical blocker: their compliance team returned 140 comments in a PDF; each page needs another round.",
            ),
            C(
                "Re-baseline the timeline",
                NOTE,
                "owner",
                7,
                "Budget concern: we are 20% over on hours and 10 days past the deadline. Do not bill the rework; "
                "I will join the next call with Richard and Paul.",
            ),
            C(None, REPLY, "sam", 4, "We have shared a revised timeline; let us know a good time to walk through it."),
        ),
        (E("Compliance copy review (freelance)", "600.00", True, 55, "leo"),),
    ),
    _ProjectSpec(
        "crescent",
        "Quarterly Client Newsletter",
        ProjectStatus.CANCELLED,
        ProjectHealth.AT_RISK,
        90,
        -30,
        "9000.00",
        "A quarterly newsletter for advisory clients. Cancelled by Crescent to cut costs.",
        (
            T("Newsletter template", DONE, "dana", -70, "10"),
            T("First issue copy", DOING, "leo", -40, "8"),
            T("Mailing list clean-up", TODO, "leo", -35, "4", False),
        ),
        (
            C(
                None,
                NOTE,
                "sam",
                30,
                "Cancelled by Paul (CFO) as a cost-cutting measure. Warning sign: scope reduction.",
            ),
        ),
    ),
    # ---------------------------------------------------------------- Greenleaf Organics
    _ProjectSpec(
        "greenleaf",
        "SEO & Content Retainer",
        ProjectStatus.ACTIVE,
        ProjectHealth.ON_TRACK,
        330,
        30,
        "36000.00",
        "Monthly SEO retainer: two long-form articles, technical SEO fixes and a monthly report.",
        (
            T(
                "Monthly SEO report",
                DONE,
                "leo",
                -20,
                "4",
                True,
                (D("SEO report (last month)", FILE, _files("greenleaf/seo-report.pdf"), True),),
            ),
            T(
                "Article: regenerative farming explained",
                REVIEW,
                "leo",
                4,
                "8",
                True,
                (D("Article draft", LINK, "https://docs.agency.example/greenleaf/regenerative-farming", False),),
            ),
            T("Article: seasonal recipes roundup", TODO, "leo", 18, "8"),
            T("Fix crawl errors in product sitemap", DOING, "dev", 6, "5"),
            T("Prepare renewal proposal", DOING, "maria", 7, "4", False),
        ),
        (
            C(
                "Prepare renewal proposal",
                NOTE,
                "maria",
                10,
                "Renewal: propose a 12-month term with a 5% discount; margins are healthy on this account.",
            ),
            C("Monthly SEO report", REPLY, "leo", 20, "Organic traffic is up 12% month on month. Report attached."),
        ),
        (
            E("SEO tooling (monthly share)", "89.00", False, 28, "leo"),
            E("Keyword research database export", "65.00", True, 50, "leo"),
        ),
        fixed_fee=True,
    ),
    # ---------------------------------------------------------------- Atlas Logistics
    _ProjectSpec(
        "atlas",
        "Shipment Tracking Dashboard Pilot",
        ProjectStatus.ACTIVE,
        ProjectHealth.ON_TRACK,
        None,
        40,
        "15000.00",
        "Six-week paid pilot: a live shipment tracking dashboard for Atlas's top ten customers.",
        (
            T("Pilot kickoff and requirements", DONE, "sam", 0, "4"),
            T("Connect the carrier tracking feed", DOING, "dev", 10, "16"),
            T("Dashboard design", TODO, "dana", 14, "12"),
            T("Pilot success criteria", TODO, "sam", 7, "2"),
        ),
        (
            C(
                "Connect the carrier tracking feed",
                NOTE,
                "dev",
                1,
                "Technical blocker: their carrier API only offers SOAP. Wrapping it; no change to the estimate yet.",
            ),
        ),
        fixed_fee=True,
    ),
    # ---------------------------------------------------------------- Harbor & Pine Legal
    _ProjectSpec(
        "harbor",
        "Brand & Website Launch",
        ProjectStatus.ACTIVE,
        ProjectHealth.ON_TRACK,
        None,
        75,
        "28000.00",
        "Fixed-price launch: a new logo, a five-page website and practice-area pages.",
        (
            T("Discovery workshop", DOING, "maria", 3, "4"),
            T("Logo concepts", TODO, "dana", 14, "16"),
            T("Practice area page copy", TODO, "leo", 30, "12"),
            T("Website build", TODO, "dev", 55, "40"),
        ),
        (C(None, REPLY, "maria", 0, "Welcome aboard! The discovery workshop agenda is in your inbox."),),
        fixed_fee=True,
    ),
    # ---------------------------------------------------------------- Lumen Architecture Studio
    _ProjectSpec(
        "lumen",
        "Portfolio Website",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        240,
        -150,
        "32000.00",
        "A portfolio website with full-bleed project galleries and an awards timeline.",
        (
            T("Gallery design", DONE, "dana", -200, "24"),
            T("Build the gallery CMS", DONE, "dev", -170, "36"),
            T(
                "Launch and redirects",
                DONE,
                "dev",
                -152,
                "6",
                True,
                (D("Live site", LINK, "https://lumenstudio.example", True),),
            ),
        ),
        fixed_fee=True,
    ),
    _ProjectSpec(
        "lumen",
        "Project Showcase Videos",
        ProjectStatus.ON_HOLD,
        ProjectHealth.AT_RISK,
        160,
        60,
        "18000.00",
        "Short films of five finished buildings. Paused until the studio moves into its new office.",
        (
            T(
                "Storyboards for five films",
                DONE,
                "dana",
                -120,
                "15",
                True,
                (D("Storyboards (PDF)", FILE, _files("lumen/storyboards.pdf"), True),),
            ),
            T("Book the film crew", TODO, "sam", 40, "2", False),
            T("Edit the first film", TODO, "dana", 55, "20"),
        ),
        (
            C(
                None,
                NOTE,
                "sam",
                80,
                "Paused by Isabel. Crew deposit is non-refundable after 30 days: check before rebooking.",
            ),
        ),
        paused=85,
    ),
    # ---------------------------------------------------------------- Redwood Fitness Co.
    _ProjectSpec(
        "redwood",
        "Class Booking App",
        ProjectStatus.ON_HOLD,
        ProjectHealth.OFF_TRACK,
        180,
        20,
        "45000.00",
        "A class booking app with waitlists and memberships. Paused by Redwood for budget reasons.",
        (
            T("Booking app UX", DONE, "dana", -130, "24"),
            T("Membership sync with the gym system", DOING, "dev", -100, "30"),
            T("Waitlist notifications", TODO, "dev", -90, "12"),
        ),
        (
            C(
                None,
                NOTE,
                "maria",
                110,
                "Off track before the pause: the gym system's API is undocumented. Re-estimate before restarting.",
            ),
        ),
        paused=110,
    ),
    _ProjectSpec(
        "redwood",
        "Membership Promo Microsite",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        220,
        -140,
        "8000.00",
        "A microsite for the New Year membership promotion.",
        (
            T("Microsite design", DONE, "dana", -190, "10"),
            T("Microsite build", DONE, "dev", -160, "14"),
            T("Promo copy", DONE, "leo", -175, "6"),
        ),
        fixed_fee=True,
    ),
    # ---------------------------------------------------------------- Copperline Brewing
    _ProjectSpec(
        "copperline",
        "Taproom Website",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        330,
        -250,
        "14000.00",
        "A taproom website with a live tap list and events calendar.",
        (
            T("Tap list integration", DONE, "dev", -270, "12"),
            T("Events calendar", DONE, "dev", -260, "8"),
            T("Brand photography selection", DONE, "dana", -280, "4"),
        ),
        fixed_fee=True,
    ),
    _ProjectSpec(
        "copperline",
        "Distribution Portal",
        ProjectStatus.CANCELLED,
        ProjectHealth.OFF_TRACK,
        260,
        -200,
        "30000.00",
        "A wholesale ordering portal for distributors. Cancelled when Copperline hired in-house.",
        (
            T("Distributor interviews", DONE, "sam", -240, "6"),
            T("Ordering flow prototype", DOING, "dana", -215, "16"),
            T("ERP integration spike", TODO, "dev", -205, "10", False),
        ),
        (C(None, NOTE, "sam", 200, "Cancelled: they hired a developer in-house. Invoice for work to date only."),),
    ),
    # ---------------------------------------------------------------- Orbit Software Labs
    _ProjectSpec(
        "orbit",
        "Marketing Site Redesign",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        420,
        -300,
        "52000.00",
        "A redesign of the marketing site with a pricing calculator and customer stories.",
        (
            T("Messaging and sitemap", DONE, "leo", -390, "12"),
            T("Visual design", DONE, "dana", -360, "40"),
            T(
                "Build and launch",
                DONE,
                "dev",
                -305,
                "60",
                True,
                (D("Launch checklist", LINK, "https://docs.agency.example/orbit/launch-checklist", True),),
            ),
        ),
        fixed_fee=True,
    ),
    _ProjectSpec(
        "orbit",
        "Developer Docs Portal",
        ProjectStatus.CANCELLED,
        ProjectHealth.AT_RISK,
        310,
        -240,
        "40000.00",
        "A documentation portal for Orbit's public API. Cancelled after the acquisition.",
        (
            T("Docs information architecture", DONE, "leo", -280, "10"),
            T("Docs theme", DOING, "dana", -250, "16"),
            T("API reference generator", TODO, "dev", -245, "20"),
        ),
    ),
    # ---------------------------------------------------------------- Meridian Hotels Group
    _ProjectSpec(
        "meridian",
        "Direct Booking Engine",
        ProjectStatus.ACTIVE,
        ProjectHealth.ON_TRACK,
        150,
        60,
        "150000.00",
        "A direct booking engine for all eleven hotels, to cut OTA commissions.",
        (
            T(
                "Room search and availability",
                DONE,
                "dev",
                -40,
                "60",
                True,
                (D("Availability search demo", LINK, "https://staging.meridianhotels.example/book", True),),
            ),
            T(
                "Rate calendar UI",
                DOING,
                "dana",
                9,
                "30",
                True,
                (D("Rate calendar designs", LINK, _figma("meridian-rate-calendar"), True),),
            ),
            T("Payment gateway integration", DOING, "dev", 18, "40"),
            T("Booking confirmation emails", REVIEW, "leo", 5, "10"),
            T("Penetration test before launch", TODO, "dev", 45, "16", False),
            T("Launch plan for all eleven hotels", TODO, "sam", 50, "8"),
        ),
        (
            C(
                "Rate calendar UI",
                REPLY,
                "sam",
                16,
                "Designs for the rate calendar are linked; Yuki's comments are included.",
            ),
            C(
                "Payment gateway integration",
                NOTE,
                "dev",
                11,
                "Technical blocker: the gateway sandbox does not support 3-D Secure 2 yet. Mocking it for now.",
            ),
            C(None, REPLY, "sam", 30, "Thanks for the QBR today. Next milestone: payments in test mode by month end."),
        ),
        (
            E("Payment gateway sandbox fee", "199.00", True, 60, "dev"),
            E("Travel to Chicago for the QBR", "640.00", True, 30, "sam"),
            E("Hotel room for the QBR trip", "210.00", False, 30, "sam"),
        ),
    ),
    _ProjectSpec(
        "meridian",
        "Loyalty Email Automation",
        ProjectStatus.ACTIVE,
        ProjectHealth.AT_RISK,
        40,
        30,
        "25000.00",
        "Automated pre-stay and post-stay emails for loyalty members.",
        (
            T("Email journey map", DONE, "leo", -20, "8"),
            T("Email templates", DOING, "dana", 6, "16"),
            T("CRM segment sync", TODO, "dev", 15, "12"),
        ),
        (
            C(
                "CRM segment sync",
                NOTE,
                "sam",
                3,
                "At risk: their CRM export is a weekly CSV. Scope change consideration: a real-time sync would be a new SOW.",
            ),
        ),
    ),
    _ProjectSpec(
        "meridian",
        "Brand Guidelines Refresh",
        ProjectStatus.COMPLETED,
        ProjectHealth.ON_TRACK,
        200,
        -100,
        "20000.00",
        "Refreshed brand guidelines for the group and its eleven hotels.",
        (
            T("Brand audit", DONE, "dana", -170, "12"),
            T(
                "Guidelines document",
                DONE,
                "dana",
                -110,
                "30",
                True,
                (D("Brand guidelines (PDF)", FILE, _files("meridian/brand-guidelines.pdf"), True),),
            ),
            T("Tone of voice section", DONE, "leo", -120, "10"),
        ),
        fixed_fee=True,
    ),
)


class _InvoiceSpec(NamedTuple):
    client: str
    status: InvoiceStatus
    issue_ago: int
    fixed: tuple[tuple[str, str, str], ...] = ()  # (description, quantity, unit price)
    time_window: tuple[int, int] | None = None  # bill billable time from..to days ago
    expense_window: tuple[int, int] | None = None
    payments: tuple[tuple[int, str, PaymentMethod], ...] = ()  # (days ago, "full" | "half" | amount, method)
    notes: str | None = None
    voided_ago: int | None = None
    by: str = "maria"


_BANK, _CARD, _CHECK = PaymentMethod.BANK_TRANSFER, PaymentMethod.CARD, PaymentMethod.CHECK

_INVOICES = (
    _InvoiceSpec(
        "orbit",
        InvoiceStatus.PAID,
        300,
        (("Marketing site redesign: final milestone", "1", "26000.00"),),
        payments=((285, "full", _BANK),),
    ),
    _InvoiceSpec(
        "copperline",
        InvoiceStatus.PAID,
        250,
        (("Taproom website: fixed fee", "1", "14000.00"), ("Hosting set-up", "1", "350.00")),
        payments=((240, "full", _CHECK),),
        by="sam",
    ),
    _InvoiceSpec(
        "summit",
        InvoiceStatus.PAID,
        330,
        (("Holiday campaign: fixed fee", "1", "26000.00"),),
        payments=((318, "full", _BANK),),
    ),
    _InvoiceSpec(
        "lumen",
        InvoiceStatus.PAID,
        150,
        (("Portfolio website: final milestone", "1", "16000.00"),),
        payments=((130, "full", _BANK),),
        by="sam",
    ),
    _InvoiceSpec(
        "lumen",
        InvoiceStatus.PAID,
        200,
        (("Portfolio website: milestone 1 (design)", "1", "16000.00"),),
        payments=((178, "full", _BANK),),
        by="sam",
    ),
    _InvoiceSpec(
        "northwind",
        InvoiceStatus.PAID,
        118,
        (("Loyalty app launch: deposit (25%)", "1", "21250.00"),),
        payments=((95, "full", _BANK),),
    ),
    _InvoiceSpec(
        "crescent",
        InvoiceStatus.PAID,
        125,
        (("Advisor website rebuild: deposit (30%)", "1", "18000.00"),),
        payments=((100, "full", _BANK),),
        notes="Paid 25 days late.",
        by="sam",
    ),
    _InvoiceSpec(
        "meridian",
        InvoiceStatus.PAID,
        105,
        (("Brand guidelines refresh: fixed fee", "1", "20000.00"),),
        payments=((88, "full", _BANK),),
        by="sam",
    ),
    _InvoiceSpec(
        "bluebird",
        InvoiceStatus.PAID,
        100,
        (("Telehealth landing pages: fixed fee", "1", "22000.00"),),
        payments=((62, "full", _BANK),),
        by="sam",
    ),
    _InvoiceSpec(
        "greenleaf",
        InvoiceStatus.PAID,
        100,
        (("SEO retainer: monthly fee", "3", "3000.00"),),
        payments=((74, "full", _BANK),),
    ),
    _InvoiceSpec(
        "northwind",
        InvoiceStatus.PAID,
        80,
        (("Seasonal menu campaign: fixed fee", "1", "18000.00"),),
        payments=((52, "full", _CARD),),
    ),
    _InvoiceSpec(
        "redwood",
        InvoiceStatus.VOID,
        140,
        (("Membership promo microsite", "1", "9500.00"),),
        notes="Voided: issued at the wrong price; replaced by the next invoice.",
        voided_ago=139,
    ),
    _InvoiceSpec(
        "redwood",
        InvoiceStatus.PAID,
        139,
        (("Membership promo microsite", "1", "8000.00"),),
        payments=((112, "full", _CARD),),
    ),
    _InvoiceSpec(
        "crescent",
        InvoiceStatus.VOID,
        62,
        (("Advisor website rebuild: milestone 1", "1", "15000.00"),),
        notes="Voided: duplicate of an invoice raised in error.",
        voided_ago=61,
        by="sam",
    ),
    _InvoiceSpec(
        "northwind",
        InvoiceStatus.PAID,
        60,
        time_window=(90, 61),
        expense_window=(90, 61),
        payments=((38, "full", _BANK),),
    ),
    _InvoiceSpec(
        "bluebird",
        InvoiceStatus.PAID,
        55,
        time_window=(90, 56),
        expense_window=(90, 56),
        payments=((18, "full", _BANK),),
        by="sam",
    ),
    _InvoiceSpec(
        "crescent",
        InvoiceStatus.SENT,
        50,
        time_window=(90, 51),
        expense_window=(90, 51),
        notes="Chased twice; Paul (CFO) says it is in the payment run.",
        by="sam",
    ),
    _InvoiceSpec(
        "meridian",
        InvoiceStatus.PAID,
        45,
        (("Monthly retainer: account management", "1", "4000.00"),),
        time_window=(90, 46),
        payments=((35, "half", _BANK), (24, "full", _BANK)),
        by="sam",
    ),
    _InvoiceSpec(
        "greenleaf",
        InvoiceStatus.SENT,
        40,
        (("SEO retainer: monthly fee", "2", "3000.00"),),
        expense_window=(90, 41),
        notes="Overdue: Sofia says renewal talks are holding it up.",
    ),
    _InvoiceSpec("northwind", InvoiceStatus.SENT, 10, time_window=(60, 11), expense_window=(60, 11)),
    _InvoiceSpec(
        "bluebird",
        InvoiceStatus.SENT,
        5,
        (("Patient portal redesign: milestone 2", "1", "15000.00"),),
        time_window=(55, 6),
        payments=((2, "half", _BANK),),
        notes="Milestone 2 plus time since the last invoice. Deposit received.",
        by="sam",
    ),
    _InvoiceSpec("summit", InvoiceStatus.SENT, 3, time_window=(45, 4), expense_window=(45, 4)),
    _InvoiceSpec(
        "atlas",
        InvoiceStatus.DRAFT,
        0,
        (("Tracking dashboard pilot: fixed fee", "1", "15000.00"),),
        notes="Pilot fee, to send once the success criteria are agreed.",
        by="sam",
    ),
    _InvoiceSpec(
        "meridian",
        InvoiceStatus.DRAFT,
        0,
        (("Monthly retainer: account management", "1", "4000.00"),),
        time_window=(45, 1),
        expense_window=(45, 1),
        by="sam",
    ),
)


class _InteractionSpec(NamedTuple):
    client: str
    kind: InteractionKind
    days_ago: int
    hour: int
    staff: str
    contact: int  # index into the client's contacts
    summary: str


_INTERACTIONS = (
    _InteractionSpec(
        "northwind",
        InteractionKind.CHECK_IN,
        35,
        16,
        "maria",
        0,
        "Monthly check-in: happy with the beta; asked about gift cards for phase 2.",
    ),
    _InteractionSpec(
        "northwind", InteractionKind.MEETING, 14, 17, "maria", 0, "Loyalty beta review with Olivia and Priya."
    ),
    _InteractionSpec(
        "northwind",
        InteractionKind.EMAIL,
        2,
        15,
        "maria",
        1,
        "Sent Marcus the maps licence comparison for the store locator.",
    ),
    _InteractionSpec(
        "bluebird",
        InteractionKind.MEETING,
        27,
        14,
        "sam",
        0,
        "Booking flow walkthrough; Ben flagged the EHR quota issue.",
    ),
    _InteractionSpec(
        "bluebird",
        InteractionKind.CALL,
        20,
        18,
        "sam",
        2,
        "Call with Tom about the EHR sandbox quota and the security review.",
    ),
    _InteractionSpec("bluebird", InteractionKind.EMAIL, 6, 13, "sam", 1, "Sent Dr. Grant the FAQ review schedule."),
    _InteractionSpec(
        "summit",
        InteractionKind.MEETING,
        50,
        16,
        "maria",
        0,
        "Reactivation call: Jake is back with budget for the spring catalogue.",
    ),
    _InteractionSpec("summit", InteractionKind.CALL, 12, 17, "maria", 1, "Weekly call with Hannah about product copy."),
    _InteractionSpec(
        "crescent",
        InteractionKind.CALL,
        41,
        15,
        "sam",
        2,
        "Paul (CFO) raised concerns about the timeline and the overdue invoice; mentioned a competitor.",
    ),
    _InteractionSpec(
        "crescent", InteractionKind.EMAIL, 38, 14, "sam", 0, "Emailed Richard a revised plan; no reply yet."
    ),
    _InteractionSpec(
        "greenleaf",
        InteractionKind.CHECK_IN,
        25,
        17,
        "maria",
        0,
        "Renewal check-in: Sofia wants more recipe content in the next term.",
    ),
    _InteractionSpec(
        "lumen",
        InteractionKind.CALL,
        75,
        16,
        "sam",
        0,
        "Isabel confirmed the pause until the office move; follow up in the autumn.",
    ),
    _InteractionSpec(
        "copperline",
        InteractionKind.EMAIL,
        199,
        15,
        "sam",
        0,
        "Exit email: thanked Sean; offered help with the hand-over to their developer.",
    ),
    _InteractionSpec(
        "meridian",
        InteractionKind.MEETING,
        30,
        15,
        "sam",
        0,
        "Quarterly business review with Claire and Martin: ROI of direct bookings up 9%.",
    ),
    _InteractionSpec(
        "meridian",
        InteractionKind.CALL,
        8,
        16,
        "owner",
        0,
        "Owner call with Claire about the multi-property booking engine.",
    ),
)


# --------------------------------------------------------------------------- loading


def _sign_ins() -> list[DemoSignIn]:
    staff = [DemoSignIn(s.email, DEMO_PASSWORD, s.role.value, s.note) for s in _STAFF]
    by_key = {c.key: c for c in _CLIENTS}
    portal = [
        DemoSignIn(f"{by_key[key].contacts[0].local_part}@{by_key[key].domain}", DEMO_PASSWORD, Role.CLIENT.value, note)
        for key, note in _PORTAL_CLIENTS
    ]
    return staff + portal


async def load_demo(
    session_factory: async_sessionmaker[AsyncSession], *, today: dt.date | None = None
) -> list[DemoSignIn]:
    """Load the demo agency into an empty, migrated database (idempotent: if any Client
    exists, load nothing and just return the sign-ins)."""
    async with session_factory() as session:
        if await session.scalar(sa.select(Client.id).limit(1)) is not None:
            return _sign_ins()
    # Argon2 is slow on purpose: hash the one shared password once, off the event loop.
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    async with session_factory() as session, session.begin():
        # Take the write lock before re-checking, so a concurrent load waits, then finds the clients.
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if await session.scalar(sa.select(Client.id).limit(1)) is not None:
            return _sign_ins()
        await _DemoLoad(session, today, password_hash).run()
    return _sign_ins()


def _q(value: str | int | float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class _DemoLoad:
    """One load: the objects built so far, by key, and the clock everything is relative to."""

    def __init__(self, session: AsyncSession, today: dt.date | None, password_hash: str) -> None:
        self.session = session
        real_now = dt.datetime.now(UTC)
        self.today = today or real_now.date()
        # "Now" is the real clock on the real today, midday of any other day a caller asks for.
        self.now = real_now if self.today == real_now.date() else dt.datetime.combine(self.today, dt.time(12), UTC)
        self.password_hash = password_hash
        self.rng = random.Random(20240611)
        self.staff: dict[str, User] = {}
        self.portal: dict[str, User] = {}  # client key -> portal user
        self.statuses: dict[str, int] = {}
        self.clients: dict[str, Client] = {}
        self.client_specs: dict[str, _ClientSpec] = {c.key: c for c in _CLIENTS}
        self.contacts: dict[str, list[Contact]] = {}
        self.projects: list[tuple[_ProjectSpec, Project, list[tuple[_TaskSpec, Task]]]] = []
        self.time_entries: list[TimeEntry] = []
        self.expenses: list[tuple[Expense, str]] = []  # (expense, client key)
        self.activities: list[Activity] = []
        self.invoices: list[tuple[_InvoiceSpec, Invoice]] = []
        self.meetings: list[tuple[str, Meeting]] = []

    # ---- clock
    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    def at(self, days_ago: int, hour: int = 10, minute: int = 0) -> dt.datetime:
        """A moment in the past (never later than now)."""
        moment = dt.datetime.combine(self.day(-days_ago), dt.time(hour, minute), UTC)
        return min(moment, self.now)

    def ahead(self, days: int, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(self.day(days), dt.time(hour), UTC)

    def became_on(self, spec: _ClientSpec) -> dt.date:
        if spec.became == "month":
            return self.today.replace(day=1)
        if spec.became == "quarter":
            quarter_start = dt.date(self.today.year, 3 * ((self.today.month - 1) // 3) + 1, 1)
            return max(quarter_start, self.day(-40))
        return self.day(-int(spec.became))

    def ago(self, date: dt.date) -> int:
        return (self.today - date).days

    # ---- helpers
    def user(self, key: str) -> User:
        return self.staff.get(key) or self.portal[key]

    def log(
        self,
        kind: ActivityKind,
        client: Client | None,
        when: dt.datetime,
        summary: str,
        *,
        actor: User | None = None,
        subject: object | None = None,
        visible: bool = False,
        on_behalf_of: User | None = None,
    ) -> None:
        self.activities.append(
            Activity(
                client_id=client.id if client else None,
                actor_id=actor.id if actor else None,
                on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
                kind=kind,
                subject_type=type(subject).__name__ if subject is not None else None,
                subject_id=getattr(subject, "id", None),
                summary=summary[:500],
                client_visible=visible,
                occurred_at=when,
            )
        )

    async def run(self) -> None:
        await self.add_staff()
        await self.add_statuses()
        await self.add_clients()
        await self.add_leads()
        await self.add_portal_users()
        await self.add_projects()
        await self.add_time_and_expenses()
        await self.add_invoices()
        await self.add_opportunities()
        await self.add_interactions_and_meetings()
        await self.add_logins_notifications_and_outbox()
        await self.add_satisfaction_surveys()
        self.session.add_all(self.activities)
        await self.session.flush()

    # ---- people
    async def add_staff(self) -> None:
        for spec in _STAFF:
            self.staff[spec.key] = User(
                email=spec.email,
                full_name=spec.full_name,
                phone=spec.phone,
                job_title=spec.job_title,
                role=spec.role,
                password_hash=self.password_hash,
                hourly_cost_rate=_q(spec.cost_rate),
                hourly_bill_rate=_q(spec.bill_rate),
                created_at=self.at(760, 9),
            )
        self.session.add_all(self.staff.values())
        await self.session.flush()

    async def add_statuses(self) -> None:
        existing = {s.name: s for s in await self.session.scalars(sa.select(ClientStatus))}
        self.statuses = {"Active": STATUS_ACTIVE, "On Hold": STATUS_ON_HOLD, "Churned": STATUS_CHURNED}
        new = {}
        for name, category, position in _CUSTOM_STATUSES:
            if name in existing:
                self.statuses[name] = existing[name].id
            else:
                new[name] = ClientStatus(name=name, category=category, is_builtin=False, position=position)
        self.session.add_all(new.values())
        await self.session.flush()
        self.statuses.update({name: status.id for name, status in new.items()})

    async def add_clients(self) -> None:
        for spec in _CLIENTS:
            became = self.became_on(spec)
            created = self.at(self.ago(became), 9, 30)
            self.clients[spec.key] = Client(
                name=spec.name,
                logo_url=f"https://cdn.agency.example/logos/{spec.key}.png",
                website=f"https://www.{spec.domain}",
                billing_address=spec.address,
                industry=spec.industry,
                status_id=self.statuses[spec.status],
                tier=spec.tier,
                account_manager_id=self.staff[spec.manager].id,
                payment_terms_days=spec.terms,
                became_client_on=became,
                internal_notes=spec.notes,
                show_costs_in_portal=spec.show_costs,
                portal_booking_enabled=spec.booking,
                created_at=created,
                updated_at=created,
            )
        self.session.add_all(self.clients.values())
        await self.session.flush()

        for spec in _CLIENTS:
            client = self.clients[spec.key]
            self.contacts[spec.key] = [
                Contact(
                    client_id=client.id,
                    full_name=p.full_name,
                    email=f"{p.local_part}@{spec.domain}",
                    phone=p.phone,
                    title=p.title,
                    is_decision_maker=p.decision_maker,
                    is_primary=i == 0,
                    internal_notes=p.notes,
                    created_at=client.created_at + dt.timedelta(minutes=5 + i),
                )
                for i, p in enumerate(spec.contacts)
            ]
            self.session.add_all(self.contacts[spec.key])
        await self.session.flush()

        owner = self.staff["owner"]
        for spec in _CLIENTS:
            client = self.clients[spec.key]
            manager = self.staff[spec.manager]
            primary = self.contacts[spec.key][0]
            if spec.key != "harbor":  # Harbor's creation is logged as the lead conversion
                self.log(
                    ActivityKind.CLIENT_CREATED,
                    client,
                    client.created_at,
                    f"{client.name} added as a client",
                    actor=owner,
                    subject=client,
                )
            self.log(
                ActivityKind.CONTACT_ADDED,
                client,
                primary.created_at,
                f"{primary.full_name} added as the primary contact",
                actor=manager,
                subject=primary,
            )
            if spec.status != "Active":
                when = {
                    "On Hold": 85,
                    "Churned": 195,
                    "At Risk": 36,
                    "Pending Renewal": 24,
                    "Trial Period": 0,
                    "VIP": 90,
                }[spec.status]
                when = min(when, self.ago(client.became_client_on))
                self.log(
                    ActivityKind.STATUS_CHANGED,
                    client,
                    self.at(when, 11),
                    f"Status changed to {spec.status}",
                    actor=manager,
                    subject=client,
                )
        summit = self.clients["summit"]
        summit_manager = self.staff[self.client_specs["summit"].manager]
        self.log(
            ActivityKind.STATUS_CHANGED,
            summit,
            self.at(420, 11),
            "Status changed to On Hold",
            actor=summit_manager,
            subject=summit,
        )
        self.log(
            ActivityKind.CLIENT_REACTIVATED,
            summit,
            self.at(50, 17),
            "Reactivated: back for the spring catalogue",
            actor=summit_manager,
            subject=summit,
        )

    async def add_leads(self) -> None:
        leads = []
        for spec in _LEADS:
            client = self.clients.get(spec.converts_to) if spec.converts_to else None
            created = self.at(spec.created_ago, 14)
            if client is not None:
                created = min(created, client.created_at - dt.timedelta(days=20))
            leads.append(
                Lead(
                    company_name=spec.company,
                    contact_name=spec.contact,
                    contact_email=spec.email,
                    contact_phone=spec.phone,
                    contact_title=spec.title,
                    website="https://www." + spec.email.split("@", 1)[1],
                    industry=spec.industry,
                    stage=spec.stage,
                    estimated_value=_q(spec.value),
                    source=spec.source,
                    owner_id=self.staff[spec.owner].id,
                    converted_client_id=client.id if client else None,
                    converted_at=client.created_at if client else None,
                    created_at=created,
                )
            )
        self.session.add_all(leads)
        await self.session.flush()
        for spec, lead in zip(_LEADS, leads):
            if spec.converts_to:
                client = self.clients[spec.converts_to]
                self.log(
                    ActivityKind.LEAD_CONVERTED,
                    client,
                    client.created_at,
                    f"Won lead {lead.company_name} converted into a client",
                    actor=self.staff[spec.owner],
                    subject=lead,
                )

    async def add_portal_users(self) -> None:
        for key, _note in _PORTAL_CLIENTS:
            client, primary = self.clients[key], self.contacts[key][0]
            self.portal[key] = User(
                email=primary.email,
                full_name=primary.full_name,
                phone=primary.phone,
                job_title=primary.title,
                role=Role.CLIENT,
                password_hash=self.password_hash,
                client_id=client.id,
                contact_id=primary.id,
                created_at=self.at(min(300, self.ago(client.became_client_on) - 10), 10),
            )
        self.session.add_all(self.portal.values())
        await self.session.flush()

        invitations = []
        for key, portal_user in self.portal.items():
            client = self.clients[key]
            manager = self.staff[self.client_specs[key].manager]
            sent = portal_user.created_at
            invitations.append(
                PortalInvitation(
                    user_id=portal_user.id,
                    # Already accepted; the token itself is thrown away, as after a real acceptance.
                    token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                    expires_at=sent + dt.timedelta(days=7),
                    accepted_at=sent + dt.timedelta(hours=3),
                    created_by_id=manager.id,
                    created_at=sent,
                )
            )
            self.log(
                ActivityKind.PORTAL_ACCESS_GRANTED,
                client,
                sent,
                f"Portal access granted to {portal_user.full_name}",
                actor=manager,
                subject=portal_user,
            )
        self.session.add_all(invitations)

    # ---- delivery
    async def add_projects(self) -> None:
        for spec in _PROJECTS:
            client = self.clients[spec.client]
            start = client.became_client_on if spec.start is None else self.day(-spec.start)
            created = self.at(self.ago(start), 11)
            project = Project(
                client_id=client.id,
                name=spec.name,
                description=spec.description,
                start_date=start,
                end_date=self.day(spec.end),
                budget=_q(spec.budget),
                status=spec.status,
                health=spec.health,
                created_at=created,
                updated_at=max(created, self.at(min(self.ago(start), 5), 12)),
            )
            self.projects.append((spec, project, []))
        self.session.add_all(p for _, p, _ in self.projects)
        await self.session.flush()

        for spec, project, tasks in self.projects:
            for position, t in enumerate(spec.tasks):
                due = self.day(t.due)
                completed = None
                if t.status is TaskStatus.DONE:
                    completed = self.at(max(1, self.ago(due) + 1), 16) if t.due < 0 else self.at(1, 16)
                    completed = max(completed, project.created_at)
                tasks.append(
                    (
                        t,
                        Task(
                            project_id=project.id,
                            title=t.title,
                            status=t.status,
                            assignee_id=self.staff[t.assignee].id,
                            due_date=due,
                            estimate_hours=_q(t.estimate),
                            visible_to_client=t.visible,
                            position=position,
                            completed_at=completed,
                            created_at=project.created_at,
                        ),
                    )
                )
            self.session.add_all(task for _, task in tasks)
        await self.session.flush()

        deliverables = []
        for spec, project, tasks in self.projects:
            for t, task in tasks:
                for d in t.deliverables:
                    deliverables.append(
                        Deliverable(
                            task_id=task.id,
                            title=d.title,
                            url=d.url,
                            kind=d.kind,
                            is_complete=d.complete,
                            created_at=task.completed_at or self.at(max(self.ago(task.due_date) + 3, 1), 15),
                        )
                    )
        self.session.add_all(deliverables)

        comments: list[tuple[Comment, Project]] = []
        for spec, project, tasks in self.projects:
            by_title = {t.title: task for t, task in tasks}
            for c in spec.comments:
                task = by_title[c.task] if c.task else None
                comments.append(
                    (
                        Comment(
                            project_id=project.id,
                            task_id=task.id if task else None,
                            kind=c.kind,
                            author_id=self.user(c.author).id,
                            body=c.body,
                            created_at=max(self.at(c.days_ago, 15, 20), project.created_at),
                        ),
                        project,
                    )
                )
        self.session.add_all(c for c, _ in comments)
        await self.session.flush()

        for spec, project, tasks in self.projects:
            client = self.clients[spec.client]
            manager = self.staff[self.client_specs[spec.client].manager]
            self.log(
                ActivityKind.PROJECT_CREATED,
                client,
                project.created_at,
                f"Project {project.name} created",
                actor=manager,
                subject=project,
                visible=True,
            )
            if spec.status is not ProjectStatus.ACTIVE:
                when = self.at(spec.paused if spec.paused is not None else max(1, -spec.end), 17)
                label = spec.status.value.replace("_", " ").lower()
                self.log(
                    ActivityKind.PROJECT_UPDATED,
                    client,
                    max(when, project.created_at),
                    f"Project {project.name} is now {label}",
                    actor=manager,
                    subject=project,
                    visible=True,
                )
            elif spec.health is not ProjectHealth.ON_TRACK:
                self.log(
                    ActivityKind.PROJECT_UPDATED,
                    client,
                    self.at(5, 9),
                    f"Project {project.name} health set to {spec.health.value.replace('_', ' ').lower()}",
                    actor=manager,
                    subject=project,
                    visible=False,
                )
            for t, task in tasks:
                if task.completed_at is not None:
                    self.log(
                        ActivityKind.TASK_UPDATED,
                        client,
                        task.completed_at,
                        f"Task done: {task.title}",
                        actor=self.staff[t.assignee],
                        subject=task,
                        visible=task.visible_to_client,
                    )
        for comment, project in comments:
            client = next(c for c in self.clients.values() if c.id == project.client_id)
            author = next(u for u in [*self.staff.values(), *self.portal.values()] if u.id == comment.author_id)
            word = "Reply" if comment.kind is CommentKind.REPLY else "Note"
            self.log(
                ActivityKind.COMMENT_ADDED,
                client,
                comment.created_at,
                f"{author.full_name} added a {word} on {project.name}",
                actor=author,
                subject=comment,
                visible=comment.kind is CommentKind.REPLY,
            )

    async def add_time_and_expenses(self) -> None:
        horizon = self.day(-90)
        phrases = ("", " (continued)", ": revisions after feedback", ": pairing session", ": QA and fixes")
        for spec, project, tasks in self.projects:
            client_spec = self.client_specs[spec.client]
            if spec.paused is not None:
                last = self.day(-spec.paused)
            elif spec.status is ProjectStatus.ACTIVE:
                last = self.day(-1)
            else:
                last = min(project.end_date, self.day(-1))
            first = max(project.start_date, horizon)
            workers = sorted({t.assignee for t, _ in tasks} | {client_spec.manager})
            day = first
            while day <= last:
                if day.weekday() < 5:
                    for key in workers:
                        user = self.staff[key]
                        is_manager = user.role is not Role.MEMBER
                        if self.rng.random() >= (0.12 if is_manager else 0.24):
                            continue
                        mine = [(t, task) for t, task in tasks if t.assignee == key]
                        active = [(t, task) for t, task in mine if t.status is not TaskStatus.TODO] or mine
                        if is_manager and (not active or self.rng.random() < 0.6):
                            task, hours = None, self.rng.choice((0.5, 0.75, 1.0, 1.5))
                            billable = not spec.fixed_fee and self.rng.random() < 0.5
                            description = self.rng.choice(
                                ("Project management", "Client check-in and planning", "Weekly status report")
                            )
                        else:
                            t, task = self.rng.choice(active)
                            hours = self.rng.choice((1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0))
                            billable = t.visible and not spec.fixed_fee and self.rng.random() > 0.12
                            description = task.title + self.rng.choice(phrases)
                        self.time_entries.append(
                            TimeEntry(
                                user_id=user.id,
                                project_id=project.id,
                                task_id=task.id if task else None,
                                work_date=day,
                                hours=_q(hours),
                                billable=billable,
                                cost_rate=user.hourly_cost_rate,
                                bill_rate=user.hourly_bill_rate,
                                description=description,
                                created_at=self.at(self.ago(day), 18, 5),
                            )
                        )
                day += dt.timedelta(days=1)
            for e in spec.expenses:
                self.expenses.append(
                    (
                        Expense(
                            project_id=project.id,
                            description=e.description,
                            amount=_q(e.amount),
                            billable=e.billable,
                            incurred_on=self.day(-e.days_ago),
                            created_by_id=self.staff[e.by].id,
                            created_at=self.at(e.days_ago, 17, 30),
                        ),
                        spec.client,
                    )
                )
        self.session.add_all(self.time_entries)
        self.session.add_all(e for e, _ in self.expenses)
        await self.session.flush()

        # A handful of feed entries; the rest of the time is visible through the time reports.
        for entry in sorted(self.time_entries, key=lambda e: e.work_date)[-4:]:
            project = next(p for _, p, _ in self.projects if p.id == entry.project_id)
            client = next(c for c in self.clients.values() if c.id == project.client_id)
            user = next(u for u in self.staff.values() if u.id == entry.user_id)
            self.log(
                ActivityKind.TIME_LOGGED,
                client,
                entry.created_at,
                f"{user.full_name} logged {entry.hours} h on {project.name}",
                actor=user,
                subject=entry,
            )
        for expense, key in self.expenses[-3:]:
            self.log(
                ActivityKind.EXPENSE_LOGGED,
                self.clients[key],
                expense.created_at,
                f"Expense logged: {expense.description}",
                actor=self.staff_by_id(expense.created_by_id),
                subject=expense,
            )

    def staff_by_id(self, user_id: int | None) -> User | None:
        return next((u for u in self.staff.values() if u.id == user_id), None)

    # ---- billing
    async def add_invoices(self) -> None:
        project_names = {p.id: p.name for _, p, _ in self.projects}
        project_client = {p.id: spec.client for spec, p, _ in self.projects}
        staff_by_id = {u.id: u for u in self.staff.values()}

        ordered = sorted(_INVOICES, key=lambda s: -s.issue_ago)  # numbers follow issue dates
        built: list[tuple[_InvoiceSpec, Invoice, list[tuple[InvoiceLine, list[TimeEntry | Expense]]]]] = []
        billed_ids: set[int] = set()  # id() of rows a line already claimed, before line ids exist
        for number, spec in enumerate(ordered, start=FIRST_INVOICE_NUMBER):
            client = self.clients[spec.client]
            issue = self.day(-spec.issue_ago)
            sent = spec.status in (InvoiceStatus.SENT, InvoiceStatus.PAID) or (
                spec.status is InvoiceStatus.VOID and spec.client == "crescent"
            )
            invoice = Invoice(
                client_id=client.id,
                number=number,
                status=spec.status,
                issue_date=issue,
                due_date=issue + dt.timedelta(days=client.payment_terms_days),
                sent_at=self.at(spec.issue_ago, 9, 15) if sent else None,
                voided_at=self.at(spec.voided_ago, 10) if spec.voided_ago is not None else None,
                notes=spec.notes,
                created_by_id=self.staff[spec.by].id,
                created_at=self.at(spec.issue_ago, 8, 45),
            )
            tax = self.client_specs[spec.client].tax_rate
            lines: list[tuple[InvoiceLine, list]] = []

            def line(
                kind: InvoiceLineKind, description: str, quantity: Decimal, unit_price: Decimal, billed: list
            ) -> None:
                amount = (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
                lines.append(
                    (
                        InvoiceLine(
                            kind=kind,
                            description=description,
                            quantity=quantity,
                            unit_price=unit_price,
                            tax_rate=tax,
                            amount=amount,
                            tax_amount=(amount * tax).quantize(CENT, rounding=ROUND_HALF_UP),
                            position=len(lines),
                        ),
                        billed,
                    )
                )

            for description, quantity, price in spec.fixed:
                line(InvoiceLineKind.FIXED, description, _q(quantity), _q(price), [])
            if spec.time_window:
                start, stop = self.day(-spec.time_window[0]), self.day(-spec.time_window[1])
                groups: dict[tuple[int, int, Decimal], list[TimeEntry]] = defaultdict(list)
                for entry in self.time_entries:
                    if (
                        entry.billable
                        and entry.invoice_line_id is None
                        and start <= entry.work_date <= stop
                        and project_client[entry.project_id] == spec.client
                        and id(entry) not in billed_ids
                    ):
                        groups[(entry.project_id, entry.user_id, entry.bill_rate)].append(entry)
                for (project_id, user_id, rate), entries in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1])):
                    billed_ids.update(id(e) for e in entries)
                    worker = staff_by_id[user_id]
                    line(
                        InvoiceLineKind.TIME,
                        f"{project_names[project_id]}: {worker.job_title} ({worker.full_name})",
                        _q(sum(e.hours for e in entries)),
                        rate,
                        entries,
                    )
            if spec.expense_window:
                start, stop = self.day(-spec.expense_window[0]), self.day(-spec.expense_window[1])
                for expense, key in self.expenses:
                    if (
                        key == spec.client
                        and expense.billable
                        and start <= expense.incurred_on <= stop
                        and id(expense) not in billed_ids
                    ):
                        billed_ids.add(id(expense))
                        line(
                            InvoiceLineKind.EXPENSE,
                            f"{project_names[expense.project_id]}: {expense.description}",
                            _q(1),
                            expense.amount,
                            [expense],
                        )
            built.append((spec, invoice, lines))

        self.session.add_all(inv for _, inv, _ in built)
        await self.session.flush()
        for _, invoice, lines in built:
            for invoice_line, _billed in lines:
                invoice_line.invoice_id = invoice.id
            self.session.add_all(l for l, _ in lines)
        await self.session.flush()
        for _, invoice, lines in built:
            for invoice_line, billed in lines:
                for row in billed:
                    row.invoice_line_id = invoice_line.id

        payments = []
        for spec, invoice, lines in built:
            client = self.clients[spec.client]
            author = self.staff[spec.by]
            total = sum((l.amount + l.tax_amount for l, _ in lines), Decimal("0.00"))
            self.log(
                ActivityKind.INVOICE_CREATED,
                client,
                invoice.created_at,
                f"Invoice #{invoice.number} created",
                actor=author,
                subject=invoice,
            )
            if invoice.sent_at:
                self.log(
                    ActivityKind.INVOICE_SENT,
                    client,
                    invoice.sent_at,
                    f"Invoice #{invoice.number} sent",
                    actor=author,
                    subject=invoice,
                    visible=True,
                )
            if invoice.voided_at:
                self.log(
                    ActivityKind.INVOICE_VOIDED,
                    client,
                    invoice.voided_at,
                    f"Invoice #{invoice.number} voided",
                    actor=author,
                    subject=invoice,
                )
            paid = Decimal("0.00")
            for days_ago, how, method in spec.payments:
                amount = total - paid if how == "full" else _q(total / 2) if how == "half" else _q(how)
                paid += amount
                payment = Payment(
                    invoice_id=invoice.id,
                    received_on=self.day(-days_ago),
                    amount=amount,
                    method=method,
                    reference=f"{method.value[:4]}-{invoice.number}-{len(payments) + 1:03d}",
                    recorded_by_id=author.id,
                    created_at=self.at(days_ago, 11),
                )
                payments.append((payment, client, invoice))
                if how == "full":
                    invoice.paid_on = payment.received_on
        self.session.add_all(p for p, _, _ in payments)
        await self.session.flush()
        for payment, client, invoice in payments:
            self.log(
                ActivityKind.PAYMENT_RECEIVED,
                client,
                payment.created_at,
                f"Payment received for invoice #{invoice.number}",
                actor=self.staff_by_id(payment.recorded_by_id),
                subject=payment,
                visible=True,
            )
        self.invoices = [(spec, invoice) for spec, invoice, _ in built]

    # ---- the relationship
    async def add_opportunities(self) -> None:
        rows = (
            (
                "northwind",
                "Loyalty app phase 2: gift cards",
                OpportunityKind.UPSELL,
                OpportunityStage.PROPOSED,
                "45000.00",
                30,
                "maria",
                8,
            ),
            (
                "northwind",
                "In-store digital menu boards",
                OpportunityKind.CROSS_SELL,
                OpportunityStage.IDENTIFIED,
                "22000.00",
                90,
                "maria",
                3,
            ),
            (
                "bluebird",
                "Accessibility audit for all clinic sites",
                OpportunityKind.CROSS_SELL,
                OpportunityStage.QUALIFIED,
                "18000.00",
                45,
                "sam",
                15,
            ),
            (
                "summit",
                "Paid social management",
                OpportunityKind.CROSS_SELL,
                OpportunityStage.WON,
                "24000.00",
                -10,
                "maria",
                40,
            ),
            (
                "greenleaf",
                "Renewal with recipe content",
                OpportunityKind.UPSELL,
                OpportunityStage.PROPOSED,
                "42000.00",
                25,
                "maria",
                22,
            ),
            (
                "crescent",
                "Compliance-ready blog",
                OpportunityKind.UPSELL,
                OpportunityStage.LOST,
                "12000.00",
                -20,
                "sam",
                60,
            ),
            (
                "atlas",
                "Customer tracking portal",
                OpportunityKind.UPSELL,
                OpportunityStage.IDENTIFIED,
                "65000.00",
                75,
                "sam",
                2,
            ),
            (
                "harbor",
                "Content marketing retainer",
                OpportunityKind.CROSS_SELL,
                OpportunityStage.IDENTIFIED,
                "9600.00",
                120,
                "maria",
                0,
            ),
            (
                "meridian",
                "Multi-property booking engine",
                OpportunityKind.UPSELL,
                OpportunityStage.QUALIFIED,
                "120000.00",
                60,
                "owner",
                8,
            ),
            (
                "meridian",
                "Mobile check-in app",
                OpportunityKind.CROSS_SELL,
                OpportunityStage.PROPOSED,
                "70000.00",
                40,
                "sam",
                30,
            ),
        )
        opportunities = []
        for key, title, kind, stage, value, close_in, owner, created_ago in rows:
            client = self.clients[key]
            created = max(self.at(created_ago, 12), client.created_at)
            opportunities.append(
                (
                    key,
                    Opportunity(
                        client_id=client.id,
                        title=title,
                        kind=kind,
                        stage=stage,
                        value=_q(value),
                        expected_close_on=self.day(close_in),
                        owner_id=self.staff[owner].id,
                        created_at=created,
                        updated_at=max(created, self.at(min(created_ago, 2), 12)),
                    ),
                )
            )
        self.session.add_all(o for _, o in opportunities)
        await self.session.flush()
        for key, opp in opportunities:
            self.log(
                ActivityKind.OPPORTUNITY_CHANGED,
                self.clients[key],
                opp.updated_at,
                f"Opportunity {opp.title}: {opp.stage.value.lower()}",
                actor=self.staff_by_id(opp.owner_id),
                subject=opp,
            )

    async def add_interactions_and_meetings(self) -> None:
        interactions = []
        for spec in _INTERACTIONS:
            client = self.clients[spec.client]
            interactions.append(
                Interaction(
                    client_id=client.id,
                    kind=spec.kind,
                    summary=spec.summary,
                    occurred_at=self.at(spec.days_ago, spec.hour),
                    staff_id=self.staff[spec.staff].id,
                    contact_id=self.contacts[spec.client][spec.contact].id,
                    created_at=self.at(spec.days_ago, spec.hour, 40),
                )
            )
        # The new clients' kickoff meetings happened on their first day.
        for key, summary in (
            ("atlas", "Pilot kickoff meeting with Daniel and Rachel."),
            ("harbor", "Signed the SOW with Grace; kickoff booked."),
        ):
            client = self.clients[key]
            when = self.at(self.ago(client.became_client_on), 11)
            interactions.append(
                Interaction(
                    client_id=client.id,
                    kind=InteractionKind.MEETING,
                    summary=summary,
                    occurred_at=when,
                    staff_id=client.account_manager_id,
                    contact_id=self.contacts[key][0].id,
                    created_at=when,
                )
            )
        self.session.add_all(interactions)
        await self.session.flush()
        for interaction in interactions:
            client = next(c for c in self.clients.values() if c.id == interaction.client_id)
            if client.last_interaction_at is None or interaction.occurred_at > client.last_interaction_at:
                client.last_interaction_at = interaction.occurred_at
            self.log(
                ActivityKind.INTERACTION_LOGGED,
                client,
                interaction.created_at,
                f"{interaction.kind.value.replace('_', '-').lower()} logged: {interaction.summary}",
                actor=self.staff_by_id(interaction.staff_id),
                subject=interaction,
            )

        M = MeetingStatus
        rows = (
            # client, title, start, status, requested by, staff, agenda
            (
                "northwind",
                "Loyalty beta review",
                self.at(14, 17),
                M.COMPLETED,
                "maria",
                "maria",
                "Walk through beta feedback and agree the launch scope.",
            ),
            (
                "northwind",
                "Sprint demo: checkout integration",
                self.ahead(6, 16),
                M.CONFIRMED,
                "maria",
                "maria",
                "Demo of the barista checkout flow.",
            ),
            (
                "northwind",
                "Store locator next steps",
                self.ahead(9, 17),
                M.REQUESTED,
                "northwind",
                "maria",
                "Booked from the portal: Olivia wants to restart the store locator.",
            ),
            (
                "bluebird",
                "Booking flow walkthrough",
                self.at(27, 14),
                M.COMPLETED,
                "sam",
                "sam",
                "Review the appointment booking prototype with the clinic leads.",
            ),
            (
                "bluebird",
                "UAT planning with clinic staff",
                self.ahead(4, 15),
                M.REQUESTED,
                "bluebird",
                "sam",
                "Booked from the portal: plan user acceptance testing at two clinics.",
            ),
            (
                "bluebird",
                "Security review sign-off",
                self.ahead(11, 14),
                M.CONFIRMED,
                "sam",
                "dev",
                "Tom Becker to sign off on session handling.",
            ),
            (
                "meridian",
                "Quarterly business review",
                self.at(30, 15),
                M.COMPLETED,
                "sam",
                "sam",
                "Results, ROI of direct bookings, roadmap for next quarter.",
            ),
            (
                "meridian",
                "Booking engine UAT",
                self.ahead(12, 15),
                M.CONFIRMED,
                "sam",
                "sam",
                "User acceptance testing of the rate calendar with Yuki.",
            ),
            (
                "crescent",
                "Timeline reset call",
                self.at(3, 15),
                M.CANCELLED,
                "sam",
                "owner",
                "Cancelled by Richard's assistant; to be rebooked.",
            ),
            (
                "atlas",
                "Pilot kickoff",
                self.at(self.ago(self.clients["atlas"].became_client_on), 11),
                M.COMPLETED,
                "sam",
                "sam",
                "Goals, data access and success criteria for the pilot.",
            ),
        )
        meetings = []
        for key, title, starts, status, requested_by, staff, agenda in rows:
            client = self.clients[key]
            meetings.append(
                (
                    key,
                    Meeting(
                        client_id=client.id,
                        title=title,
                        starts_at=starts,
                        ends_at=starts + dt.timedelta(minutes=45),
                        status=status,
                        location="Video call" if key != "meridian" else "Meridian HQ, Chicago",
                        agenda=agenda,
                        requested_by_id=self.user(requested_by).id,
                        staff_id=self.staff[staff].id,
                        created_at=max(
                            client.created_at,
                            min(starts - dt.timedelta(days=5), self.now)
                            if status is not M.REQUESTED
                            else self.at(1, 9),
                        ),
                    ),
                )
            )
        self.session.add_all(m for _, m in meetings)
        await self.session.flush()
        for key, meeting in meetings:
            by_portal = meeting.requested_by_id == getattr(self.portal.get(key), "id", None)
            self.log(
                ActivityKind.MEETING_BOOKED,
                self.clients[key],
                meeting.created_at,
                f"Meeting booked: {meeting.title}",
                actor=self.user(key) if by_portal else self.staff_by_id(meeting.requested_by_id),
                subject=meeting,
                visible=True,
            )
            if meeting.status in (M.COMPLETED, M.CANCELLED, M.CONFIRMED):
                when = min(meeting.ends_at, self.now) if meeting.status is M.COMPLETED else meeting.created_at
                self.log(
                    ActivityKind.MEETING_UPDATED,
                    self.clients[key],
                    max(when, meeting.created_at),
                    f"Meeting {meeting.status.value.lower()}: {meeting.title}",
                    actor=self.staff_by_id(meeting.staff_id),
                    subject=meeting,
                    visible=True,
                )
        self.meetings = meetings

    async def add_logins_notifications_and_outbox(self) -> None:
        events = []
        plan = {
            "northwind": (1, 3, 5, 8, 12, 15, 19, 22, 26, 33, 40, 47, 61),  # a regular portal user
            "bluebird": (9, 16, 30, 44, 58),  # logs in every couple of weeks
        }
        agents = (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        )
        for key, days in plan.items():
            user = self.portal[key]
            for i, days_ago in enumerate(days):
                events.append(
                    LoginEvent(
                        user_id=user.id,
                        client_id=user.client_id,
                        occurred_at=self.at(days_ago, 8 + i % 9, 12),
                        ip_address=f"203.0.113.{20 + i}" if key == "northwind" else f"198.51.100.{40 + i}",
                        user_agent=agents[i % 2],
                    )
                )
        for i, key in enumerate(self.staff):
            for days_ago in (0, 1, 2, 4) if key in ("owner", "maria", "sam") else (1, 3):
                events.append(
                    LoginEvent(
                        user_id=self.staff[key].id,
                        occurred_at=self.at(days_ago, 8, 5 + i),
                        ip_address=f"192.0.2.{10 + i}",
                        user_agent=agents[0],
                    )
                )
        self.session.add_all(events)
        last_login: dict[int, dt.datetime] = {}
        for event in events:
            last_login[event.user_id] = max(last_login.get(event.user_id, event.occurred_at), event.occurred_at)
        for user in [*self.staff.values(), *self.portal.values()]:
            user.last_login_at = last_login.get(user.id)
        for key, user in self.portal.items():
            self.log(
                ActivityKind.PORTAL_LOGIN,
                self.clients[key],
                last_login[user.id],
                f"{user.full_name} signed in to the portal",
                actor=user,
                subject=user,
            )
        # A manager previewed Northwind's portal before the beta review.
        maria, olivia, northwind = self.staff["maria"], self.portal["northwind"], self.clients["northwind"]
        self.log(
            ActivityKind.VIEW_AS_ISSUED,
            northwind,
            self.at(15, 9),
            f"View as {olivia.full_name} issued",
            actor=maria,
            subject=olivia,
        )
        self.log(
            ActivityKind.VIEW_AS_USED,
            northwind,
            self.at(15, 9, 2),
            f"Portal viewed as {olivia.full_name}",
            actor=maria,
            on_behalf_of=olivia,
            subject=olivia,
        )

        latest_sent = {spec.client: inv for spec, inv in self.invoices if inv.status is InvoiceStatus.SENT}
        overdue = [inv for _, inv in self.invoices if inv.status is InvoiceStatus.SENT and inv.due_date < self.today]
        requested = [m for _, m in self.meetings if m.status is MeetingStatus.REQUESTED]
        olivia_reply = (
            await self.session.scalars(
                sa.select(Comment).where(Comment.author_id == olivia.id).order_by(Comment.created_at.desc()).limit(1)
            )
        ).one()
        ben = self.portal["bluebird"]
        sam_reply = (
            await self.session.scalars(
                sa.select(Comment)
                .where(Comment.author_id == self.staff["sam"].id, Comment.kind == CommentKind.REPLY)
                .order_by(Comment.created_at.desc())
                .limit(1)
            )
        ).one()
        load_test = next(
            task
            for _, _, tasks in self.projects
            for t, task in tasks
            if t.title == "Load-test the ledger before launch"
        )
        notifications = [
            Notification(
                user_id=maria.id,
                kind="COMMENT_REPLY",
                subject_type="Comment",
                subject_id=olivia_reply.id,
                message=f"{olivia.full_name} replied on Review beta tester feedback",
                created_at=olivia_reply.created_at,
            ),
            Notification(
                user_id=olivia.id,
                kind="INVOICE_SENT",
                subject_type="Invoice",
                subject_id=latest_sent["northwind"].id,
                message=f"Invoice #{latest_sent['northwind'].number} is ready in your portal",
                created_at=latest_sent["northwind"].sent_at,
                read_at=self.at(8, 9),
            ),
            Notification(
                user_id=ben.id,
                kind="COMMENT_REPLY",
                subject_type="Comment",
                subject_id=sam_reply.id,
                message=f"{self.staff['sam'].full_name} replied on {sam_reply.body[:60]}",
                created_at=sam_reply.created_at,
            ),
            Notification(
                user_id=self.staff["dev"].id,
                kind="TASK_ASSIGNED",
                subject_type="Task",
                subject_id=load_test.id,
                message=f"You were assigned {load_test.title}",
                created_at=self.at(6, 10),
                read_at=self.at(6, 11),
            ),
        ]
        for inv in overdue:
            client = next(c for c in self.clients.values() if c.id == inv.client_id)
            notifications.append(
                Notification(
                    user_id=client.account_manager_id,
                    kind="INVOICE_OVERDUE",
                    subject_type="Invoice",
                    subject_id=inv.id,
                    message=f"Invoice #{inv.number} for {client.name} is overdue",
                    created_at=self.at(self.ago(inv.due_date) - 1, 7),
                )
            )
        for meeting in requested:
            notifications.append(
                Notification(
                    user_id=meeting.staff_id,
                    kind="MEETING_REQUESTED",
                    subject_type="Meeting",
                    subject_id=meeting.id,
                    message=f"Meeting requested from the portal: {meeting.title}",
                    created_at=meeting.created_at,
                )
            )
        self.session.add_all(notifications)

        outbox = []
        for key, user in self.portal.items():
            outbox.append(
                OutboxEmail(
                    to_email=user.email,
                    subject="You're invited to the Agency OS client portal",
                    body=f"Hi {user.full_name.split()[0]},\n\nYour account manager has invited you to the client "
                    "portal, where you can follow your projects, reply on tasks and see your invoices.\n",
                    sent_at=user.created_at + dt.timedelta(minutes=1),
                    attempts=1,
                    created_at=user.created_at,
                )
            )
        for key, inv in latest_sent.items():
            contact = self.contacts[key][0]
            outbox.append(
                OutboxEmail(
                    to_email=contact.email,
                    subject=f"Invoice #{inv.number} from the agency",
                    body=f"Hi {contact.full_name.split()[0]},\n\nInvoice #{inv.number} is due on "
                    f"{inv.due_date.isoformat()}.\n",
                    sent_at=inv.sent_at + dt.timedelta(minutes=1),
                    attempts=1,
                    created_at=inv.sent_at,
                )
            )
        for meeting in requested:
            staff = self.staff_by_id(meeting.staff_id)
            outbox.append(
                OutboxEmail(
                    to_email=staff.email,
                    subject=f"Meeting requested: {meeting.title}",
                    body=f"A client requested a meeting on {meeting.starts_at:%Y-%m-%d %H:%M} UTC.\n",
                    sent_at=None,
                    attempts=0,
                    created_at=meeting.created_at,
                )
            )
        self.session.add_all(outbox)
        await self.session.flush()

    # ---- satisfaction (the Clients Dashboard's NPS)
    async def add_satisfaction_surveys(self) -> None:
        """Answers to "How likely are you to recommend us?" after milestones: happy retail and hotel
        accounts, a detractor at the at-risk client, churned clients' last words."""
        answers = (
            # client key, contact index, score, days ago, comment
            ("northwind", 0, 10, 20, "The portal makes every launch painless."),
            ("northwind", 1, 9, 150, None),
            ("bluebird", 0, 9, 35, "Booking prototype was exactly what the clinics needed."),
            ("bluebird", 3, 8, 120, None),
            ("summit", 0, 8, 45, "Good work on the catalogue; keep the seasonal rush in mind."),
            ("crescent", 0, 4, 25, "The rebuild is late and we are not hearing enough."),
            ("crescent", 2, 6, 70, "Costs are higher than we expected."),
            ("greenleaf", 0, 7, 60, None),
            ("atlas", 0, 9, 10, "Pilot dashboard already saves us calls."),
            ("lumen", 0, 7, 100, None),
            ("redwood", 0, 5, 95, "We need to pause for budget reasons."),
            ("copperline", 0, 6, 200, "Parted on good terms; we are taking it in-house."),
            ("meridian", 0, 10, 30, "Direct bookings are up; great QBR."),
            ("meridian", 1, 9, 110, None),
        )
        self.session.add_all(
            SatisfactionSurvey(
                client_id=self.clients[key].id,
                contact_id=self.contacts[key][contact].id,
                score=score,
                comment=comment,
                responded_at=max(self.at(days_ago, 16), self.clients[key].created_at),
            )
            for key, contact, score, days_ago, comment in answers
        )
        await self.session.flush()
