"""What every page may show about the installation itself."""

from django.conf import settings


def site(request) -> dict:
    """``demo_mode``: the installation runs the demo (``DEMO_MODE``), and pages say that its
    scores are illustrative."""
    return {"demo_mode": settings.DEMO_MODE}
