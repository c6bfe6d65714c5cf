"""WSGI entry point (gunicorn geoschem_runner.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoschem_runner.settings")
application = get_wsgi_application()
