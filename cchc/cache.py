"""The caches of public answers: files shared by the workers (the default), or memory per process.

``BoundedMemoryCache`` (``CACHE_BACKEND=memory``, the tests): Django's ``LocMemCache`` bounds only the
number of entries (``MAX_ENTRIES``); a public answer can weigh megabytes (a national ranking in
JSON is about 5 MB), so entries alone do not bound a worker's memory. Here ``MAX_BYTES`` does:
the least recently used entries are dropped until the pickled values fit, and a value larger
than the whole bound is not kept at all.
"""

from __future__ import annotations

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache


class BoundedMemoryCache(LocMemCache):
    def __init__(self, name, params):
        super().__init__(name, params)
        self._max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", 64 * 1024 * 1024))

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        # Called with the lock held and ``value`` already pickled (bytes).
        if len(value) > self._max_bytes:
            self._delete(key)
            return
        super()._set(key, value, timeout)
        total = sum(len(stored) for stored in self._cache.values())
        while total > self._max_bytes:
            oldest, dropped = self._cache.popitem()  # the end holds the least recently used
            self._expire_info.pop(oldest, None)
            total -= len(dropped)


class SharedFileCache(FileBasedCache):
    """Django's file cache, shared by every worker of a server and kept across restarts, that
    counts its files only every ``CHECK_EVERY`` writes of a process.

    Django's own lists the whole directory on every write to know whether to cull: after a
    publication the prebuild writes thousands of copies into a directory of thousands. Between
    two counts the directory may exceed ``MAX_ENTRIES`` by at most ``CHECK_EVERY`` entries per
    process."""

    CHECK_EVERY = 200

    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._writes = 0

    def _cull(self):
        self._writes += 1
        if self._writes % self.CHECK_EVERY != 1:
            return
        super()._cull()
