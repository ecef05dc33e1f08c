from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "madoguchi.search"
    label = "search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from madoguchi.core import backup
        from madoguchi.search import observers, terms

        observers.register()
        backup.RESTORED.append(lambda using: terms.refill(using=using))
