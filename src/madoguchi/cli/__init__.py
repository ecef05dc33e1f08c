"""The ``madoguchi`` command: operators and scripts rely on it.

Each subcommand is a thin shell over actions and queries (as Mailman's ``cli_*`` modules
over ``app/``). Errors print one clear line and exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from madoguchi.cli import admin, backup, commands, run


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="madoguchi", description="Madoguchi shared inbox")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.register(sub)
    admin.register(sub)
    backup.register(sub)
    run.register(sub)
    return parser


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from django.core.exceptions import ImproperlyConfigured, ValidationError
    from django.db import DatabaseError

    try:
        setup_django()
        return int(args.handler(args) or 0)
    except ImproperlyConfigured as exc:
        print(f"madoguchi: configuration error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        detail = (
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            if hasattr(exc, "error_dict")
            else " ".join(exc.messages)
        )
        print(f"madoguchi: error: {detail}", file=sys.stderr)
        return 1
    except (CommandError, LookupError, ValueError, OSError) as exc:
        print(f"madoguchi: error: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(f"madoguchi: error: {database_problem(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def database_problem(exc: Exception) -> str:
    """One line for a database that refused a command: most often one not set up yet (a
    command before ``madoguchi init``), or not upgraded after a new version."""
    from django.db import DatabaseError, connection

    try:
        connection.close()  # a PostgreSQL transaction is aborted after the error
        tables = connection.introspection.table_names()
    except DatabaseError:
        return f"the database cannot be read: {exc}"
    if "django_migrations" not in tables:
        return "the database is not set up yet: run `madoguchi init` first"
    return f"{exc} (after installing a new version, run `madoguchi init` to upgrade the database)"


if __name__ == "__main__":
    sys.exit(main())
