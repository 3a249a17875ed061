"""曝光台 and 光荣榜: requests in, views out. The public view is an allow-list of fields: the
category, the street and community (never a point), dates, blurred photos, the masked text
and the outcome; no contact, original, note or person."""

from marshmallow import RAISE, Schema, fields, validate

from civicreport import registry
from civicreport.cases.photo_claims import views as photo_views
from civicreport.exposure import publishing
from civicreport.exposure.models import KINDS

KIND_LABELS = {"uncivil": "曝光台", "praise": "光荣榜"}
OUTCOMES = {
    "verified": "已整改，经核查属实",
    "closed": "已整改并结案",
    "rated": "已整改并结案",
}
PRAISE_OUTCOME = "经核实，予以点赞"
PRAISE_CATEGORY = "文明点赞"
# Years 2000–2999: month=0000-01 passed \d{4} and failed as a 500 building year 0's instants.
MONTH = validate.Regexp(r"^2\d{3}-(0[1-9]|1[0-2])$", error="月份格式为 YYYY-MM（2000–2999 年）")
NOTE = validate.Length(min=1, max=500)
PER_PAGE = 20


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ExposurePublishSchema(_Strict):
    report = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={"description": "案件编号"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"description": "uncivil 或 praise"})
    note = fields.String(required=True, validate=NOTE, metadata={"description": "发布理由（不公开）"})
    reviewed = fields.Raw(load_default=None, metadata={"description": "须为 true：已在预览中查看遮挡后的照片与文字"})


class ExposureWithdrawSchema(_Strict):
    note = fields.String(required=True, validate=NOTE, metadata={"description": "撤下理由（不公开）"})


class ExposurePreviewQuerySchema(_Strict):
    report = fields.String(required=True, validate=validate.Length(min=1, max=32))


class ExposureCandidateQuerySchema(_Strict):
    kind = fields.String(load_default="uncivil", validate=validate.OneOf(KINDS))


class ExposureStaffQuerySchema(_Strict):
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    withdrawn = fields.Boolean(load_default=None)


class ExposurePublicQuerySchema(_Strict):
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    month = fields.String(load_default=None, validate=MONTH, metadata={"description": "发布月份 YYYY-MM"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))


class ExposureFiguresQuerySchema(_Strict):
    month = fields.String(load_default=None, validate=MONTH)


def _day(moment):
    return moment.astimezone(registry.current().zone).date().isoformat() if moment else None


def _place(report):
    return f"{report.street.name} {report.community.name}"


def _category(report):
    return PRAISE_CATEGORY if report.kind == "praise" else (report.category.name if report.category else "其他问题")


def _photos(report, kinds):
    return photo_views(m for m in report.media if m.kind in kinds)


def public_view(publication):
    """What anyone reads of a publication; a withdrawn one says so and nothing else."""
    if publication.withdrawn_at is not None:
        return {
            "id": publication.id,
            "withdrawn": True,
            "withdrawn_on": _day(publication.withdrawn_at),
            "message": "该条内容已撤下",
        }
    report = publication.report
    praise = publication.kind == "praise"
    return {
        "id": publication.id,
        "withdrawn": False,
        "kind": publication.kind,
        "kind_label": KIND_LABELS[publication.kind],
        "case": report.public_id,
        "category": _category(report),
        "place": _place(report),
        "reported_on": _day(report.created_at),
        "published_on": _day(publication.published_at),
        "text": publication.text,
        "photos": _photos(report, ("evidence",)),
        "after_photos": [] if praise else _photos(report, ("after",)),
        "outcome": PRAISE_OUTCOME if praise else OUTCOMES.get(report.status, "已处理"),
        "outcome_on": _day(report.closed_at or report.resolved_at or publication.published_at),
    }


def preview_view(preview):
    """The reviewer's look: what the public would read, the case's state and whether it is up."""
    report = preview.report
    return {
        "report": report.public_id,
        "report_kind": report.kind,
        "kind": "praise" if report.kind == "praise" else "uncivil",
        "status": report.status,
        "category": _category(report),
        "place": _place(report),
        "reported_on": _day(report.created_at),
        "text": preview.text,
        "contact": "【已隐藏】" if report.contact else None,
        "photos": _photos(report, ("evidence",)),
        "after_photos": [] if report.kind == "praise" else _photos(report, ("after",)),
        "outcome": PRAISE_OUTCOME if report.kind == "praise" else OUTCOMES.get(report.status, "已处理"),
        "reviewed_at": preview.review.created_at.isoformat(),
        "published": preview.published and preview.published.id,
    }


