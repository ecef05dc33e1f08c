from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "madoguchi.live"
    label = "live"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from madoguchi.live.actions import on_logout

        user_logged_out.connect(on_logout, dispatch_uid="madoguchi.live.on_logout")
