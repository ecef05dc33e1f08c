from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "madoguchi.automation"
    label = "automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Rules, automatic assignment, acknowledgements and SLA targets react to intake by
        observing its events (``observers``): intake never imports this app."""
        from madoguchi.automation import observers

        observers.register()