def staff_view(publication):
    """A publication for the console: the public side plus who, when and why."""
    return {
        "id": publication.id,
        "kind": publication.kind,
        "kind_label": KIND_LABELS[publication.kind],
        "report": publication.report.public_id,
        "category": _category(publication.report),
        "place": _place(publication.report),
        "text": publication.text,
        "note": publication.note,
        "published_at": publication.published_at.isoformat(),
        "published_by": publication.published_by_user_id,
        "withdrawn": publication.withdrawn_at is not None,
        "withdrawn_at": publication.withdrawn_at and publication.withdrawn_at.isoformat(),
        "withdrawn_note": publication.withdrawn_note,
        "events": [
            {"action": e.action, "actor": e.actor_user_id, "note": e.note, "at": e.created_at.isoformat()}
            for e in publication.events
        ],
    }


def candidate_view(report):
    return {
        "report": report.public_id,
        "kind": "praise" if report.kind == "praise" else "uncivil",
        "status": report.status,
        "category": _category(report),
        "place": _place(report),
        "reported_on": _day(report.created_at),
        "text": publishing.public_text(report),
    }


# --- the documented shapes (OpenAPI) ----------------------------------------------------------


class ExposurePhotoSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "已做隐私遮挡的展示图"})
    thumb_url = fields.String(required=True)
    taken_at = fields.String(allow_none=True)


class PublicExposureSchema(Schema):
    id = fields.Integer(required=True)
    withdrawn = fields.Boolean(required=True, metadata={"description": "true：已撤下，仅有撤下日期与说明"})
    withdrawn_on = fields.Date()
    message = fields.String()
    kind = fields.String(metadata={"description": "uncivil（曝光台）或 praise（光荣榜）"})
    kind_label = fields.String()
    case = fields.String(metadata={"description": "案件编号"})
    category = fields.String()
    place = fields.String(metadata={"description": "街道 社区（不含精确位置）"})
    reported_on = fields.Date()
    published_on = fields.Date()
    text = fields.String(metadata={"description": "描述，电话号码与联系方式已隐藏"})
    photos = fields.List(fields.Nested(ExposurePhotoSchema))
    after_photos = fields.List(fields.Nested(ExposurePhotoSchema))
    outcome = fields.String()
    outcome_on = fields.Date()


class PublicExposureListSchema(Schema):
    items = fields.List(fields.Nested(PublicExposureSchema), required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    total = fields.Integer(required=True)


class ExposurePreviewSchema(Schema):
    report = fields.String(required=True)
    report_kind = fields.String()
    kind = fields.String(metadata={"description": "该案件可发布到的榜：uncivil 或 praise"})
    status = fields.String()
    category = fields.String()
    place = fields.String()
    reported_on = fields.Date()
    text = fields.String(metadata={"description": "将公开的文字（电话、邮箱与上报人联系方式已隐藏）"})
    contact = fields.String(allow_none=True)
    photos = fields.List(fields.Nested(ExposurePhotoSchema))
    after_photos = fields.List(fields.Nested(ExposurePhotoSchema))
    outcome = fields.String()
    reviewed_at = fields.String()
    published = fields.Integer(allow_none=True)


class ExposurePublicationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String()
    kind_label = fields.String()
    report = fields.String()
    category = fields.String()
    place = fields.String()
    text = fields.String()
    note = fields.String()
    published_at = fields.String()
    published_by = fields.Integer()
    withdrawn = fields.Boolean()
    withdrawn_at = fields.String(allow_none=True)
    withdrawn_note = fields.String(allow_none=True)
    events = fields.List(fields.Dict())


class ExposurePublicationListSchema(Schema):
    publications = fields.List(fields.Nested(ExposurePublicationSchema), required=True)


class ExposureCandidateSchema(Schema):
    report = fields.String(required=True)
    kind = fields.String()
    status = fields.String()
    category = fields.String()
    place = fields.String()
    reported_on = fields.Date()
    text = fields.String()


class ExposureCandidateListSchema(Schema):
    candidates = fields.List(fields.Nested(ExposureCandidateSchema), required=True)


class _ExposureCounts(Schema):
    published = fields.Integer()
    withdrawn = fields.Integer()


class ExposureFiguresSchema(Schema):
    month = fields.String(required=True)
    uncivil = fields.Nested(_ExposureCounts)
    praise = fields.Nested(_ExposureCounts)
