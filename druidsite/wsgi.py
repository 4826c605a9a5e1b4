"""WSGI entry point (gunicorn druidsite.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "druidsite.settings")
application = get_wsgi_application()
