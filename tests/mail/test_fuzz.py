"""Property-based fuzzing of ``parse()``: never an exception, always a well-formed result.

Bounded and derandomized for CI (a few hundred examples, well under 30 s); the long run is
``bench/fuzz_parse.py`` (docs/mail/limits.md). What "well-formed" means is
``bench.fuzz_parse.problems``: storable text (no lone surrogates), no line break in the subject
or an address, attachment sizes and hashes that match their data, file names without paths,
aware dates, known kinds.
"""

from __future__ import annotations

import base64
from pathlib import Path

from bench.fuzz_parse import RISKY, problems
from bench.mailgen import generate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.mail import parse

from .conftest import CORPUS

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CHARSETS = ["utf-8", "iso-2022-jp", "shift_jis", "euc-jp", "iso-8859-1", "koi8-r", "x-bad", ""]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


def _seeds() -> list[bytes]:
    """A fixed handful of real mails: the shared corpus when present, else generated mail."""
    seeds: list[bytes] = []
    if CORPUS.is_dir():
        paths = sorted(p for p in CORPUS.rglob("*.eml") if p.stat().st_size < 200_000)
        seeds = [Path(p).read_bytes() for p in paths[:: max(1, len(paths) // 60)]]
    return seeds + list(generate(20, seed=5))


SEEDS = _seeds()


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    charset = draw(st.sampled_from(CHARSETS)) or "utf-8"
    try:
        raw = draw(TEXT).encode(charset, "replace")
    except LookupError:
        raw = draw(st.binary(max_size=30))
    if draw(st.booleans()):
        payload = base64.b64encode(raw).decode()
        return f"=?{charset}?B?{payload[: draw(st.integers(0, len(payload)))]}?="
    quoted = "".join(chr(b) if 48 <= b < 123 and b != 61 else f"={b:02X}" for b in raw)
    return f"=?{charset}?Q?{quoted}?="


HEADER_VALUE = st.lists(st.one_of(TEXT, encoded_words()), max_size=4).map(" ".join)


@st.composite
def leaves(draw: st.DrawFn) -> bytes:
    ctype = draw(
        st.sampled_from(["text/plain", "text/html", "text/enriched", "image/png", "message/rfc822"])
    )
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(["", "7bit", "8bit", "base64", "quoted-printable", "x-bad"]))
    body = draw(st.one_of(st.binary(max_size=300), TEXT.map(lambda t: t.encode("utf-8"))))
    if encoding == "base64" and draw(st.booleans()):
        body = base64.encodebytes(body)
    head = f"Content-Type: {ctype}; charset={charset}\r\n"
    if encoding:
        head += f"Content-Transfer-Encoding: {encoding}\r\n"
    if draw(st.booleans()):
        head += f'Content-Disposition: attachment; filename="{draw(encoded_words())}"\r\n'
    return head.encode() + b"\r\n" + body


def multiparts(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        subtype = draw(st.sampled_from(["mixed", "alternative", "digest", "related", "report"]))
        boundary = draw(st.sampled_from(["b", "=_x", "a" * 70, "--", "b b"]))
        parts = draw(st.lists(children, max_size=4))
        marker = b"--" + boundary.encode()
        body = b"".join(
            marker + draw(st.sampled_from([b"\r\n", b"\n", b" \r\n"])) + p + b"\r\n" for p in parts
        )
        if draw(st.booleans()):
            body += marker + b"--\r\n"
        head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'
        return head.encode() + body

    return build()


MIME_TREES = st.recursive(leaves(), multiparts, max_leaves=12)


@st.composite
def built_mails(draw: st.DrawFn) -> bytes:
    head = (
        f"From: {draw(HEADER_VALUE)} <{draw(st.sampled_from(['a@b.example', 'x', '<>', '']))}>\r\n"
        f"To: {draw(HEADER_VALUE)}, {draw(st.sampled_from(['c@d', 'Doe, John <j@x>']))}\r\n"
        f"Subject: {draw(HEADER_VALUE)}\r\n"
        f"Message-ID: <{draw(TEXT)}@fuzz>\r\n"
    )
    return head.encode("utf-8", "surrogatepass") + draw(MIME_TREES)


@st.composite
def mutated_mails(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "cut", "repeat"]))
        if action == "flip" and data:
            data[min(pos, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[pos:pos] = draw(st.one_of(st.binary(max_size=20), st.sampled_from(RISKY)))
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 200))]
        elif action == "cut":
            del data[pos:]
        else:
            chunk = bytes(data[pos : pos + draw(st.integers(1, 40))])
            data[pos:pos] = chunk * draw(st.integers(2, 2000))
    return bytes(data)


def check(data: bytes) -> None:
    assert problems(parse(data)) == []


@FUZZ
@given(built_mails())
def test_built_mime_trees_parse_well_formed(data: bytes) -> None:
    """Random MIME trees with encoded-words, charsets and odd boundaries parse well-formed."""
    check(data)


@FUZZ
@given(mutated_mails())
def test_damaged_real_mails_parse_well_formed(data: bytes) -> None:
    """Real mails with bytes flipped, inserted, deleted, cut or repeated parse well-formed."""
    check(data)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.binary(max_size=2000))
def test_random_bytes_parse_well_formed(data: bytes) -> None:
    """Any bytes at all parse well-formed."""
    check(data)
