"""The web layer: every page, form, template and static file of Madoguchi.

It sits on top of the domain apps (accounts, mailboxes, conversations, mail_in, mail_out,
notifications, live) and is imported by none of them (docs/decisions/0006-web-layer.md).
Views are thin: they read the current agent, check access through the apps' queries, validate
a form and call an action.
"""
