from django.apps import AppConfig


class MailInConfig(AppConfig):
    name = "madoguchi.mail_in"
    label = "mail_in"
