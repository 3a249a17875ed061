"""曝光台 and 光荣榜: the 文明点赞 report kind and its lifecycle, the one masking function, publishing
after a recorded preview, withdrawal with its event, the public API and pages, and the month's counts."""

import json

import pytest
from sqlalchemy import select

from civicreport.cases.models import Media
from civicreport.exposure.masking import MASK, mask_personal
from civicreport.exposure.models import PublicationEvent
from civicreport.extensions import db
from tests.factories import INSIDE, photo_bytes
from tests.helpers import PATHS, assert_error, post_report

CONTACT = "13912345678"
TYPED = "早高峰闯红灯，司机电话 138 1234 5678，物业 023-6712 3456"


# --- the masking function -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "138 - 1234 - 5678",
        "138.1234.5678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "+8613812345678",
        "0086 138 1234 5678",
        "023-67123456",
        "023-6712 3456",
        "023 6712345",
        "(023)67123456",
        "（023）67123456",
        "0755-12345678",
        "+86 23 6712 3456",
        "400-123-4567",
        "800 123 4567",
        "67123456",
        "１３８１２３４５６７８",
        "１３８－１２３４－５６７８",
        "０２３－６７１２３４５６",
        "＋８６ １３８ １２３４ ５６７８",
        "someone@example.com",
    ],
)
def test_every_number_shape_is_masked(text):
    masked = mask_personal(f"请联系{text}谢谢")
    assert masked == f"请联系{MASK}谢谢"


@pytest.mark.parametrize(
    "text",
    ["2026-12-07 上午9点", "12月7日 10:30 有人闯红灯", "3号楼2单元", "渝A·12345 的车", "（已整改）", "第１２３期"],
)
def test_dates_times_and_house_numbers_stay(text):
    assert mask_personal(text) == text


def test_the_reporters_contact_is_masked_whatever_its_shape():
    assert mask_personal("我是微信 wx_lee88，欢迎找我", "wx_lee88") == f"我是微信 {MASK}，欢迎找我"
    assert mask_personal("", CONTACT) == ""
    assert mask_personal("两个号 13812345678 和 13912345678") == f"两个号 {MASK} 和 {MASK}"


# --- 文明点赞: the report kind and its lifecycle ----------------------------------------------------


def praise(client, **fields):
    fields = {"kind": "praise", "description": "公交车礼让斑马线上的老人", "lat": INSIDE[0], "lon": INSIDE[1], **fields}
    return post_report(client, [photo_bytes(gps=INSIDE)], **fields)


def test_a_praise_report_is_confirmed_not_dispatched(loop, client):
    response = praise(client)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "praise" and body["status"] == "submitted" and body["unit"] is None
    staff = client.get(f"/api/v1/reports/{body['id']}", headers=loop.people["supervisor"]).get_json()
    assert "confirm_praise" in staff["allowed_actions"] and "accept" not in staff["allowed_actions"]
    assert_error(loop.act(body["id"], "supervisor", "accept"), 409, "invalid_transition")
    assert_error(loop.act(body["id"], "monitor", "confirm_praise"), 403, "role_not_allowed")
    assert loop.ok(body["id"], "supervisor", "confirm_praise")["status"] == "verified"


def test_praise_names_no_category_and_problems_are_not_praised(loop, client):
    assert_error(praise(client, category="06010"), 422, "praise_has_no_category")
    assert_error(praise(client, kind="kudos"), 422, "validation_failed")
    problem = loop.new_report()
    assert_error(loop.act(problem, "supervisor", "confirm_praise"), 409, "invalid_transition")


# --- publishing, withdrawing, the public side -------------------------------------------------------


def uncivil_case(loop, client, state="verified"):
    """A case in ``state`` whose description carries numbers and whose reporter left a contact."""
    body = post_report(
        client, [photo_bytes(gps=INSIDE)], category="06010", description=TYPED, contact=CONTACT
    ).get_json()
    loop.people["receipt"] = {"X-Receipt-Token": body["receipt_token"]}

    for who, action, fields in PATHS[state]:
        if fields == "photo":
            fields = {"media_ids": [loop.upload(who)]}
        loop.ok(body["id"], who, action, **fields)
    return body["id"]


def publish(client, headers, report, kind="uncivil", **extra):
    return client.post(
        "/api/v1/exposure",
        json={"report": report, "kind": kind, "note": "典型案例", "reviewed": True, **extra},
        headers=headers,
    )


