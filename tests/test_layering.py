"""media/, geo/ and worktime are plain Python: importing them loads neither Flask nor the models."""

import subprocess
import sys


def test_media_and_geo_import_without_flask_or_models():
    code = (
        "import sys, civicreport.media.images, civicreport.media.storage, "
        "civicreport.geo.crs, civicreport.geo.grid, civicreport.geo.geojson, civicreport.geo.distance, "
        "civicreport.worktime\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_sqlalchemy') "
        "or m.startswith(('civicreport.models', 'civicreport.services')))\n"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
