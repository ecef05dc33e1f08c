"""Long fuzz run of ``madoguchi.mail.parse``: no exception, bounded time and memory.

``python bench/fuzz_parse.py --minutes 30`` parses random mails until the time is up and
prints how many were tried, how many raised (must be 0), how many were malformed results,
the slowest mail in seconds per MB (mails of 64 KB and more; smaller ones are dominated by
fixed costs, their slowest time is printed apart) and the peak memory of a mail (tracemalloc,
measured in a second parse of every large mail and of a sample of the rest).

Three kinds of mail, in turn:

- built: random MIME trees (nesting, odd and repeated boundaries, digests, message/rfc822,
  every transfer encoding with garbage, charsets with wrong labels, RFC 2047 words and
  RFC 2231 parameters, broken header blocks);
- mutated: seed mails (the shared corpus when present, else ``bench/mailgen.py`` mail) with
  bytes flipped, inserted, deleted, spliced, truncated or a stretch repeated many times;
- hostile: one risky token (a boundary line, an unclosed tag, a fold, an encoded-word, a quote
  marker, ...) repeated up to a few MB, in a header or a body of some type.

Each mail is parsed in the parser helper process Madoguchi itself uses
(``madoguchi.mail_in.parser.Helper``), killed at ``--limit`` seconds. An exception counts
whether it escaped or ``parse()`` caught it and fell back to the raw text (defect "parser
failed"), as does a helper that died. A mail that failed, is malformed, or took too long is
written to ``--out`` so that it can be replayed (``--replay FILE``).  Standard library only apart
from Madoguchi.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import sys
import time
import tracemalloc
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from madoguchi.mail import Address, Attachment, Defect, ParsedMail, parse  # noqa: E402
from madoguchi.mail_in.parser import Helper, ParseFailure  # noqa: E402

CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
KINDS = ("normal", "auto_reply", "bulk", "bounce")
MB = 1_000_000
LARGE = 64 * 1024


# --------------------------------------------------------------------------
# What a result must look like
# --------------------------------------------------------------------------


def _text_ok(value: object) -> bool:
    """A str that can be stored (UTF-8 encodable: no lone surrogates)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _address_problems(label: str, value: object) -> list[str]:
    if not isinstance(value, Address):
        return [f"{label} is not an Address"]
    if not (_text_ok(value.name) and _text_ok(value.email)):
        return [f"{label} has unstorable text"]
    if "\n" in value.name or "\r" in value.name or "\n" in value.email or "\r" in value.email:
        return [f"{label} holds a line break"]
    return []


def _attachment_problems(att: object) -> list[str]:
    if not isinstance(att, Attachment):
        return ["attachment is not an Attachment"]
    out = []
    if not isinstance(att.data, bytes) or att.size != len(att.data):
        out.append("attachment size differs from its data")
    elif att.sha256 != hashlib.sha256(att.data).hexdigest():
        out.append("attachment hash differs from its data")
    name = att.filename
    if not _text_ok(name) or not name or len(name) > 255:
        out.append(f"bad attachment file name {name!r:.80}")
    elif any(c in name for c in "/\\\x00\r\n"):
        out.append(f"attachment file name with a path or control character {name!r:.80}")
    if not _text_ok(att.content_type) or "/" not in att.content_type:
        out.append(f"bad attachment content type {att.content_type!r:.80}")
    return out


def problems(result: object) -> list[str]:
    """Everything that makes a parse result unusable by the rest of Madoguchi ([] if none)."""
    if not isinstance(result, ParsedMail):
        return ["not a ParsedMail"]
    out: list[str] = []
    for name in ("subject", "text", "reply_text"):
        if not _text_ok(getattr(result, name)):
            out.append(f"{name} is not storable text")
    if "\n" in result.subject or "\r" in result.subject:
        out.append("subject holds a line break")
    if result.html is not None and not _text_ok(result.html):
        out.append("html is not storable text")
    if result.kind not in KINDS or result.kind_hint not in (None, *KINDS):
        out.append(f"unknown kind {result.kind!r}")
    out.extend(_field_problems(result))
    for att in result.attachments:
        out.extend(_attachment_problems(att))
    if not all(isinstance(d, Defect) and _text_ok(d.problem) for d in result.defects):
        out.append("bad defect")
    if not all(_text_ok(n) and _text_ok(v) for n, v in result.headers):
        out.append("header not storable text")
    return out


