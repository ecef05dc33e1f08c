"""`madoguchi createadmin`: an admin without any default password.

The first admin of a new installation (or another one, e.g. when every admin forgot their
password). The password is asked twice on the terminal, or read from a file
(``--password-file PATH``, ``-`` for standard input) or from ``MADOGUCHI_ADMIN_PASSWORD``;
never from the command line, where ``ps`` shows it to every user of the machine.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

#: Where a script puts the password instead of the terminal.
PASSWORD_VARIABLE = "MADOGUCHI_ADMIN_PASSWORD"
#: Chances to type an acceptable password on the terminal.
ATTEMPTS = 3


def register(sub: Any) -> None:
    p = sub.add_parser(
        "createadmin",
        help="create an admin (asks for the password)",
        description="Create an admin. The password is asked twice on the terminal, or read "
        f"from --password-file or ${PASSWORD_VARIABLE}; never give it on the command line.",
        allow_abbrev=False,  # "--password SECRET" must not pass for --password-file
    )
    p.add_argument("--username", help="the admin's user name (asked when missing)")
    p.add_argument("--email", help="the admin's mail address, for password-reset mail")
    p.add_argument("--name", dest="display_name", default="", help="the name the team sees")
    p.add_argument(
        "--password-file",
        metavar="PATH",
        help="read the password from the first line of PATH ('-': standard input)",
    )
    p.set_defaults(handler=cmd_createadmin)


def cmd_createadmin(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.utils import translation

    from madoguchi.accounts.actions import create_agent
    from madoguchi.accounts.models import Role
    from madoguchi.cli.commands import migrate

    migrate()
    # Django's validator messages in the operator's language (English unless LANG says ja)
    language = "ja" if os.environ.get("LANG", "").startswith("ja") else "en"
    with translation.override(language):
        username = _username(args.username)
        email = _email(args.email, interactive=args.username is None)
        password = _password(args.password_file, username=username, email=email)
        agent = create_agent(
            username,
            password=password,
            role=Role.ADMIN,
            display_name=args.display_name,
            email=email,
        )
    print(f"admin {agent.user.username} created; sign in at {settings.MADOGUCHI.base_url}/login/")
    return 0


def _interactive() -> bool:
    return sys.stdin.isatty()


def _username(given: str | None) -> str:
    from django.contrib.auth.models import User
    from django.contrib.auth.validators import UnicodeUsernameValidator

    if given is None:
        if not _interactive():
            raise ValueError("give --username NAME (no terminal to ask on)")
        given = input("User name: ")
    name = given.strip()
    if not name:
        raise ValueError("the user name is empty")
    if len(name) > 150:
        raise ValueError("the user name is longer than 150 characters")
    UnicodeUsernameValidator()(name)
    if User.objects.filter(username__iexact=name).exists():
        raise ValueError(f"the user name {name!r} is taken")
    return name


def _email(given: str | None, *, interactive: bool) -> str:
    from django.core.validators import validate_email

    if given is None and interactive and _interactive():
        given = input("Mail address (for password-reset mail; may be empty): ")
    email = (given or "").strip().lower()
    if email:
        validate_email(email)
    return email


def _password(path: str | None, *, username: str, email: str) -> str:
    """The password from the file, the environment or the terminal, checked by Django's
    validators (on the terminal, a rejected password is asked again)."""
    from django.contrib.auth.models import User
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    probe = User(username=username, email=email)
    # os.environ, not config.env: that strips spaces, which may belong to a password
    given = _read_password_file(path) if path else (os.environ.get(PASSWORD_VARIABLE) or None)
    if given is not None:
        if not given:
            raise ValueError("the password is empty")
        validate_password(given, probe)
        return given
    if not _interactive():
        raise ValueError(
            f"no password: use --password-file PATH or ${PASSWORD_VARIABLE}, "
            "or run this in a terminal"
        )
    for attempt in range(1, ATTEMPTS + 1):
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            print("The two passwords differ.", file=sys.stderr)
            continue
        try:
            validate_password(first, probe)
        except ValidationError as exc:
            if attempt == ATTEMPTS:
                raise
            print(" ".join(exc.messages), file=sys.stderr)
            continue
        return first
    raise ValueError("no password set")


def _read_password_file(path: str) -> str:
    """The first line of ``path`` without its line end (``-``: standard input)."""
    if path == "-":
        return sys.stdin.readline().rstrip("\r\n")
    with open(path, encoding="utf-8") as fh:
        return fh.readline().rstrip("\r\n")
