"""Login throttling: django-axes with a limit of its own for each thing it counts.

``AXES_LOCKOUT_PARAMETERS`` lists what is counted (``cchc/settings.py``): one account from one
address, one address across all accounts (password spraying) and, when switched on, one account
across all addresses. Axes compares every one of them with the single ``AXES_FAILURE_LIMIT``;
this handler gives each its own limit instead:

- ``["username", "ip_address"]``: ``AXES_FAILURE_LIMIT``;
- ``["ip_address"]``: ``AXES_ADDRESS_FAILURE_LIMIT``;
- ``["username"]``: ``AXES_ACCOUNT_FAILURE_LIMIT``.

Everything else (where the failures are stored, the cool-off, the lockout page, the
``axes_reset*`` commands) is axes' own database handler. A successful login forgets only the
failures of that account from that address, never the address's failures against other
accounts: otherwise an attacker who owns one account could log into it between two sprays and
start counting from zero again.

The address is the reader's, not the proxy's (``client_address``): behind nginx every request
comes from 127.0.0.1, and a limit per address would then be one limit for the whole site.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address a login comes from (``AXES_CLIENT_IP_CALLABLE``).

    With ``PROXY_COUNT`` proxies in front (``AXES_IPWARE_PROXY_COUNT``), each appending the
    address it received from to ``X-Forwarded-For``, the reader's address is the
    ``PROXY_COUNT``-th entry from the right; entries further left were written by the reader
    and are ignored. Without proxies, or without the header, it is ``REMOTE_ADDR``.
    """
    count = settings.AXES_IPWARE_PROXY_COUNT or 0
    if count > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [address.strip() for address in forwarded if address.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def limit_for(parameters: str | list[str]) -> int:
    """The number of failures that locks one entry of ``AXES_LOCKOUT_PARAMETERS``."""
    names = {parameters} if isinstance(parameters, str) else set(parameters)
    if names == {"ip_address"}:
        return settings.AXES_ADDRESS_FAILURE_LIMIT
    if names == {"username"}:
        return settings.AXES_ACCOUNT_FAILURE_LIMIT
    return settings.AXES_FAILURE_LIMIT


class ThrottlingHandler(AxesDatabaseHandler):
    def failures_and_limits(
        self, request: HttpRequest, credentials: dict | None = None
    ) -> list[tuple[int, int]]:
        """(failures within the cool-off, limit) for each entry of ``AXES_LOCKOUT_PARAMETERS``."""
        parameters = get_lockout_parameters(request, credentials)
        attempts = self.get_user_attempts(request, credentials)  # one query set per entry
        return [
            (queryset.aggregate(n=Sum("failures_since_start"))["n"] or 0, limit_for(entry))
            for entry, queryset in zip(parameters, attempts, strict=True)
        ]

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """The failures of the entry nearest its own limit, on the scale of AXES_FAILURE_LIMIT.

        Axes locks when this reaches ``AXES_FAILURE_LIMIT`` (before authenticating, and on the
        failure that reaches it), so it is that limit minus the fewest failures any entry still
        has left: for the account-and-address entry, its plain count.
        """
        left = min(
            limit - failures for failures, limit in self.failures_and_limits(request, credentials)
        )
        return get_failure_limit(request, credentials) - left

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """On a successful login (``AXES_RESET_ON_SUCCESS``): forget this account from this
        address only."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return count