def _field_problems(result: ParsedMail) -> list[str]:
    """Problems of the ids, addresses and date of a result."""
    out: list[str] = []
    for name in ("message_id", "in_reply_to", "bounce_message_id"):
        value = getattr(result, name)
        if value is not None and not (_text_ok(value) and value):
            out.append(f"bad {name}")
    if not all(_text_ok(r) for r in result.references):
        out.append("bad references")
    if result.sender is not None:
        out.extend(_address_problems("sender", result.sender))
    for name in ("to", "cc", "reply_to"):
        for address in getattr(result, name):
            out.extend(_address_problems(name, address))
    if result.date is not None and (
        not isinstance(result.date, datetime) or result.date.tzinfo is None
    ):
        out.append("date without time zone")
    return out


# --------------------------------------------------------------------------
# Mail generators
# --------------------------------------------------------------------------

CHARSETS = (
    "utf-8",
    "iso-2022-jp",
    "shift_jis",
    "euc-jp",
    "cp932",
    "iso-8859-1",
    "windows-1252",
    "koi8-r",
    "gb2312",
    "big5",
    "utf-16",
    "utf-7",
    "x-unknown",
    "",
    "utf-8\x00",
    "us-ascii",
)
WORDS = ("お問い合わせ", "請求書", "Hello", "Ünïcödé", "注文番号 12345", "Re:", "Fwd:", "①㈱", "")
TYPES = (
    "text/plain",
    "text/html",
    "text/enriched",
    "application/octet-stream",
    "application/ms-tnef",
    "image/png",
    "message/rfc822",
    "message/delivery-status",
    "text/rfc822-headers",
    "application/pdf",
)
RISKY = (
    b"--b\r\n",
    b"--b--\r\n",
    b"<div>",
    b"<ul>",
    b"<blockquote>",
    b"<b x=1>",
    b"<!--",
    b"<a href='",
    b"</p>",
    b"<table><tr><td>",
    b"\r\n ",
    b"\r\n\t",
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"=?utf-8?b?44GC?= ",
    b"=?iso-2022-jp?q?=1B$B",
    b"=?",
    b"?=",
    b"> ",
    b">",
    b"On ",
    b"wrote:",
    b"-----Original Message-----\r\n",
    b"From: ",
    b"a@b.c, ",
    b'"\\',
    b"(",
    b"<a@b> ",
    b"=\r\n",
    b"=Z",
    b"begin 644 a\n",
    b"<param>",
    b"<<",
    b"\x1b$B",
    b"\x1b(B",
    b"\xff\xfe",
    b"\xe3\x81",
    b";",
    b" name*0*=utf-8''%E3%81%82;",
    b"X: y\r\n",
    b"stray\r\n",
    b"\x00",
    b"&#",
    b"&amp;",
    b"http://",
    b"Message-ID: <",
)


def _encoded_word(rng: random.Random, text: str) -> str:
    charset = rng.choice(CHARSETS) or "utf-8"
    try:
        raw = text.encode(charset.rstrip("\x00"), "replace")
    except (LookupError, UnicodeError):
        raw = text.encode("utf-8")
    if rng.random() < 0.5:
        payload = base64.b64encode(raw).decode()
        if rng.random() < 0.2:
            payload = payload[: rng.randint(0, len(payload))]
        return f"=?{charset}?B?{payload}?="
    payload = "".join(chr(b) if 33 <= b < 127 and b not in b"=?_" else f"={b:02X}" for b in raw)
    return f"=?{charset}?Q?{payload}?="


def _header_value(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 4)):
        word = rng.choice(WORDS)
        parts.append(_encoded_word(rng, word) if rng.random() < 0.5 else word)
    value = " ".join(parts)
    if rng.random() < 0.2:
        value = value.replace(" ", "\r\n ", rng.randint(1, 3))
    return value


