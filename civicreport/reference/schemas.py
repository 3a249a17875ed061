"""Categories and grid lookups."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport.schema_fields import LATITUDE, LONGITUDE


class CategorySchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    group = fields.String()
    major_code = fields.String()
    major_name = fields.String()
    standard = fields.Boolean()
    default_unit_kind = fields.String()
    urgency = fields.String()
    deadline_hours = fields.Integer()


class LocateQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    lat = fields.Float(required=True, allow_nan=False, validate=LATITUDE)
    lon = fields.Float(required=True, allow_nan=False, validate=LONGITUDE)
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(["wgs84", "gcj02", "bd09"]))


def unit_view(unit):
    return None if unit is None else {"code": unit.code, "name": unit.name, "kind": unit.kind}


def locate_view(lat, lon, cell, routes):
    return {
        "location": {"lat": lat, "lon": lon, "crs": "wgs84"},
        "grid": {"code": cell.code},
        "community": {"code": cell.community_code, "name": cell.community_name},
        "street": {"code": cell.street_code, "name": cell.street_name},
        "district": {"code": cell.district_code, "name": cell.district_name},
        "routes": {
            group: {"unit": unit_view(r.unit), "routed_by": r.routed_by, "rule_id": r.rule and r.rule.id}
            for group, r in routes.items()
        },
    }


class CategoryListSchema(Schema):
    categories = fields.List(fields.Nested(CategorySchema), required=True)


class AreaSchema(Schema):
    code = fields.String(required=True)
    name = fields.String()


class GridCodeSchema(Schema):
    code = fields.String(required=True, metadata={"description": "15 位网格编码"})


class UnitBriefSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String()


class RouteSchema(Schema):
    unit = fields.Nested(UnitBriefSchema, metadata={"description": "无匹配规则且无属地单位时为 null"})
    routed_by = fields.String(metadata={"description": "rule（路由规则）或 territorial（属地兜底）"})
    rule_id = fields.Integer()


class PointSchema(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)
    crs = fields.String(required=True, metadata={"description": "总是 wgs84"})


class LocateSchema(Schema):
    """What ``locate_view`` returns."""

    location = fields.Nested(PointSchema, required=True)
    grid = fields.Nested(GridCodeSchema, required=True)
    community = fields.Nested(AreaSchema, required=True)
    street = fields.Nested(AreaSchema, required=True)
    district = fields.Nested(AreaSchema, required=True)
    routes = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(RouteSchema),
        required=True,
        metadata={"description": "按类别大类（component/event/behaviour）给出的责任单位"},
    )
