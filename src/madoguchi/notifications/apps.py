from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "madoguchi.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Notifications are made by observing events (``observers``): the apps below
        record what happened and never import this one."""
        from madoguchi.notifications import observers

        observers.register()
