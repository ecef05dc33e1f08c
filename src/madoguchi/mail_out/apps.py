from django.apps import AppConfig


class MailOutConfig(AppConfig):
    name = "madoguchi.mail_out"
    label = "mail_out"
