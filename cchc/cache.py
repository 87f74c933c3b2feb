"""The caches of public answers: files shared by the workers (the default), or memory per process.

``BoundedMemoryCache`` (``CACHE_BACKEND=memory``, the tests): Django's ``LocMemCache`` bounds only the
number of entries (``MAX_ENTRIES``); a public answer can weigh megabytes (a national ranking in
JSON is about 5 MB), so entries alone do not bound a worker's memory. Here ``MAX_BYTES`` does:
the least recently used entries are dropped until the pickled values fit, and a value larger
than the whole bound is not kept at all.
"""

from __future__ import annotations

import os
import pickle
import zlib

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.files import locks


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
    counts its files only every ``CHECK_EVERY`` writes of a process, and keeps values as they
    are pickled.

    Django's own lists the whole directory on every write to know whether to cull: after a
    publication the prebuild writes tens of thousands of copies into a directory of tens of
    thousands (a listing of 90,000 files takes 100 ms). Between two counts the directory may
    exceed ``MAX_ENTRIES`` by at most ``CHECK_EVERY`` entries per process.

    Django's own also compresses every value with zlib, and decompresses it on every read: the
    copies kept here are compressed already (Brotli and gzip, ``rankings.caching``), so that
    was a millisecond per reader of the national ranking's API for nothing. A file written by
    Django's own (zlib) is still read."""

    CHECK_EVERY = 1000

    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._writes = 0

    def get(self, key, default=None, version=None):
        fname = self._key_to_file(key, version)
        try:
            with open(fname, "rb") as f:
                if not self._is_expired(f):
                    return self._load(f.read())
        except FileNotFoundError:
            pass
        return default

    @staticmethod
    def _load(data: bytes):
        # A pickle (protocol 2 and later) starts with 0x80; a zlib stream never does.
        return pickle.loads(data if data[:1] == b"\x80" else zlib.decompress(data))

    def _write_content(self, file, timeout, value):
        file.write(pickle.dumps(self.get_backend_timeout(timeout), self.pickle_protocol))
        file.write(pickle.dumps(value, self.pickle_protocol))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            with open(self._key_to_file(key, version), "r+b") as f:
                try:
                    locks.lock(f, locks.LOCK_EX)
                    if self._is_expired(f):
                        return False
                    value = self._load(f.read())
                    f.seek(0)
                    f.truncate()
                    self._write_content(f, timeout, value)
                    return True
                finally:
                    locks.unlock(f)
        except FileNotFoundError:
            return False

    def _cull(self):
        """When the cache holds ``MAX_ENTRIES`` files, drop the least recently written third
        (``CULL_FREQUENCY``), never an entry kept without expiry (the generation token: losing
        it would orphan every copy). Django's own drops a random third: the copies the
        prebuild has just made as likely as those of generations no key reaches any more."""
        self._writes += 1
        # Every CHECK_EVERY writes of a process, never at its first: listing a national
        # cache's 90,000 files takes 100 ms, which each new worker's first reader to wait for
        # a build paid on top of it (gunicorn replaces workers every 2,000 requests).
        if self._writes % self.CHECK_EVERY:
            return
        files = self._list_cache_files()
        if len(files) < self._max_entries:
            return
        if self._cull_frequency == 0:
            self.clear()
            return
        dated = []
        for name in files:
            try:
                dated.append((os.stat(name).st_mtime, name))
            except FileNotFoundError:  # deleted meanwhile by another process
                continue
        dated.sort()
        to_drop = len(dated) // self._cull_frequency
        for _written, name in dated:
            if to_drop <= 0:
                break
            if self._kept_for_good(name):
                continue
            self._delete(name)
            to_drop -= 1

    @staticmethod
    def _kept_for_good(name: str) -> bool:
        try:
            with open(name, "rb") as f:
                return pickle.load(f) is None  # the expiry, written first
        except (FileNotFoundError, EOFError, pickle.UnpicklingError):
            return False
