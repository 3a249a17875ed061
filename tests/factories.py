"""Small builders for test data: a 4×4 grid in 古南街道, units, rules, users, photos."""

import io
from datetime import datetime

from PIL import Image

from civicreport.accounts import auth
from civicreport.accounts.models import Unit
from civicreport.extensions import db
from civicreport.geo.geojson import to_geojson_text
from civicreport.geo.grid import lattice
from civicreport.reference.areas import Community, District, GridCellArea, Street
from civicreport.reference.categories import RoutingRule
from civicreport.reference.grid import invalidate_grid_index

# A 4×4 grid of ~100 m cells; its south-west corner is inside the 綦江 old town.
GRID_BOX = (29.0300, 106.6400, 29.0336, 106.6441)
INSIDE = (29.0318, 106.6420)
SW_CORNER = (29.0302, 106.6402)
NE_CORNER = (29.0334, 106.6438)  # ~490 m from the south-west corner
FAR_AWAY = (29.60, 106.50)
STREET = "500110001"
COMMUNITY = "500110001001"


def make_unit(code, kind="urban_management", name=None):
    unit = Unit(code=code, name=name or code, kind=kind, district_code="500110")
    db.session.add(unit)
    db.session.flush()
    return unit


def make_geography():
    """District, one street with its 属地 office, one community, 16 grid cells."""
    db.session.add(District(code="500110", name="綦江区"))
    office = make_unit("st-gunan", "street_office", "古南街道办事处")
    db.session.add(Street(code=STREET, name="古南街道", district_code="500110", territorial_unit_id=office.id))
    db.session.add(Community(code=COMMUNITY, name="长乐社区", street_code=STREET))
    number = 0
    for row in lattice(*GRID_BOX):
        for geom in row:
            number += 1
            centre = geom.centroid
            db.session.add(
                GridCellArea(
                    code=f"{COMMUNITY}{number:03d}",
                    community_code=COMMUNITY,
                    boundary=to_geojson_text(geom),
                    centroid_lat=centre.y,
                    centroid_lon=centre.x,
                )
            )
    db.session.commit()
    invalidate_grid_index()
    return office


def make_rule(unit, area_level="district", area_code="500110", **category):
    rule = RoutingRule(
        unit_id=unit.id,
        area_level=area_level,
        area_code=area_code,
        category_code=category.get("code"),
        category_major=category.get("major"),
        category_group=category.get("group"),
        priority=category.get("priority", 0),
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def make_user(name="staff", role="supervisor", unit_code=None):
    """Create a user and return (user, bearer header)."""
    user = auth.create_user(name, role, unit_code=unit_code)
    return user, {"Authorization": f"Bearer {auth.issue_token(user)}"}


def _gps_ifd(lat, lon):
    def dms(value):
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
        return (degrees, minutes, seconds)

    return {
        1: "N" if lat >= 0 else "S",
        2: dms(lat),
        3: "E" if lon >= 0 else "W",
        4: dms(lon),
    }


def photo_bytes(size=(640, 480), *, fmt="JPEG", gps=None, orientation=None, taken=None, color=None):
    """A generated photo: left half red, right half blue (so orientation is visible)."""
    width, height = size
    image = Image.new("RGB", size, color or (0, 0, 255))
    if color is None:
        image.paste((255, 0, 0), (0, 0, width // 2, height))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if gps:
        exif.get_ifd(0x8825).update(_gps_ifd(*gps))
    out = io.BytesIO()
    kwargs = {"exif": exif.tobytes()} if (gps or orientation or taken) else {}
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def sample_taken():
    return datetime(2026, 11, 20, 9, 30, 0)
