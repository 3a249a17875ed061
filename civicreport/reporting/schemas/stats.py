"""Statistics query and answer, as documented; routes/stats.py parses the query itself (its own 422 codes)."""

from marshmallow import Schema, fields, validate


class StatsQuerySchema(Schema):
    # web.stats parses these itself; the pattern and the words are its rules (years EARLIEST–LATEST)
    month = fields.String(
        metadata={
            "description": "统计月份 YYYY-MM（1000–8999 年），默认本月；不能与 from/to 同用",
            "pattern": r"^[1-8]\d{3}-(0[1-9]|1[0-2])$",
        }
    )
    start = fields.String(
        data_key="from",
        metadata={"description": "起始日期 YYYY-MM-DD（含）；须与 to 同时提供，不能与 month 同用", "format": "date"},
    )
    end = fields.String(
        data_key="to",
        metadata={
            "description": "结束日期 YYYY-MM-DD（不含）；须与 from 同时提供，晚于 from，最长 366 天",
            "format": "date",
        },
    )
    format = fields.String(
        validate=validate.OneOf(["json", "csv"]), metadata={"description": "csv 为带 BOM 的 UTF-8 附件"}
    )


class AreaStatsQuerySchema(StatsQuerySchema):
    level = fields.String(
        validate=validate.OneOf(["district", "street", "community", "grid"]),
        metadata={"description": "区域层级，默认 community"},
    )


class PeriodSchema(Schema):
    start = fields.String(data_key="from", required=True, metadata={"format": "date"})
    end = fields.String(data_key="to", required=True, metadata={"format": "date"})


class StatsTableSchema(Schema):
    """A ranking table: rows in rank order, with the 红榜 and 黑榜 picked from them."""

    period = fields.Nested(PeriodSchema, required=True)
    previous_period = fields.Nested(PeriodSchema, required=True)
    rows = fields.List(fields.Dict(), required=True)
    red_list = fields.List(fields.Dict(), required=True)
    black_list = fields.List(fields.Dict(), required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf(["live", "settling", "settled"]),
        metadata={
            "description": "settled：已结算月份，数据固定；settling：月份已结束、正在结算（数据按时间线现算，"
            "结算完成后固定）；live：本月或自定义区间，按时间线现算"
        },
    )
