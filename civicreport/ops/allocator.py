"""glibc malloc settings for processes that decode photos (gunicorn workers, ``flask worker``).

Decoding a photo and detecting faces in it take buffers of tens of MB (a 16 MP HEIC's
decoded planes, OpenCV's scaled integral images). By default glibc raises its mmap
threshold after the first such buffer is freed and serves later ones from per-thread
arenas that it does not give back, so a process's RSS creeps up towards the sum of the
largest buffers each thread has seen. A fixed threshold sends them to mmap (returned
when freed) and two arenas serve all threads. Measured by bench/memory.py.
"""
import ctypes

# Parameter numbers from <malloc.h>.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
# The threshold sits above an upload's body (2-4 MB, copied a few times per request):
# at 128 KiB each copy was a fresh mmap and page faults, ~10 ms of CPU per 8 MP upload.
_SETTINGS = ((_M_ARENA_MAX, 2), (_M_MMAP_THRESHOLD, 4 * 1024 * 1024), (_M_TRIM_THRESHOLD, 128 * 1024))


def tune_malloc():
    """Apply the settings; returns False (changing nothing) where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    for param, value in _SETTINGS:
        mallopt(param, value)
    return True
