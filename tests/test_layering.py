"""media/, geo/ and worktime load no Flask and no database, even through a third-party library.

import-linter (`make lint`, the contracts in pyproject.toml) holds the layering of civicreport's
own imports; it cannot see what the libraries these modules use import in turn. This does, by
importing them in a fresh interpreter and reading sys.modules.
"""

import subprocess
import sys

PURE = [
    "civicreport.media.images",
    "civicreport.media.storage",
    "civicreport.geo.crs",
    "civicreport.geo.grid",
    "civicreport.geo.geojson",
    "civicreport.geo.distance",
    "civicreport.worktime",
]
WEB_AND_DATABASE = ("flask", "werkzeug", "flask_sqlalchemy", "sqlalchemy")
OWN = ("civicreport.media", "civicreport.geo", "civicreport.worktime")


def test_media_geo_and_worktime_load_neither_flask_nor_the_database():
    code = f"import sys, {', '.join(PURE)}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = result.stdout.split()
    assert [m for m in loaded if m.split(".")[0] in WEB_AND_DATABASE] == []
    assert [m for m in loaded if m.startswith("civicreport.") and not m.startswith(OWN)] == []
