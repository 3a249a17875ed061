"""Evidence checks at submit: does the photo fit the place and the time it is offered for?

A photo whose EXIF GPS lies far from the report's location, or whose capture time is far
from the submit time, is not rejected — phones mis-tag, people report on the way home —
but the report is flagged so the supervisor looks twice before accepting it.
"""

from dataclasses import dataclass
from datetime import datetime

from civicreport import registry
from civicreport.geo.distance import distance_m

PHOTO_FAR = "photo_far"  # photo GPS further than PHOTO_GPS_MISMATCH_M from the report location
PHOTO_OLD = "photo_old"  # taken more than PHOTO_MAX_AGE_HOURS before the submit
PHOTO_AHEAD = "photo_time_ahead"  # dated more than PHOTO_MAX_AGE_HOURS after it: the clock is wrong
# Set later by the worker's privacy pass: a complete upload whose pixels cannot be decoded.
PHOTO_UNREADABLE = "photo_unreadable"
FLAGS = (PHOTO_FAR, PHOTO_OLD, PHOTO_AHEAD, PHOTO_UNREADABLE)


@dataclass(frozen=True)
class PhotoFacts:
    """What EXIF said about one photo (each part may be missing)."""

    gps_lat: float | None
    gps_lon: float | None
    taken_at: datetime | None


@dataclass(frozen=True)
class Findings:
    distance_m: float | None  # largest gap between a photo's GPS and the report location
    age_s: int | None  # age of the oldest photo at submit (negative: dated after the submit)
    flags: tuple

    def apply(self, report):
        """Store the findings on ``report`` (an unsaved or loaded row)."""
        report.photo_distance_m = self.distance_m
        report.photo_age_s = self.age_s
        report.location_flagged = PHOTO_FAR in self.flags
        report.evidence_flags = list(self.flags) or None
        report.evidence_flagged = bool(self.flags)


def check(photos, lat, lon, submitted_at):
    """Compare each photo's EXIF with the report's WGS-84 point and submit time.

    Photos without GPS or time are skipped for that part; with none at all both values
    are None and nothing is flagged. Never raises for odd EXIF (already validated).
    """
    gaps = [distance_m(lat, lon, p.gps_lat, p.gps_lon) for p in photos if p.gps_lat is not None]
    ages = [(submitted_at - p.taken_at).total_seconds() for p in photos if p.taken_at is not None]
    max_gap_m = registry.settings().PHOTO_GPS_MISMATCH_M
    max_age_s = registry.settings().PHOTO_MAX_AGE_HOURS * 3600
    flags = []
    if gaps and max(gaps) > max_gap_m:
        flags.append(PHOTO_FAR)
    if ages and max(ages) > max_age_s:
        flags.append(PHOTO_OLD)
    if ages and min(ages) < -max_age_s:
        flags.append(PHOTO_AHEAD)
    return Findings(
        distance_m=round(max(gaps), 1) if gaps else None,
        age_s=round(max(ages)) if ages else None,
        flags=tuple(flags),
    )
