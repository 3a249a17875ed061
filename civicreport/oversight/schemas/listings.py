"""挂牌整改: requests in, views out — the staff view and the public one (公示), which is built
from an allow-list of fields so nothing private (persons, contacts, notes, cases) reaches it."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from civicreport.cases.models import MAX_PHOTOS_PER_STEP
from civicreport.cases.status import STATUS_LABELS
from civicreport.oversight import listings, photos
from civicreport.oversight.status import LISTING_STATES
from civicreport.schema_fields import BoundedList, Day

AREA_CODE = validate.Regexp(r"^(\d{9}|\d{12}|\d{15})$", error="区域代码须为 9 位街道、12 位社区或 15 位网格代码")
UNIT_CODE = validate.Length(min=1, max=32)
MAX_UNITS = 30
MAX_CATEGORIES = 20
MAX_REPORTS = 100
MEDIA_IDS = {"max_items": MAX_PHOTOS_PER_STEP, "load_default": list}


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _media_ids(description):
    return BoundedList(
        fields.String(validate=validate.Length(min=1, max=32)), **MEDIA_IDS, metadata={"description": description}
    )


class ListingCreateSchema(_Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=128))
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    place = fields.String(load_default="", validate=validate.Length(max=128), metadata={"description": "地点说明"})
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-180, max=180))
    area = fields.String(
        load_default=None, validate=AREA_CODE, metadata={"description": "无坐标时的所在区域：街道、社区或网格代码"}
    )
    categories = BoundedList(
        fields.String(validate=validate.Length(min=1, max=8)),
        min_items=1,
        max_items=MAX_CATEGORIES,
        required=True,
        metadata={"description": "问题类别代码：此后附近同类案件自动关联为“建议关联”"},
    )
    leader = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "牵头区级领导的登录名（角色 leader）"},
    )
    leader_office = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "公示的牵头领导职务，如“区政府分管副区长”"},
    )
    lead_unit = fields.String(required=True, validate=UNIT_CODE, metadata={"description": "牵头单位编码"})
    co_units = BoundedList(
        fields.String(validate=UNIT_CODE),
        max_items=MAX_UNITS,
        load_default=list,
        metadata={"description": "配合单位编码"},
    )
    measures = fields.String(load_default="", validate=validate.Length(max=4000), metadata={"description": "整改措施"})
    target_on = Day(required=True, metadata={"description": "整改期限（最后一天）"})
    reports = BoundedList(
        fields.String(validate=validate.Length(min=1, max=32)),
        max_items=MAX_REPORTS,
        load_default=list,
        metadata={"description": "关联的已有案件编号"},
    )
    media_ids = _media_ids("挂牌时的现场照片（整改前），先经 POST /api/v1/media 上传")

    @validates_schema
    def lat_and_lon_together(self, data, **kwargs):
        if (data["lat"] is None) != (data["lon"] is None):
            raise ValidationError("lat 和 lon 必须同时提供", field_name="lat")


class ListingTransitionSchema(_Strict):
    action = fields.String(
        required=True,
        validate=validate.OneOf(listings.TRANSITIONS),
        metadata={
            "description": "update（进展，须填 note 或 media_ids）、request_delisting：牵头单位；"
            "refuse_delisting（须填 note）、delist（须附整改后照片 media_ids）、"
            "reopen（须填 note，可给新的 target_on）：创建办"
        },
    )
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    media_ids = _media_ids("照片，先经 POST /api/v1/media 上传；摘牌时为整改后照片")
    target_on = Day(load_default=None, metadata={"description": "重新挂牌时的新整改期限"})


class ListingQuerySchema(_Strict):
    status = fields.String(load_default=None, validate=validate.OneOf(LISTING_STATES))
    unit = fields.String(load_default=None, validate=UNIT_CODE, metadata={"description": "牵头或配合单位编码"})
    leader = fields.String(
        load_default=None, validate=validate.Length(min=1, max=64), metadata={"description": "牵头领导登录名"}
    )
    area = fields.String(load_default=None, validate=AREA_CODE)
    overdue = fields.Boolean(load_default=False, metadata={"description": "true：只列已超过整改期限的"})


class PublicListingQuerySchema(_Strict):
    status = fields.String(load_default=None, validate=validate.OneOf(LISTING_STATES))


class _UnitSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class _PersonSchema(Schema):
    name = fields.String(required=True)
    display_name = fields.String(required=True)


class ListingEventSchema(Schema):
    id = fields.Integer(required=True)
    action = fields.String(required=True)
    action_label = fields.Function(lambda step: listings.EVENT_LABELS.get(step.action, step.action))
    actor_role = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True, metadata={"description": "null：进展，状态不变"})
    note = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True)
    created_at = fields.DateTime()
    photos = fields.Function(lambda step: photos.views(step.photos))


def _linked(problem):
    return [
        {
            "id": report.public_id,
            "status": report.status,
            "status_label": STATUS_LABELS.get(report.status, report.status),
            "category": report.category_code,
            "created_at": report.created_at.isoformat(),
            "linked_by": link.linked_by,
        }
        for link, report in listings.linked_cases(problem)
    ]


class ListingSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(attribute="public_id", required=True, metadata={"description": "挂牌编号"})
    title = fields.String(required=True)
    description = fields.String()
    place = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    area_code = fields.String(required=True)
    area_name = fields.Function(lambda problem: listings.area_name(problem.area_code))
    categories = fields.List(fields.String())
    category_names = fields.Function(
        lambda problem: listings.category_names(problem.categories), metadata={"description": "类别代码 → 名称"}
    )
    leader = fields.Nested(_PersonSchema, required=True, metadata={"description": "牵头区级领导"})
    leader_office = fields.String(required=True)
    lead_unit = fields.Nested(_UnitSchema, required=True)
    co_units = fields.Function(lambda problem: _UnitSchema(many=True).dump(row.unit for row in problem.co_units))
    measures = fields.String()
    target_on = fields.Date(required=True)
    status = fields.String(required=True)
    status_label = fields.Function(lambda problem: LISTING_STATES[problem.status])
    overdue = fields.Function(
        lambda problem: listings.is_overdue(problem), metadata={"description": "已超过整改期限且未摘牌"}
    )
    listed_at = fields.DateTime()
    delisted_at = fields.DateTime(allow_none=True)
    reopened = fields.Integer(metadata={"description": "重新挂牌次数"})
    cases = fields.Function(
        _linked, metadata={"description": "关联案件：manual 挂牌时指定，suggested 附近同类案件自动关联"}
    )
    events = fields.List(fields.Nested(ListingEventSchema), metadata={"description": "办理记录，时间顺序，只增不改"})
    allowed_actions = fields.List(fields.String(), metadata={"description": "当前用户此刻可做的操作"})


class ListingListSchema(Schema):
    listed_problems = fields.List(fields.Nested(ListingSchema), required=True)


def public_view(problem):
    """What the public list (公示) shows of a problem, field by field: no person, contact,
    note, description or case; the before/after photos blurred."""
    return {
        "number": problem.public_id,
        "title": problem.title,
        "place": problem.place,
        "area_name": listings.area_name(problem.area_code),
        "leader_office": problem.leader_office,
        "lead_unit": problem.lead_unit.name,
        "target_on": problem.target_on.isoformat(),
        "status": problem.status,
        "status_label": LISTING_STATES[problem.status],
        "overdue": listings.is_overdue(problem),
        "listed_on": listings.local_day(problem.listed_at).isoformat(),
        "delisted_on": listings.local_day(problem.delisted_at).isoformat() if problem.delisted_at else None,
        "before_photos": photos.views(listings.before_photos(problem)),
        "after_photos": photos.views(listings.after_photos(problem)),
    }


class _PhotoSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "已做隐私遮挡的展示图"})
    thumb_url = fields.String(required=True)
    taken_at = fields.String(allow_none=True)


class PublicListingSchema(Schema):
    """The documented shape of ``public_view``."""

    number = fields.String(required=True, metadata={"description": "挂牌编号"})
    title = fields.String(required=True)
    place = fields.String()
    area_name = fields.String()
    leader_office = fields.String(required=True, metadata={"description": "牵头领导职务（不公示个人）"})
    lead_unit = fields.String(required=True, metadata={"description": "牵头单位名称"})
    target_on = fields.Date(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    overdue = fields.Boolean()
    listed_on = fields.Date()
    delisted_on = fields.Date(allow_none=True)
    before_photos = fields.List(fields.Nested(_PhotoSchema), metadata={"description": "整改前照片（已遮挡）"})
    after_photos = fields.List(fields.Nested(_PhotoSchema), metadata={"description": "摘牌时整改后照片（已遮挡）"})


class PublicListingListSchema(Schema):
    listed_problems = fields.List(fields.Nested(PublicListingSchema), required=True)
