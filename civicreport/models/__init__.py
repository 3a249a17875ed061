"""SQLAlchemy models; importing this module registers every table."""
from civicreport.models.abuse import Block
from civicreport.models.area import Community, District, GridCellArea, Street
from civicreport.models.category import Category, RoutingRule
from civicreport.models.open311 import Open311Client
from civicreport.models.org import ApiToken, Unit, User, UserArea
from civicreport.models.outbox import CalendarDay, OutboxMessage
from civicreport.models.report import DailyCounter, IdempotencyRecord, Media, PhashBand, Report, ReportEvent
from civicreport.models.stats import StatsCaseMonth, StatsMonth
from civicreport.models.support import Support
from civicreport.models.throttle import Throttle

__all__ = [
    "ApiToken", "Block", "CalendarDay", "Category", "Community", "DailyCounter", "District",
    "GridCellArea", "IdempotencyRecord", "Media", "Open311Client", "OutboxMessage", "PhashBand", "Report",
    "ReportEvent", "RoutingRule", "StatsCaseMonth", "StatsMonth", "Street", "Support", "Throttle", "Unit",
    "User", "UserArea",
]