def test_published_then_withdrawn_shows_the_withdrawal(loop, client):
    sup = loop.people["supervisor"]
    rid = uncivil_case(loop, client)
    assert [c["report"] for c in client.get("/api/v1/exposure/candidates", headers=sup).get_json()["candidates"]] == [
        rid
    ]

    assert_error(publish(client, sup, rid), 409, "preview_required")  # no look, no publication
    view = client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup).get_json()
    assert view["text"] == f"早高峰闯红灯，司机电话 {MASK}，物业 {MASK}" and view["contact"] == MASK
    originals = {m.original_key for m in db.session.scalars(select(Media))}
    assert view["photos"] and not any(key in json.dumps(view) for key in originals)
    assert_error(publish(client, sup, rid, reviewed=False), 422, "review_required")
    assert_error(publish(client, sup, rid, reviewed="yes"), 422, "review_required")
    assert_error(publish(client, sup, rid, kind="praise"), 422, "kind_mismatch")
    response = publish(client, sup, rid)
    assert response.status_code == 201, response.get_json()
    publication = response.get_json()
    assert_error(publish(client, sup, rid), 409, "already_published")
    assert client.get("/api/v1/exposure/candidates", headers=sup).get_json()["candidates"] == []

    listing = client.get("/api/v1/public/exposure?kind=uncivil").get_json()
    assert listing["total"] == 1 and listing["pages"] == 1
    item = listing["items"][0]
    assert item["case"] == rid and item["place"] and item["category"] and item["outcome"] == "已整改，经核查属实"
    assert item["photos"] and item["after_photos"] and item["text"] == view["text"]
    public = json.dumps(listing, ensure_ascii=False)
    for secret in (CONTACT, "1234 5678", "6712", '"lat"', '"lon"', "典型案例", *originals):
        assert secret not in public
    page = client.get("/exposure").get_data(as_text=True)
    assert item["category"] in page and item["place"] in page and "6712" not in page

    pid = publication["id"]
    withdrawn = client.post(f"/api/v1/exposure/{pid}/withdraw", json={"note": "当事人已整改，撤下"}, headers=sup)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn"] is True
    assert_error(
        client.post(f"/api/v1/exposure/{pid}/withdraw", json={"note": "再撤"}, headers=sup), 409, "already_withdrawn"
    )
    gone = client.get(f"/api/v1/public/exposure/{pid}").get_json()
    assert gone["withdrawn"] is True and set(gone) == {"id", "withdrawn", "withdrawn_on", "message"}
    page = client.get(f"/exposure/{pid}").get_data(as_text=True)
    assert "已撤下" in page and item["category"] not in page
    assert client.get("/api/v1/public/exposure").get_json()["total"] == 0
    events = db.session.scalars(select(PublicationEvent).order_by(PublicationEvent.id)).all()
    assert [(e.action, e.note) for e in events] == [("publish", "典型案例"), ("withdraw", "当事人已整改，撤下")]
    staff = client.get("/api/v1/exposure?withdrawn=true", headers=sup).get_json()["publications"]
    assert [e["action"] for e in staff[0]["events"]] == ["publish", "withdraw"]
    # withdrawn, it may go up again after a fresh look
    client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup)
    assert publish(client, sup, rid).status_code == 201


def test_a_change_after_the_preview_asks_for_another_look(loop, client):
    sup = loop.people["supervisor"]
    rid = uncivil_case(loop, client)
    client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup)
    loop.ok(rid, "supervisor", "close")
    assert_error(publish(client, sup, rid), 409, "preview_required")
    other = loop.people["admin"]  # each publisher looks for himself
    client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup)
    assert_error(publish(client, other, rid), 409, "preview_required")
    assert publish(client, sup, rid).status_code == 201


def test_praise_goes_on_the_honour_board(loop, client):
    sup = loop.people["supervisor"]
    rid = praise(client).get_json()["id"]
    assert_error(client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup), 409, "not_publishable")
    loop.ok(rid, "supervisor", "confirm_praise")
    assert [
        c["report"] for c in client.get("/api/v1/exposure/candidates?kind=praise", headers=sup).get_json()["candidates"]
    ] == [rid]
    client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup)
    assert_error(publish(client, sup, rid), 422, "kind_mismatch")
    assert publish(client, sup, rid, kind="praise").status_code == 201
    item = client.get("/api/v1/public/exposure?kind=praise").get_json()["items"][0]
    assert item["category"] == "文明点赞" and item["kind_label"] == "光荣榜" and item["after_photos"] == []
    assert client.get("/api/v1/public/exposure?kind=uncivil").get_json()["total"] == 0
    assert "光荣榜" in client.get("/exposure?kind=praise").get_data(as_text=True)


