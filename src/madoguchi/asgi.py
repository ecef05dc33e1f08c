"""ASGI entry point served by uvicorn (``madoguchi run web``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
application = get_asgi_application()
