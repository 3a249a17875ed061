"""SQLAlchemy models; importing this module registers every table."""
from .abuse import Block
from .area import Community, District, GridCellArea, Street
from .category import Category, RoutingRule
from .open311 import Open311Client
from .org import ApiToken, Unit, User, UserArea
from .outbox import CalendarDay, OutboxMessage
from .report import DailyCounter, IdempotencyRecord, Media, PhashBand, Report, ReportEvent
from .stats import StatsCaseMonth, StatsMonth
from .support import Support
from .throttle import Throttle

__all__ = [
    "ApiToken", "Block", "CalendarDay", "Category", "Community", "DailyCounter", "District",
    "GridCellArea", "IdempotencyRecord", "Media", "Open311Client", "OutboxMessage", "PhashBand", "Report",
    "ReportEvent", "RoutingRule", "StatsCaseMonth", "StatsMonth", "Street", "Support", "Throttle", "Unit",
    "User", "UserArea",
]
