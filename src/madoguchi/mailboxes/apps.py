from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "madoguchi.mailboxes"
    label = "mailboxes"