def test_roles_states_ids_and_input(loop, client):
    rid = loop.to_state("in_progress")
    for who in ("monitor", "leader", "own_staff", "citizen"):
        headers = loop.people[who]
        assert_error(client.get(f"/api/v1/exposure/preview?report={rid}", headers=headers), 403, "forbidden")
        assert_error(publish(client, headers, rid), 403, "forbidden")
        assert_error(client.post("/api/v1/exposure/1/withdraw", json={"note": "x"}, headers=headers), 403, "forbidden")
    assert_error(publish(client, {}, rid), 401, "unauthorized")
    sup = loop.people["supervisor"]
    assert_error(client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup), 409, "not_publishable")
    assert_error(publish(client, sup, rid), 409, "not_publishable")
    assert_error(client.get("/api/v1/exposure/preview?report=QJ00000000-0000", headers=sup), 404, "report_not_found")
    assert_error(publish(client, sup, "QJ00000000-0000"), 404, "report_not_found")
    assert_error(
        client.post("/api/v1/exposure/999/withdraw", json={"note": "x"}, headers=sup), 404, "publication_not_found"
    )
    assert_error(client.get("/api/v1/public/exposure/999"), 404, "publication_not_found")
    assert client.get("/exposure/999").status_code == 404
    assert_error(publish(client, sup, rid, kind="bogus"), 422, "validation_failed")
    assert_error(publish(client, sup, rid, note=""), 422, "validation_failed")
    assert_error(client.post("/api/v1/exposure/1/withdraw", json={}, headers=sup), 422, "validation_failed")
    for query in ("month=2026-13", "page=0", "kind=all", "page=x", "extra=1"):
        assert_error(client.get(f"/api/v1/public/exposure?{query}"), 422, "validation_failed")
    assert_error(
        client.get("/api/v1/stats/exposure?month=12-2026", headers=loop.people["leader"]), 422, "validation_failed"
    )
    assert client.get("/exposure?month=&kind=").status_code == 200  # the month form's empty field


def test_month_counts_in_the_leaders_figures(loop, client):
    sup, leader = loop.people["supervisor"], loop.people["leader"]
    first, second = uncivil_case(loop, client), uncivil_case(loop, client)
    ids = []
    for rid in (first, second):
        client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup)
        ids.append(publish(client, sup, rid).get_json()["id"])
    client.post(f"/api/v1/exposure/{ids[0]}/withdraw", json={"note": "撤"}, headers=sup)
    figures = client.get("/api/v1/stats/exposure", headers=leader).get_json()
    assert figures["uncivil"] == {"published": 2, "withdrawn": 1}
    assert figures["praise"] == {"published": 0, "withdrawn": 0}
    empty = client.get("/api/v1/stats/exposure?month=2001-01", headers=leader).get_json()
    assert empty == {
        "month": "2001-01",
        "uncivil": {"published": 0, "withdrawn": 0},
        "praise": {"published": 0, "withdrawn": 0},
    }
    assert_error(client.get("/api/v1/stats/exposure", headers=loop.people["own_staff"]), 403, "forbidden")
    month = figures["month"]
    assert client.get(f"/api/v1/public/exposure?month={month}").get_json()["total"] == 1
    assert client.get("/api/v1/public/exposure?month=2001-01").get_json()["total"] == 0


def test_the_public_list_pages_by_twenty(loop, client, monkeypatch):
    from civicreport.web import exposure as routes  # noqa: PLC0415

    monkeypatch.setattr(routes, "PER_PAGE", 1)
    sup = loop.people["supervisor"]
    for _ in range(2):
        rid = uncivil_case(loop, client)
        client.get(f"/api/v1/exposure/preview?report={rid}", headers=sup)
        publish(client, sup, rid)
    first = client.get("/api/v1/public/exposure?page=1").get_json()
    second = client.get("/api/v1/public/exposure?page=2").get_json()
    assert first["pages"] == 2 and len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]
    assert client.get("/api/v1/public/exposure?page=3").get_json()["items"] == []
    page = client.get("/exposure?page=1").get_data(as_text=True)
    assert "下一页" in page and "第 1 / 2 页" in page
