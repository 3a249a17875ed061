"""The Atom feed of an area's public reports (RFC 4287, written by feedgenerator): the newest
first, each entry the public view alone (alerts.public_reports), updated when the report was."""

from html import escape

import feedgenerator

from civicreport.alerts import public_reports

FEED_SIZE = 50


def area_feed(area, *, feed_url, map_url):
    """The feed's bytes for ``area``; ``feed_url`` is its own address, ``map_url`` the public map's."""
    reports, _ = public_reports.search(public_reports.Filters(area=area), FEED_SIZE)
    feed = feedgenerator.Atom1Feed(
        title=f"随手拍公开案件 · {area.name}",
        link=map_url,
        description=f"{area.name}的文明城市随手拍公开案件：类别、状态与地点（行为类案件位置约 50 米）",
        language="zh-CN",
        feed_url=feed_url,
        feed_guid=feed_url,
    )
    for report in reports:
        _add(feed, public_reports.public_view(report), report, map_url)
    return feed.writeString("utf-8").encode("utf-8")


def _add(feed, view, report, map_url):
    category = view["category"]["name"] if view["category"] else "未分类"
    link = f"{map_url}#report={view['id']}"
    feed.add_item(
        title=f"{category}（{view['status_label']}）· {view['street']}{view['community']}",
        link=link,
        description=_summary(view, category),
        unique_id=link,
        pubdate=report.created_at,
        updateddate=report.updated_at,
        categories=[view["group"]] if view["group"] else None,
    )


def _summary(view, category):
    """A short HTML summary: the category, status, place, and the blurred thumb when there is one."""
    place = f"{view['street']}{view['community']}" + ("（位置约 50 米）" if view["approximate"] else "")
    parts = [f"<p>{escape(view['id'])}：{escape(category)}，{escape(view['status_label'])}，{escape(place)}</p>"]
    if view["thumb_url"]:
        parts.append(f'<p><img src="{escape(view["thumb_url"])}" alt="现场照片（已遮挡）"></p>')
    return "".join(parts)
