"""ASGI entry point served by uvicorn (``madoguchi run web``): pages over HTTP, ``/live``
over WebSocket (Django Channels, signed in with the page's session cookie)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from madoguchi.live.auth import SessionAuthMiddleware  # noqa: E402  (needs the app registry)
from madoguchi.live.consumers import LiveConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            SessionAuthMiddleware(URLRouter([path("live", LiveConsumer.as_asgi())]))
        ),
    }
)
