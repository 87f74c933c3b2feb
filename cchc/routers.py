"""Reads of the public side (frozen publications) go to a read replica when one is configured.

Everything else, and every write, goes to the primary. A replica lags a little: a page read just
after publishing may show the previous version for a moment, which the ETag then corrects.
"""

from django.db import connections


class PublicReadsToReplica:
    replica_apps = {"rankings"}

    def db_for_read(self, model, **hints):
        # Publishing reads inside its transaction on the primary; it must see its own writes.
        if (
            model._meta.app_label in self.replica_apps
            and not connections["default"].in_atomic_block
        ):
            return "replica"
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
