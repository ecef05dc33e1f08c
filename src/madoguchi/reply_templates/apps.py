from django.apps import AppConfig


class ReplyTemplatesConfig(AppConfig):
    name = "madoguchi.reply_templates"
    label = "reply_templates"
    default_auto_field = "django.db.models.BigAutoField"