def _boundary(rng: random.Random) -> str:
    return rng.choice(
        ("b", "bb", "=_part", "--", " spaced ", "a" * rng.randint(1, 80), f"b{rng.random()}")
    )


def _params(rng: random.Random) -> str:
    out = ""
    if rng.random() < 0.5:
        out += f"; charset={rng.choice(CHARSETS)}"
    if rng.random() < 0.3:
        name = rng.choice(WORDS) or "file.bin"
        out += "; name*=utf-8''" + urllib.parse.quote(name)
    if rng.random() < 0.2:
        out += "".join(f";\r\n name*{i}*=utf-8''%E3%81%82" for i in range(rng.randint(1, 30)))
    return out


def _leaf_body(rng: random.Random, ctype: str) -> tuple[str, bytes]:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 40)))
    charset = rng.choice(CHARSETS).rstrip("\x00") or "utf-8"
    try:
        raw = text.encode(charset, "replace")
    except (LookupError, UnicodeError):
        raw = text.encode("utf-8")
    if ctype == "text/html":
        raw = b"<html><body><p>" + raw + b"<blockquote>" + raw + b"</blockquote></body></html>"
    if ctype.startswith(("image/", "application/")):
        raw = rng.randbytes(rng.randint(0, 3000))
    encoding = rng.choice(("7bit", "8bit", "base64", "quoted-printable", "binary", "x-uue", ""))
    if encoding == "base64":
        raw = base64.encodebytes(raw)
        if rng.random() < 0.2:
            raw = raw[: rng.randint(0, len(raw))] + b"!!=="
    elif encoding == "quoted-printable":
        raw = raw.replace(b"=", b"=3D").replace(b"\xe3", b"=E3=") + b"=\r\n=Z"
    return encoding, raw


def built_mail(rng: random.Random, depth: int = 0) -> bytes:
    """A random MIME tree with headers that exercise decoding."""
    head = [
        f"From: {_header_value(rng)} <{rng.choice(('a@b.example', 'x', '', '<>', 'a@b@c'))}>",
        f"To: {_header_value(rng)} <to@example.jp>, {rng.choice(('c@d', 'Doe, John <j@x>', ''))}",
        f"Subject: {_header_value(rng)}",
        f"Message-ID: <{rng.randint(0, 10**9)}@fuzz>",
        rng.choice(("Date: Mon, 1 Jan 2024 10:00:00 +0900", "Date: garbage", "Date: 2024-01-01")),
    ]
    if rng.random() < 0.3:
        head.append(f"In-Reply-To: <{rng.randint(0, 9)}@fuzz>")
    if rng.random() < 0.1:
        head.insert(rng.randint(0, len(head)), rng.choice(("stray line", "x;", "", " fold")))
    return "\r\n".join(head).encode("utf-8", "replace") + b"\r\n" + _entity(rng, depth)


