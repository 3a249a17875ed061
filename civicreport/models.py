"""SQLAlchemy models; importing this module registers every table."""

from civicreport.abuse.models import Block, Throttle
from civicreport.accounts.models import ApiToken, Unit, User, UserArea
from civicreport.cases.models import (
    DailyCounter,
    IdempotencyRecord,
    Media,
    PhashBand,
    Report,
    ReportEvent,
    Support,
)
from civicreport.cobuilding.models import (
    Card,
    CardMonth,
    Declaration,
    DeclarationEvent,
    LeaderLink,
    Matter,
    MatterNote,
    Meeting,
    MeetingAttendee,
    NeedOrder,
    NeedOrderEvent,
    Partnership,
    Photo,
    RankingMonth,
    RankingRow,
    Task,
    TaskCommunity,
    VolunteerTeam,
)
from civicreport.delivery.models import OutboxMessage
from civicreport.open311.models import Open311Client
from civicreport.reference.areas import Community, District, GridCellArea, Street
from civicreport.reference.calendar import CalendarDay
from civicreport.reference.categories import Category, RoutingRule
from civicreport.reporting.models import StatsCaseMonth, StatsMonth

__all__ = [
    "ApiToken",
    "Block",
    "CalendarDay",
    "Card",
    "CardMonth",
    "Category",
    "Community",
    "DailyCounter",
    "Declaration",
    "DeclarationEvent",
    "District",
    "GridCellArea",
    "IdempotencyRecord",
    "LeaderLink",
    "Matter",
    "MatterNote",
    "Media",
    "Meeting",
    "MeetingAttendee",
    "NeedOrder",
    "NeedOrderEvent",
    "Open311Client",
    "OutboxMessage",
    "Partnership",
    "PhashBand",
    "Photo",
    "RankingMonth",
    "RankingRow",
    "Report",
    "ReportEvent",
    "RoutingRule",
    "StatsCaseMonth",
    "StatsMonth",
    "Street",
    "Support",
    "Task",
    "TaskCommunity",
    "Throttle",
    "Unit",
    "User",
    "UserArea",
    "VolunteerTeam",
]
