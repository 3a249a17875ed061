"""glibc malloc settings for processes that decode photos (gunicorn workers, ``flask worker``).

Decoding a photo and detecting faces and plates in it take buffers of tens of MB (a 16 MP
HEIC's decoded planes, the detectors' arrays). By default glibc raises its mmap threshold
after the first such buffer is freed and serves later ones from per-thread arenas that it
does not give back, so a process's RSS creeps up towards the sum of the largest buffers
each thread has seen. A fixed threshold sends them to mmap (returned when freed), and one
arena serves all threads: one photo is decoded at a time per process anyway, and each
arena would keep its own free top (below; with two the peaks were 334 and 371 MB).

Up to 32 MB of free memory stays at the top of the heap. Trimming it from 128 KiB on gave
it back after every photo and faulted it in again for the next. Inline 8 MP bursts
(bench/load.py --quick --mix 8mp --submissions 200 --setting PRIVACY_MODE=inline), web
worker CPU per upload, of it in the kernel: 281 -> 245 ms, 87 -> 37 ms with the one-piece
face net; 340 -> 282 ms, 73 -> 6 ms with the banded one. The price, bench/memory.py
inline (one run each; runs spread 5-10 MB): the web worker's peak during the 16 MP HEIC
313 MB instead of 303, at most 331-337 instead of 318. Giving the heap back (malloc_trim)
just before that HEIC's ~90 MB decode lowered it by 1-7 MB only; after the face detector
has dropped its nets there it does more (media/images.py's _RELEASE_PIXELS).
"""

import ctypes

# Parameter numbers from <malloc.h>.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
# The threshold sits above an upload's body (2-4 MB, copied a few times per request):
# at 128 KiB each copy was a fresh mmap and page faults, ~10 ms of CPU per 8 MP upload.
_SETTINGS = ((_M_ARENA_MAX, 1), (_M_MMAP_THRESHOLD, 4 * 1024 * 1024), (_M_TRIM_THRESHOLD, 32 * 1024 * 1024))


def tune_malloc():
    """Apply the settings; returns False (changing nothing) where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    for param, value in _SETTINGS:
        mallopt(param, value)
    return True
