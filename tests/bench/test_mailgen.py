"""Tests for the benchmark mail generator (bench/mailgen.py)."""

from __future__ import annotations

import email
import email.policy
import hashlib
from email.utils import parsedate_to_datetime

from bench.mailgen import MailMeta, expected_threads, generate

N = 300


def _mails() -> list[tuple[bytes, MailMeta]]:
    return list(generate(N, seed=7, with_meta=True))


def test_deterministic_and_seed_dependent() -> None:
    def digest(seed: int) -> str:
        return hashlib.sha256(b"".join(generate(120, seed=seed))).hexdigest()

    assert digest(3) == digest(3)
    assert digest(3) != digest(4)


def test_every_mail_parses_with_stdlib() -> None:
    seen: set[str] = set()
    last = None
    for raw, meta in _mails():
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["To"] == "support@example.jp"
        assert msg["Message-ID"] == meta.message_id and meta.message_id not in seen
        seen.add(meta.message_id)
        date = parsedate_to_datetime(msg["Date"])
        assert last is None or date >= last
        last = date
        for part in msg.walk():
            assert not [d for d in part.defects if "Missing" in type(d).__name__], part.defects
            if part.get_content_maintype() == "text":
                assert isinstance(part.get_content(), str)


def test_iso2022jp_mails_are_7bit_jis() -> None:
    jis = [(raw, m) for raw, m in _mails() if m.charset == "jis"]
    assert len(jis) > 10
    for raw, _ in jis:
        assert max(raw) < 0x80, "ISO-2022-JP mail must be 7-bit"
        assert b"\x1b$B" in raw and b"\x1b(B" in raw
        assert b'charset="ISO-2022-JP"' in raw

    # some carry NEC extension characters (row 13, e.g. circled digits / ㈱) as Outlook emits them
    def row13(raw: bytes) -> bool:
        segs = [seg.split(b"\x1b(B")[0] for seg in raw.split(b"\x1b$B")[1:]]
        return any(seg[i] == 0x2D for seg in segs for i in range(0, len(seg) - 1, 2))

    assert any(row13(raw) for raw, _ in jis)


def test_replies_reference_earlier_messages() -> None:
    mails = _mails()
    order = {m.message_id: k for k, (_, m) in enumerate(mails)}
    replies = [(k, raw, m) for k, (raw, m) in enumerate(mails) if m.kind == "reply"]
    assert 0.25 < len(replies) / N < 0.55
    for k, raw, meta in replies:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        refs = str(msg["References"]).split()
        assert meta.thread_key == refs[0] and order[meta.thread_key] < k
        assert meta.parent_id in refs and order[meta.parent_id] < k
        assert str(msg["In-Reply-To"]) == refs[-1]
        assert mails[order[meta.thread_key]][1].sender == meta.sender
    threads = expected_threads(N, seed=7)
    assert sum(map(len, threads.values())) == N
    assert max(map(len, threads.values())) > 2
    assert sum(m.is_japanese for _, m in mails) / N > 0.2
