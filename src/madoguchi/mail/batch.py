"""Parse many mails in one call: the unit of work sent to a helper process."""

from __future__ import annotations

from .parse import parse
from .types import ParsedMail


def parse_all(datas: list[bytes]) -> list[ParsedMail]:
    return [parse(data) for data in datas]
