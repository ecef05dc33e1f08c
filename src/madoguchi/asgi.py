"""ASGI entry point served by uvicorn (``madoguchi run web``): pages over HTTP, ``/live``
over WebSocket (Django Channels, signed in with the page's session cookie).

Around both: ``core.proxy`` (the client address and scheme, from trusted proxies only);
around the pages: ``core.limits`` (request bodies bounded before Django reads them)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from madoguchi.core.limits import BodyLimitMiddleware  # noqa: E402
from madoguchi.core.proxy import TrustedProxyMiddleware  # noqa: E402
from madoguchi.live.auth import SessionAuthMiddleware  # noqa: E402  (needs the app registry)
from madoguchi.live.consumers import LiveConsumer  # noqa: E402

application = TrustedProxyMiddleware(
    ProtocolTypeRouter(
        {
            "http": BodyLimitMiddleware(django_application),
            "websocket": AllowedHostsOriginValidator(
                SessionAuthMiddleware(URLRouter([path("live", LiveConsumer.as_asgi())]))
            ),
        }
    )
)
