"""
WSGI config for cchc project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")

application = get_wsgi_application()

# Templates, catalogues and fonts loaded now, not by each worker's first readers (with
# gunicorn --preload: once, in the master, before the workers are forked).
from rankings.warm import warm  # noqa: E402

warm()
