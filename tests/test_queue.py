"""The queue over HTTP: filters, visibility, keyset pages, GeoJSON, and index use on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update

from civicreport.accounts import users
from civicreport.cases.models import Report
from civicreport.extensions import db
from civicreport.reference.areas import Street
from tests.factories import (
    COMMUNITY,
    INSIDE,
    make_geography,
    make_rule,
    make_unit,
    make_user,
    photo_bytes,
)
from tests.helpers import assert_error, post_report

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def queue(ctx, client):
    make_geography()
    city = make_unit("cgj", "urban_management", "区城市管理局")
    police = make_unit("jxj", "traffic_police", "区交巡警支队")
    make_rule(city, major="06")
    make_rule(police, code="09009")
    people = {
        name: make_user(name, role, unit)[1]
        for name, role, unit in [
            ("sup", "supervisor", None),
            ("staff", "unit_staff", "cgj"),
            ("cop", "unit_staff", "jxj"),
            ("citizen", "citizen", None),
            ("leader", "leader", None),
        ]
    }
    ids = []
    specs = [
        ("06010", "垃圾堆在路口"),
        ("09009", "车辆乱停占用人行道"),
        ("06010", "100%满溢的垃圾桶"),
        ("07001", "电线杆上的小广告"),
        ("06010", "河边垃圾"),
        ("09009", "违停"),
        ("06013", "人行道地砖破损"),
    ]
    for i, (category, description) in enumerate(specs):
        lat = INSIDE[0] + 0.0005 * (i % 3)
        body = post_report(
            client, [photo_bytes(gps=(lat, INSIDE[1]), color=(i, 1, 1))], category=category, description=description
        ).get_json()
        ids.append(body["id"])
        db.session.execute(
            update(Report).where(Report.public_id == body["id"]).values(created_at=T0 + timedelta(hours=i))
        )
    db.session.commit()
    return {"ids": ids, "people": people}


def get(client, headers, **params):
    response = client.get("/api/v1/queue", query_string=params, headers=headers)
    return response


def ids_of(response):
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_newest_first_with_all_item_fields(client, queue):
    body = get(client, queue["people"]["sup"]).get_json()
    assert [i["id"] for i in body["items"]] == queue["ids"][::-1]
    item = body["items"][0]
    assert set(item) >= {
        "id",
        "status",
        "category",
        "description",
        "lat",
        "lon",
        "grid",
        "community",
        "street",
        "unit",
        "created_at",
        "deadline_at",
        "overdue",
        "warning",
        "age_hours",
        "priority",
        "support_count",
        "thumb_url",
    }
    assert item["thumb_url"] and item["community"] == "长乐社区" and body["next_cursor"] is None


def dispatch(client, people, report_id, unit=None):
    for action, fields in (("accept", {}), ("dispatch", {"unit": unit} if unit else {})):
        response = client.post(
            f"/api/v1/reports/{report_id}/transitions", json={"action": action, **fields}, headers=people["sup"]
        )
        assert response.status_code == 200, response.get_json()


def test_unit_staff_see_only_cases_dispatched_to_their_unit_and_citizens_none(client, queue):
    people, ids = queue["people"], queue["ids"]
    assert ids_of(get(client, people["cop"])) == []  # routed to 交巡警, not dispatched yet
    detail = client.get(f"/api/v1/reports/{ids[1]}", headers=people["cop"]).get_json()
    assert "contact" not in detail
    dispatch(client, people, ids[1])
    dispatch(client, people, ids[5], unit="cgj")  # the centre sends it elsewhere than routing said
    assert ids_of(get(client, people["cop"])) == [ids[1]]
    assert ids_of(get(client, people["staff"])) == [ids[5]]
    assert "contact" in client.get(f"/api/v1/reports/{ids[1]}", headers=people["cop"]).get_json()
    for i in (0, 2, 4, 6):  # three 06010 + one 06013 (major 06) routed to 城管
        dispatch(client, people, ids[i])
    assert len(ids_of(get(client, people["staff"]))) == 5
    assert_error(get(client, queue["people"]["citizen"]), 403, "forbidden")
    assert_error(get(client, {}), 401, "unauthorized")


def test_supervisor_limited_to_patrol_area(client, queue):
    db.session.add(Street(code="500110002", name="文龙街道", district_code="500110"))
    users.update_user("sup", {"areas": ["500110002"]})
    assert ids_of(get(client, queue["people"]["sup"])) == []
    assert len(ids_of(get(client, queue["people"]["leader"]))) == 7


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"category": "09009"}, [5, 1]),
        ({"group": "event", "q": "垃圾"}, [4, 2, 0]),
        ({"q": "100%"}, [2]),
        ({"unit": "jxj"}, [5, 1]),
        ({"community": COMMUNITY, "category": "07001"}, [3]),
        ({"street": "500110001", "q": "违停"}, [5]),
        ({"since": (T0 + timedelta(hours=2)).isoformat(), "until": (T0 + timedelta(hours=4)).isoformat()}, [3, 2]),
        ({"bbox": f"{INSIDE[1] - 0.0002},{INSIDE[0] + 0.0009},{INSIDE[1] + 0.0002},{INSIDE[0] + 0.0011}"}, [5, 2]),
    ],
)
def test_filters(client, queue, params, expected):
    assert ids_of(get(client, queue["people"]["sup"], **params)) == [queue["ids"][i] for i in expected]


def test_status_overdue_and_warning(client, queue):
    ids, now = queue["ids"], datetime.now(UTC)
    db.session.execute(
        update(Report)
        .where(Report.public_id.in_(ids[:3]))
        .values(status="dispatched", deadline_at=now + timedelta(hours=1), warning_at=now - timedelta(minutes=5))
    )
    db.session.execute(update(Report).where(Report.public_id == ids[0]).values(deadline_at=now - timedelta(hours=1)))
    db.session.commit()
    sup = queue["people"]["sup"]
    assert ids_of(get(client, sup, status="dispatched,in_progress")) == ids[2::-1]
    assert ids_of(get(client, sup, status=["submitted", "closed"])) == ids[:2:-1]
    assert ids_of(get(client, sup, overdue="true")) == [ids[0]]
    assert len(ids_of(get(client, sup, overdue="false"))) == 6
    assert ids_of(get(client, sup, warning="true")) == ids[2::-1]
    assert ids_of(get(client, sup, sort="deadline"))[:3] == [ids[0], ids[1], ids[2]]


def test_keyset_pages_are_stable_under_inserts(client, queue):
    sup, ids = queue["people"]["sup"], queue["ids"]
    first = get(client, sup, limit=3).get_json()
    assert [i["id"] for i in first["items"]] == ids[6:3:-1]
    post_report(client, [photo_bytes(gps=INSIDE, color=(200, 1, 1))], category="06010")  # newest of all
    second = get(client, sup, limit=3, cursor=first["next_cursor"]).get_json()
    assert [i["id"] for i in second["items"]] == ids[3:0:-1]
    third = get(client, sup, limit=3, cursor=second["next_cursor"]).get_json()
    assert [i["id"] for i in third["items"]] == [ids[0]] and third["next_cursor"] is None


def test_deadline_sort_pages_through_cases_with_and_without_deadlines(client, queue):
    ids = queue["ids"]
    for offset, public_id in enumerate(ids[:3]):
        db.session.execute(
            update(Report).where(Report.public_id == public_id).values(deadline_at=T0 + timedelta(days=3 - offset))
        )
    db.session.commit()
    seen, cursor = [], None
    while True:
        body = get(
            client, queue["people"]["sup"], sort="deadline", limit=2, **({"cursor": cursor} if cursor else {})
        ).get_json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [ids[2], ids[1], ids[0]] + ids[3:]


def test_priority_sort_puts_urgent_first(client, queue):
    urgent = post_report(client, [photo_bytes(gps=INSIDE, color=(5, 5, 200))], category="01023").get_json()["id"]
    db.session.execute(update(Report).where(Report.public_id == urgent).values(created_at=T0 - timedelta(days=1)))
    db.session.commit()
    assert ids_of(get(client, queue["people"]["sup"], sort="priority"))[0] == urgent


def test_geojson_feature_collection(client, queue):
    body = get(client, queue["people"]["sup"], format="geojson", limit=2).get_json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 2 and body["next_cursor"]
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"][0] == pytest.approx(INSIDE[1])
    assert {"id", "category", "status", "thumb_url", "age_hours", "deadline_at"} <= set(feature["properties"])
    assert "lat" not in feature["properties"]


@pytest.mark.parametrize(
    "params, code",
    [
        ({"cursor": "garbage"}, "invalid_cursor"),
        ({"status": "flying"}, "validation_failed"),
        ({"bbox": "1,2,3"}, "validation_failed"),
        ({"bbox": "110,30,100,31"}, "bbox_out_of_range"),  # the public map's documented refusal
        ({"sort": "random"}, "validation_failed"),
        ({"color": "red"}, "validation_failed"),
    ],
)
def test_bad_parameters_are_422(client, queue, params, code):
    assert_error(get(client, queue["people"]["sup"], **params), 422, code)


def test_a_blank_bbox_is_no_bbox_as_on_the_public_map(client, queue):
    everything = ids_of(get(client, queue["people"]["sup"]))
    assert everything and ids_of(get(client, queue["people"]["sup"], bbox="")) == everything


def test_cursor_of_another_sort_is_rejected(client, queue):
    cursor = get(client, queue["people"]["sup"], limit=2).get_json()["next_cursor"]
    assert_error(get(client, queue["people"]["sup"], sort="priority", cursor=cursor), 422, "invalid_cursor")


QUERIES = {
    "unit open cases": "SELECT id FROM report WHERE unit_id = 1 AND status IN ('dispatched','in_progress') "
    "ORDER BY created_at DESC, id DESC LIMIT 50",
    "status newest": "SELECT id FROM report WHERE status = 'submitted' ORDER BY created_at DESC LIMIT 50",
    "keyset page": "SELECT id FROM report WHERE (created_at, id) < ('2026-11-01', 100) "
    "ORDER BY created_at DESC, id DESC LIMIT 50",
    "overdue": "SELECT id FROM report WHERE deadline_at < now() ORDER BY deadline_at LIMIT 50",
    "street": "SELECT id FROM report WHERE street_code = '500110001' LIMIT 50",
    "grid": "SELECT id FROM report WHERE grid_code = '500110001001001' ORDER BY created_at DESC LIMIT 50",
    "bbox": "SELECT id FROM report WHERE lat BETWEEN 29.03 AND 29.031 AND lon BETWEEN 106.64 AND 106.641",
    "priority": "SELECT id FROM report ORDER BY priority DESC, created_at DESC LIMIT 50",
    "text": "SELECT id FROM report WHERE description ILIKE '%斑马线%' ORDER BY created_at DESC LIMIT 50",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_common_queue_queries_can_use_an_index(ctx, name):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL")
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in conn.execute(text("EXPLAIN " + QUERIES[name])))
    assert "Index" in plan, plan


def test_the_planner_samples_descriptions_finely_enough_to_see_a_common_word(ctx):
    """A word in ~1 % of cases matches one of the default 100 histogram entries or none, and a
    low estimate made the 5 M text search fetch 44,236 matches to keep 50 (198 ms against 2.9):
    the description column is sampled with 1,000 (migration 0021)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    target = db.session.execute(
        text("SELECT attstattarget FROM pg_attribute WHERE attrelid = 'report'::regclass AND attname = 'description'")
    ).scalar_one()
    assert target == 1000
