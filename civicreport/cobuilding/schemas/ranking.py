"""The community ranking's query (a month or a quarter, JSON or CSV) and its answer, as documented."""

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from civicreport.db_types import EARLIEST, LATEST
from civicreport.errors import ValidationFailed
from civicreport.schema_fields import Month

# Years EARLIEST–LATEST-1 (1000–8999) in the patterns, which the document states
_QUARTER = re.compile(r"^([1-8]\d{3})-Q([1-4])$")
_YEARS = range(EARLIEST.year, LATEST.year)
_MONTH_YEARS = (_YEARS[0], _YEARS[-1])


def _year(text):
    if int(text) not in _YEARS:
        raise ValidationError(f"年份须在 {EARLIEST.year}–{LATEST.year - 1} 之间")
    return int(text)


class Quarter(fields.String):
    """``YYYY-Qn`` (n 1–4) as (year, quarter)."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": _QUARTER.pattern, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        match = _QUARTER.match(super()._deserialize(value, attr, data, **kwargs))
        if not match:
            raise ValidationError("季度须为 YYYY-Qn（n 为 1–4）")
        return _year(match[1]), int(match[2])


class RankingQuerySchema(Schema):
    month = Month(years=_MONTH_YEARS, metadata={"description": "排名月份 YYYY-MM，默认本月；不能与 quarter 同用"})
    quarter = Quarter(metadata={"description": "季度考核 YYYY-Qn（如 2026-Q4）：三个月的月度得分取平均后重新排名"})
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv 为带 BOM 的 UTF-8 附件（Excel 可直接打开）"},
    )

    @validates_schema
    def _one_period(self, data, **kwargs):
        if "month" in data and "quarter" in data:  # no query schema can say so: its own code
            raise ValidationFailed(
                "month 与 quarter 只能用一个", code="invalid_period", details={"parameters": ["month", "quarter"]}
            )


class ReportQuerySchema(Schema):
    month = Month(years=_MONTH_YEARS, metadata={"description": "通报月份 YYYY-MM，默认本月"})


class PartsSchema(Schema):
    """Each part 0–100 (two places), null when there was nothing to measure."""

    cases = fields.Float(allow_none=True, metadata={"description": "案件办理（按期结案率、返工率、满意率）"})
    tasks = fields.Float(allow_none=True, metadata={"description": "月度任务得分率"})
    matters = fields.Float(allow_none=True, metadata={"description": "实事清单按期办结率"})
    orders = fields.Float(allow_none=True, metadata={"description": "点单服务满意率"})


class RankingRowSchema(Schema):
    code = fields.String(required=True, metadata={"description": "社区代码（12 位）"})
    name = fields.String(required=True)
    street_code = fields.String(allow_none=True)
    street_name = fields.String(allow_none=True)
    score = fields.Float(allow_none=True, metadata={"description": "综合得分 0–100；无任何可计分项时为 null"})
    rank = fields.Integer(allow_none=True, metadata={"description": "名次，同分同名次（1、2、2、4）"})
    parts = fields.Nested(PartsSchema, required=True)
    figures = fields.Dict(metadata={"description": "各分项的计算依据（月度排名）"})
    months = fields.Integer(metadata={"description": "季度考核：有得分的月数"})
    flag = fields.String(
        allow_none=True, validate=validate.OneOf(["red", "grey"]), metadata={"description": "红旗/灰旗"}
    )
    card = fields.String(
        allow_none=True,
        validate=validate.OneOf(["yellow", "red"]),
        metadata={"description": "当月（季度内最重）红黄牌"},
    )


class FlagEntrySchema(Schema):
    rank = fields.Integer(allow_none=True)
    code = fields.String()
    name = fields.String()


class RankingSchema(Schema):
    """A month's or quarter's ranking: rows ranked first, then the communities without a score."""

    month = fields.String(metadata={"description": "YYYY-MM（月度）"})
    quarter = fields.String(metadata={"description": "YYYY-Qn（季度）"})
    months = fields.List(fields.String(), required=True, metadata={"description": "计入的月份"})
    settled = fields.Boolean(required=True, metadata={"description": "已结算：数据已固定，不再变化"})
    weights = fields.Dict(required=True, metadata={"description": "各分项权重"})
    rows = fields.List(fields.Nested(RankingRowSchema), required=True)
    red_flags = fields.List(fields.Nested(FlagEntrySchema), required=True)
    grey_flags = fields.List(fields.Nested(FlagEntrySchema), required=True)