def _entity(rng: random.Random, depth: int) -> bytes:
    if depth < 6 and rng.random() < 0.45:
        subtype = rng.choice(("mixed", "alternative", "related", "digest", "report", "signed"))
        boundary = _boundary(rng)
        quoted = f'"{boundary}"' if rng.random() < 0.7 else boundary
        head = f"Content-Type: multipart/{subtype}; boundary={quoted}\r\n\r\n".encode()
        parts = [_entity(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        marker = b"--" + boundary.encode()
        body = b"preamble\r\n" if rng.random() < 0.3 else b""
        for part in parts:
            body += marker + rng.choice((b"\r\n", b"\n", b" \r\n", b"\r")) + part + b"\r\n"
        if rng.random() < 0.8:
            body += marker + b"--\r\n"
        return head + body
    if depth < 6 and rng.random() < 0.15:
        return b"Content-Type: message/rfc822\r\n\r\n" + built_mail(rng, depth + 1)
    ctype = rng.choice(TYPES)
    encoding, raw = _leaf_body(rng, ctype)
    head = f"Content-Type: {ctype}{_params(rng)}\r\n"
    if encoding:
        head += f"Content-Transfer-Encoding: {encoding}\r\n"
    if rng.random() < 0.3:
        name = _encoded_word(rng, rng.choice(WORDS) or "a.pdf")
        head += (
            f'Content-Disposition: {rng.choice(("attachment", "inline"))}; filename="{name}"\r\n'
        )
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + raw


def _seeds() -> list[bytes]:
    seeds = []
    if CORPUS.is_dir():
        for path in sorted(CORPUS.rglob("*")):
            if path.is_file() and "_meta" not in path.parts and path.stat().st_size < 2 * MB:
                seeds.append(path.read_bytes())
    from bench.mailgen import generate

    seeds.extend(generate(200, seed=3))
    return seeds


def mutated_mail(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A seed mail with random damage."""
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = rng.randbytes(rng.randint(1, 16))
        elif op == 2:
            del data[pos : pos + rng.randint(1, 64)]
        elif op == 3:
            other = rng.choice(seeds)
            cut = rng.randint(0, len(other))
            data[pos:] = other[cut:]
        elif op == 4:
            del data[pos:]
        elif op == 5:
            data[pos:pos] = rng.choice(RISKY) * rng.randint(1, 50)
        else:
            chunk = bytes(data[pos : pos + rng.randint(1, 200)])
            data[pos:pos] = chunk * rng.randint(2, max(2, 200_000 // max(1, len(chunk))))
    return bytes(data)


def hostile_mail(rng: random.Random) -> bytes:
    """One risky token repeated up to a few MB, in a header or in a body of some type."""
    token = rng.choice(RISKY)
    size = rng.choice((10_000, 100_000, 1 * MB, 3 * MB))
    run = token * max(1, size // len(token))
    where = rng.randrange(5)
    if where == 0:
        return b"Subject: x" + run + b"\r\n\r\nbody\r\n"
    if where == 1:
        name = rng.choice((b"From", b"To", b"References", b"Content-Type", b"Date", b"X-Junk"))
        return name + b": " + run + b"\r\n\r\nbody\r\n"
    if where == 2:
        return run
    ctype = rng.choice(TYPES[:3] + (b'multipart/mixed; boundary="b"'.decode(),))
    encoding = rng.choice(
        (
            b"",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: quoted-printable\r\n",
        )
    )
    return b"Content-Type: " + ctype.encode() + b"\r\n" + encoding + b"\r\n" + run


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------


@dataclass
class Stats:
    tried: int = 0
    exceptions: int = 0
    malformed: int = 0
    timeouts: int = 0
    bytes: int = 0
    seconds: float = 0.0
    slowest_per_mb: tuple[float, int, str] = (0.0, 0, "")
    slowest_small: tuple[float, int, str] = (0.0, 0, "")
    peak: tuple[int, int, str] = (0, 0, "")
    peak_ratio: tuple[float, int, str] = (0.0, 0, "")
    over_1s_per_mb: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def report(self, elapsed: float) -> str:
        s, size, name = self.slowest_per_mb
        small = self.slowest_small
        peak, psize, pname = self.peak
        ratio, rsize, rname = self.peak_ratio
        return "\n".join(
            [
                f"ran {elapsed / 60:.1f} min: {self.tried} mails tried "
                f"({', '.join(f'{k} {v}' for k, v in sorted(self.by_kind.items()))}), "
                f"{self.bytes / MB:.0f} MB, {self.tried / max(elapsed, 1e-9):.1f} mails/s",
                f"exceptions: {self.exceptions}; malformed results: {self.malformed}; "
                f"over the time limit: {self.timeouts}",
                f"slowest mail >= 64 KB: {s:.3f} s/MB ({size / 1000:.0f} KB, {name}); "
                f"mails over 1 s/MB: {self.over_1s_per_mb}",
                f"slowest mail < 64 KB: {small[0] * 1000:.1f} ms ({small[1]} bytes, {small[2]})",
                f"peak memory of one mail: {peak / MB:.1f} MB "
                f"({psize / 1000:.0f} KB mail, {pname}); "
                f"highest peak/size: {ratio:.1f}x ({rsize / 1000:.0f} KB mail, {rname})",
            ]
        )


def _save(out: Path, data: bytes, why: str) -> str:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{why}-{hashlib.sha256(data).hexdigest()[:16]}.eml"
    path.write_bytes(data)
    return str(path)


def _measure_memory(data: bytes) -> int:
    tracemalloc.start()
    try:
        parse(data)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def one(stats: Stats, data: bytes, kind: str, args: argparse.Namespace, helper: Helper) -> None:
    """Parse one mail in the helper process (killed at the time limit) and account for it."""
    stats.tried += 1
    stats.bytes += len(data)
    stats.by_kind[kind] = stats.by_kind.get(kind, 0) + 1
    label = f"{kind} #{stats.tried}"
    helper.start()  # a helper replaced after a timeout starts outside the clock
    start = time.perf_counter()
    (result,) = helper.parse([data])
    if isinstance(result, ParseFailure):
        timeout = "longer than" in result.reason
        stats.timeouts += timeout
        stats.exceptions += not timeout
        why = "timeout" if timeout else "died"
        print(f"{why.upper()} {label}: {_save(args.out, data, why)} {result.reason}", flush=True)
        return
    if any(d.problem.startswith("parser failed") for d in result.defects):
        stats.exceptions += 1  # parse() caught it and fell back to the raw text
        print(f"EXCEPTION {label}: {_save(args.out, data, 'exception')}", flush=True)
    elapsed = time.perf_counter() - start
    stats.seconds += elapsed
    found = problems(result)
    if found:
        stats.malformed += 1
        print(f"MALFORMED {label}: {found[:3]} {_save(args.out, data, 'malformed')}", flush=True)
    if len(data) >= LARGE:
        per_mb = elapsed / (len(data) / MB)
        if per_mb > 1.0:
            stats.over_1s_per_mb += 1
            print(f"SLOW {label}: {per_mb:.2f} s/MB {_save(args.out, data, 'slow')}", flush=True)
        if per_mb > stats.slowest_per_mb[0]:
            stats.slowest_per_mb = (per_mb, len(data), label)
    elif elapsed > stats.slowest_small[0]:
        stats.slowest_small = (elapsed, len(data), label)
    if len(data) >= LARGE or stats.tried % args.memory_every == 0:
        peak = _measure_memory(data)
        if peak > stats.peak[0]:
            stats.peak = (peak, len(data), label)
        ratio = peak / max(len(data), LARGE)
        if ratio > stats.peak_ratio[0]:
            stats.peak_ratio = (ratio, len(data), label)


def run(args: argparse.Namespace) -> Stats:
    rng = random.Random(args.seed)
    helper = Helper(limit=args.limit)
    seeds = _seeds()
    makers: list[tuple[str, Callable[[], bytes]]] = [
        ("built", lambda: built_mail(rng)),
        ("mutated", lambda: mutated_mail(rng, seeds)),
        ("hostile", lambda: hostile_mail(rng)),
    ]
    weights = (45, 45, 10)
    stats = Stats()
    began = time.monotonic()
    deadline = began + args.minutes * 60
    next_report = began + 60
    while time.monotonic() < deadline:
        kind, make = rng.choices(makers, weights)[0]
        one(stats, make(), kind, args, helper)
        if time.monotonic() >= next_report:
            print(stats.report(time.monotonic() - began), flush=True)
            next_report += 60
    helper.stop()
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="how long to run")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument(
        "--limit", type=float, default=30.0, help="seconds before a mail is a timeout"
    )
    parser.add_argument(
        "--memory-every", type=int, default=50, help="sample memory of every n-th small mail"
    )
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--replay", type=Path, help="parse one saved mail and print its problems")
    args = parser.parse_args(argv)
    if args.replay:
        data = args.replay.read_bytes()
        start = time.perf_counter()
        result = parse(data)
        print(f"{time.perf_counter() - start:.3f} s, peak {_measure_memory(data) / MB:.1f} MB")
        print(problems(result) or "well-formed")
        return 0
    print(f"seed {args.seed}, pid {os.getpid()}", flush=True)
    began = time.monotonic()
    stats = run(args)
    print("FINAL " + stats.report(time.monotonic() - began), flush=True)
    return 1 if stats.exceptions or stats.malformed or stats.timeouts else 0


if __name__ == "__main__":
    sys.exit(main())
