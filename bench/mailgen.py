"""Deterministic generator of realistic inbound mail for Madoguchi benchmarks.

``generate(n, seed)`` yields ``n`` raw RFC 5322 messages (bytes, CRLF) addressed to a shared
mailbox: about a third Japanese (ISO-2022-JP including NEC/Windows extension characters such
as ① ㈱ converted from cp932 the way Outlook/Becky! do, Shift_JIS that is really cp932, and
UTF-8; RFC 2047 subjects and display names), the rest English or European.  ~40 % are replies
to earlier mails of the same customer (In-Reply-To/References chains, quoted history), ~15 %
carry attachments (some with RFC 2231 Japanese filenames), ~30 % are multipart/alternative,
~5 % HTML-only, plus auto-replies, newsletters and DSN bounces.  Memory is constant in ``n``:
only a bounded window of recent threads and customers is kept.

``generate(..., with_meta=True)`` yields ``(raw, MailMeta)``; ``expected_threads`` returns the
expected grouping ``{root Message-ID: [Message-IDs...]}`` for threading checks.

CLI: ``python bench/mailgen.py --n 2000 --seed 1 --out DIR`` (or ``--mbox FILE``,
``--meta FILE.jsonl``) prints a summary.  Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import html
import json
import os
import random
import re
import sys
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Literal, overload

Kind = Literal["new", "reply", "auto_reply", "newsletter", "bounce"]
Body = Literal["plain", "alternative", "html"]


@dataclasses.dataclass(frozen=True, slots=True)
class MailMeta:
    message_id: str
    thread_key: str  # Message-ID of the thread root (== message_id for roots)
    is_japanese: bool
    kind: Kind
    charset: str  # jis / sjis / utf8ja / utf8 / latin1
    parent_id: str | None  # nearest *generated* ancestor (replies, auto-replies)
    has_attachment: bool
    body: Body
    sender: str
    size: int


def _split(s: str) -> list[str]:
    return s.split("|")


def _pairs(s: str) -> list[tuple[str, str]]:
    return [(a, b) for a, _, b in (x.partition(":") for x in _split(s))]


JA_SURNAMES = _pairs(
    "山田:yamada|佐藤:sato|鈴木:suzuki|高橋:takahashi|田中:tanaka|伊藤:ito|"
    "渡辺:watanabe|中村:nakamura|小林:kobayashi|加藤:kato|吉田:yoshida|林:hayashi"
)
JA_GIVEN = _pairs(
    "太郎:taro|花子:hanako|一郎:ichiro|美咲:misaki|健太:kenta|翔:sho|陽子:yoko|"
    "直樹:naoki|由美:yumi|大輔:daisuke"
)
JA_COMPANIES = _pairs(
    "東京商事:tokyo-shoji.co.jp|大阪精機:osaka-seiki.co.jp|名古屋物産:nagoya.jp|"
    "札幌システム:sapporo-sys.co.jp|福岡印刷:fukuoka-print.co.jp|"
    "横浜ロジスティクス:yokohama-logi.jp|京都テクノ:kyoto-techno.co.jp"
)
JA_FREEMAIL = _split("gmail.com|yahoo.co.jp|docomo.ne.jp|outlook.jp")
JA_SENT = _split(
    "先日ご送付いただいた請求書の金額について確認させてください。|"
    "見積もりの有効期限を教えていただけますでしょうか。|"
    "納期が当初の予定より遅れているようですが、状況はいかがでしょうか。|"
    "東京本社宛てに書類を郵送していただけますと幸いです。|"
    "添付のファイルをご確認ください。|今月末までにご回答いただけますと助かります。|"
    "請求書の宛名を弊社の正式名称に変更していただきたく存じます。|"
    "先週お願いした見積もりの件、進捗はいかがでしょうか。|"
    "納期を一週間ほど前倒しすることは可能でしょうか。|"
    "ログイン画面でエラーが表示され、管理画面に入れません。|"
    "パスワードの再設定メールが届かない状況です。|"
    "大阪支店からも同様の問い合わせが来ております。|"
    "支払い方法を銀行振込からクレジットカードに変更したいと考えております。|"
    "社内で検討した結果、追加で十台を発注することになりました。|"
    "東京都内の倉庫への配送料金も見積もりに含めてください。|"
    "契約内容の変更について、担当者様とお打ち合わせの機会をいただけますか。|"
    "前回の請求書と今回の請求書で単価が異なっているようです。|"
    "来週の火曜日の午後であれば、いつでも対応可能です。|"
    "資料の最新版を送っていただけますでしょうか。|"
    "至急ご確認いただきたい点がございます。|"
    "納品書と請求書を同封していただけますと助かります。|"
    "システムの利用者数を五十名に増やしたいと考えています。|"
    "ご多忙のところ恐縮ですが、よろしくお願いいたします。"
)
JA_WIN_SENT = _split(
    "①請求書の再発行、②見積もりの修正、③納期の確認の三点についてご連絡します。|"
    "㈱東京商事様宛ての請求書を発行してください。|荷物の重さは約５㌔です。|"
    "お問い合わせ番号は№{num}です。"
)
JA_SUBJECTS = _split(
    "請求書の再発行について|見積もりのご依頼|納期のご確認|"
    "東京営業所への配送について|ログインできない件|契約更新についてのご相談|"
    "【至急】注文内容の変更|見積もり（No.{num}）の件"
)
EN_FIRST = _split("John|Emily|Michael|Sarah|David|Laura|James|Olivia|Robert|Sophie|Daniel|Grace")
EN_LAST = _split("Smith|Johnson|Brown|Taylor|Wilson|Clarke|Walker|Hughes|Evans|Turner|Baker")
EU_NAMES = _split(
    "José García|Jürgen Müller|François Dubois|Søren Nielsen|Zoë Lefèvre|"
    "Björn Åkesson|María Núñez|Günter Weiß|Inês Conceição"
)
EN_DOMAINS = _split("acme-corp.com|globex.co.uk|initech.io|umbrella-retail.com|hooli.net|gmail.com")
EU_DOMAINS = _split("beispiel.de|exemple.fr|ejemplo.es|eksempel.dk|gmx.de|orange.fr")
EN_SENT = _split(
    "I am writing about the invoice we received last week.|"
    "Could you please send us an updated quotation?|"
    "The delivery date in the order confirmation seems to be wrong.|"
    "We have not been able to log in since yesterday.|"
    "Please find the requested documents attached.|"
    "Our finance team needs the invoice re-issued to the new address.|"
    "Is it possible to bring the delivery forward by a week?|"
    "We would like to add ten more user licences.|"
    "The payment was made by bank transfer on Monday.|"
    "Our Tokyo office reported the same problem this morning.|"
    "Please let me know if you need any further information.|"
    "The password reset email never arrived.|"
    "We would appreciate an answer by the end of the month.|"
    "The unit price differs from the previous invoice.|"
    "Can we schedule a short call next Tuesday afternoon?|"
    "The shipment arrived two days late and one box was damaged."
)
EU_SENT = _split(
    "Vielen Dank für Ihre schnelle Antwort.|"
    "Könnten Sie mir bitte die Rechnung erneut zusenden?|"
    "Merci de bien vouloir me transmettre le devis.|"
    "Nous avons reçu la livraison avec deux jours de retard.|"
    "¿Podrían confirmar la fecha de entrega?|"
    "Tak for hjælpen, vi venter på jeres svar."
)
EN_SUBJECTS = _split(
    "Question about invoice #{num}|Request for quotation|"
    "Delivery date for order {num}|Cannot log in|Change of billing address|"
    "Urgent: order {num} modification|Damaged shipment"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ATTACH = [
    ("pdf", "application/pdf", b"%PDF-1.4\n"),
    ("csv", "text/csv", b""),
    ("xlsx", XLSX, b"PK\x03\x04"),
    ("zip", "application/zip", b"PK\x03\x04"),
    ("png", "image/png", b"\x89PNG\r\n\x1a\n"),
]
JA_FILES = _split("請求書|見積書|納品書|注文書|仕様書_最新版")
WIN_EXT = re.compile("[①-⑳㈱㈲№℡㍉㌔]")
START = datetime(2024, 1, 1, tzinfo=UTC)
JST = timezone(timedelta(hours=9))
TZS = [timezone(timedelta(hours=h)) for h in (-5, -8, 0, 1, 2)]
CSS = (
    '<style>@font-face{font-family:"MS Mincho";panose-1:2 2 6 9 4 2 5 8 3 4;}\n'
    'p.MsoNormal,li.MsoNormal,div.MsoNormal{margin:0mm;font-size:11.0pt;font-family:"Calibri";}\n'
    "a:link{color:#0563C1;text-decoration:underline;}.MsoChpDefault{mso-style-type:export-only;}\n"
    "div.WordSection1{page:WordSection1;}</style>\n"
)
UTF8_EW = ("UTF-8", "utf-8", 14)
BQ = '<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">'


def _jis(text: str) -> bytes:
    """ISO-2022-JP; NEC/Windows extension characters go via cp932 -> JIS (Outlook style)."""
    if not WIN_EXT.search(text):
        return text.encode("iso2022_jp")
    out, in_jis = bytearray(), False
    for ch in text:
        if ord(ch) < 0x80:
            if in_jis:
                out += b"\x1b(B"
                in_jis = False
            out.append(ord(ch))
            continue
        s1, s2 = ch.encode("cp932")
        s1 = (s1 - 0x40 if s1 >= 0xE0 else s1) - 0x81
        if s2 >= 0x9F:
            j1, j2 = s1 * 2 + 0x22, s2 - 0x7E
        else:
            j1, j2 = s1 * 2 + 0x21, s2 - (0x1F if s2 < 0x80 else 0x20)
        if not in_jis:
            out += b"\x1b$B"
            in_jis = True
        out += bytes((j1, j2))
    return bytes(out + (b"\x1b(B" if in_jis else b""))


def _ew(text: str, cs: str) -> str:
    """RFC 2047 encode a header value in the sender's charset (ASCII passes through)."""
    if text.isascii():
        return text
    if cs == "jis":
        words = [_jis(text[i : i + 12]) for i in range(0, len(text), 12)]
        label = "ISO-2022-JP"
    else:
        label, codec, step = {
            "sjis": ("Shift_JIS", "cp932", 15),
            "latin1": ("ISO-8859-1", "latin-1", 40),
        }.get(cs, UTF8_EW)
        words = [text[i : i + step].encode(codec) for i in range(0, len(text), step)]
    return "\n ".join(f"=?{label}?B?{base64.b64encode(w).decode()}?=" for w in words)


def _text_part(text: str, subtype: str, cs: str, rng: random.Random) -> bytes:
    if cs == "jis":
        label, cte, payload = "ISO-2022-JP", "7bit", _jis(text)
    elif cs in ("sjis", "utf8ja"):
        label, raw = (
            ("Shift_JIS", text.encode("cp932")) if cs == "sjis" else ("UTF-8", text.encode())
        )
        cte = "base64" if rng.random() < 0.5 else "8bit"
        payload = base64.encodebytes(raw) if cte == "base64" else raw
    elif text.isascii():
        label, cte, payload = "us-ascii", "7bit", text.encode()
    else:
        label, codec = ("ISO-8859-1", "latin-1") if cs == "latin1" else ("UTF-8", "utf-8")
        cte, payload = "quoted-printable", binascii.b2a_qp(text.encode(codec))
    head = f'Content-Type: text/{subtype}; charset="{label}"\nContent-Transfer-Encoding: {cte}\n\n'
    return head.encode() + payload + (b"" if payload.endswith(b"\n") else b"\n")


def _multipart(subtype: str, parts: list[bytes], rng: random.Random, params: str = "") -> bytes:
    b = f"----=_Part_{rng.getrandbits(48):012x}_{rng.getrandbits(24)}"
    out = [
        f'Content-Type: multipart/{subtype};{params}\n boundary="{b}"\n\n'
        "This is a multi-part message in MIME format.\n".encode()
    ]
    for p in parts:
        out += [f"\n--{b}\n".encode(), p]
    out.append(f"\n--{b}--\n".encode())
    return b"".join(out)


def _html(text: str) -> str:
    out, depth = [], 0
    for ln in text.split("\n"):
        d = len(ln) - len(ln.lstrip(">"))
        out.append(
            "</blockquote>" * (depth - d)
            + BQ * (d - depth)
            + (html.escape(ln[d:].strip()) or "&nbsp;")
            + "<br>"
        )
        depth = d
    return (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>\n'
        f'<meta http-equiv="Content-Type" content="text/html">\n{CSS}</head>\n'
        '<body lang="JA" link="#0563C1"><div class="WordSection1"><p class="MsoNormal">\n'
        + "\n".join(out)
        + "</blockquote>" * depth
        + "\n</p></div></body></html>\n"
    )


def _attachment(rng: random.Random, ja: bool) -> bytes:
    ext, ctype, magic = rng.choice(ATTACH)
    size = int(min(rng.lognormvariate(10.3, 0.9), 400_000))
    if ext == "csv":
        ctype += '; charset="Shift_JIS"' if ja else '; charset="utf-8"'
        rows = (
            f"{i},{rng.randint(1, 999)},{rng.randint(100, 99999)},"
            f"{rng.choice(JA_COMPANIES)[0] if ja else rng.choice(EN_LAST)}\n"
            for i in range(size // 30)
        )
        data = "".join(rows).encode("cp932" if ja else "utf-8")
    else:
        data = magic + rng.randbytes(size)
    if ja and rng.random() < 0.7:
        fname = f"{rng.choice(JA_FILES)}_{rng.randint(1, 12)}月分.{ext}"
        if rng.random() < 0.6:  # RFC 2231, with continuations for long names
            q = urllib.parse.quote(fname.encode("utf-8"), safe="")
            chunks = [q[i : i + 60] for i in range(0, len(q), 60)]
            name = ""
            disp = (
                "".join(
                    f";\n filename*{k}*={'UTF-8' + chr(39) * 2 if k == 0 else ''}{c}"
                    for k, c in enumerate(chunks)
                )
                if len(chunks) > 1
                else f";\n filename*=UTF-8''{q}"
            )
        else:  # Outlook/Becky! style: RFC 2047 inside a quoted parameter
            disp = f';\n filename="{_ew(fname, "jis").replace(chr(10) + " ", "")}"'
            name = disp.replace("filename", "name")
    else:
        fname = f"{rng.choice(['invoice', 'quote', 'report', 'order'])}_{rng.randint(1000, 9999)}"
        disp = f';\n filename="{fname}.{ext}"'
        name = disp.replace("filename", "name")
    return (
        f"Content-Type: {ctype}{name}\nContent-Transfer-Encoding: base64\n"
        f"Content-Disposition: attachment{disp}\n\n"
    ).encode() + base64.encodebytes(data)


@dataclasses.dataclass(slots=True)
class _Customer:
    name: str
    email: str
    lang: str  # ja / en / eu
    cs: str
    win_ext: bool
    company: str
    mailer: str


@dataclasses.dataclass(slots=True)
class _Thread:
    root: str
    cust: int
    subject: str
    refs: list[str]
    last_id: str
    last_text: str
    last_date: datetime


def _customer(seed: int, idx: int) -> _Customer:
    """Customer ``idx`` is a pure function of (seed, idx): no per-customer state is stored."""
    r = random.Random(seed * 1_000_003 + idx)
    x = r.random()
    if x < 0.37:
        (sn, sr), (gn, gr) = r.choice(JA_SURNAMES), r.choice(JA_GIVEN)
        co, dom = r.choice(JA_COMPANIES)
        dom = dom if r.random() < 0.7 else r.choice(JA_FREEMAIL)
        cs = r.choices(["jis", "sjis", "utf8ja"], [0.5, 0.15, 0.35])[0]
        mailer = "Gmail" if cs == "utf8ja" else r.choice(["Microsoft Outlook 16.0", "Becky! 2.81"])
        return _Customer(
            f"{sn} {gn}",
            f"{sr}.{gr}{idx}@{dom}",
            "ja",
            cs,
            cs != "utf8ja" and r.random() < 0.5,
            co,
            mailer,
        )
    if x < 0.80:
        fn, ln = r.choice(EN_FIRST), r.choice(EN_LAST)
        mailer = r.choice(["Microsoft Outlook 16.0", "Apple Mail (2.3731)", "Thunderbird"])
        email = f"{fn.lower()}.{ln.lower()}{idx}@{r.choice(EN_DOMAINS)}"
        return _Customer(f"{fn} {ln}", email, "en", "utf8", False, "", mailer)
    name = r.choice(EU_NAMES)
    local = name.split()[-1].encode("ascii", "ignore").decode().lower()
    return _Customer(
        name,
        f"{local}{idx}@{r.choice(EU_DOMAINS)}",
        "eu",
        r.choice(["latin1", "utf8"]),
        False,
        "",
        "Thunderbird",
    )


def _body(c: _Customer, rng: random.Random, num: int) -> str:
    if c.lang == "ja":
        sent = [rng.choice(JA_SENT) for _ in range(rng.randint(4, 14))]
        if c.win_ext:
            sent.insert(rng.randint(0, len(sent)), rng.choice(JA_WIN_SENT).format(num=num))
        corp = "㈱" if c.win_ext else "株式会社"
        return (
            f"サポートご担当者様\n\nいつもお世話になっております。\n{c.company}の"
            f"{c.name.split()[0]}です。\n\n"
            + "\n".join(sent[:3])
            + "\n\n"
            + "\n".join(sent[3:])
            + f"\n\nよろしくお願いいたします。\n\n--\n{corp}"
            f"{c.company} 営業部\n{c.name}\nTEL: 03-{num % 9000 + 1000}-5678\n"
        )
    pool = EN_SENT + (EU_SENT if c.lang == "eu" else [])
    sent = [rng.choice(pool) for _ in range(rng.randint(4, 14))]
    paras = [" ".join(sent[i : i + 3]) for i in range(0, len(sent), 3)]
    return "Hello Support Team,\n\n" + "\n\n".join(paras) + f"\n\nBest regards,\n{c.name}\n"


def _quote(text: str, who: str, when: datetime, ja: bool) -> str:
    if ja:
        w = when.astimezone(JST)
        head = f"{w.year}年{w.month}月{w.day}日({'月火水木金土日'[w.weekday()]}) {w:%H:%M} {who}:"
    else:
        head = f"On {when:%a, %b %d, %Y at %H:%M}, {who} wrote:"
    lines = text.rstrip("\n").split("\n")[:40]
    return head + "\n" + "\n".join(">" + ("" if ln.startswith(">") else " ") + ln for ln in lines)


@dataclasses.dataclass(slots=True)
class _Out:
    subject: str
    entity: bytes
    root: str
    extra: list[str] = dataclasses.field(default_factory=list)
    parent: str | None = None
    attach: bool = False
    body: Body = "plain"


class _Gen:
    def __init__(self, seed: int, mailbox: str) -> None:
        self.rng, self.seed, self.mailbox = random.Random(seed), seed, mailbox
        self.domain = mailbox.rsplit("@", 1)[-1]
        self.threads: deque[_Thread] = deque(maxlen=400)  # bounded: memory constant in n
        self.recent: deque[int] = deque(maxlen=300)
        self.next_cust, self.now, self.i = 0, START, 0

    def msgid(self, c: _Customer) -> str:
        r, i = self.rng, self.i
        if c.mailer.startswith("Microsoft"):
            return f"<TYCPR01MB{r.getrandbits(64):016X}{i:06d}@TYCPR01MB{i % 9999:04d}.outlook.com>"
        if c.mailer == "Gmail":
            return f"<CA+{base64.b32encode(r.randbytes(20)).decode()}{i}@mail.gmail.com>"
        return f"<{r.getrandbits(64):x}.{i}@{c.email.split('@')[1]}>"

    def agent_id(self) -> str:  # a support-side message that is not part of the generated set
        return f"<{self.rng.getrandbits(40):x}.{self.i}.reply@{self.domain}>"

    def regular(self, c: _Customer, cidx: int, th: _Thread | None, mid: str) -> _Out:
        rng, ja = self.rng, c.lang == "ja"
        num = rng.randint(10000, 99999)
        text = _body(c, rng, num)
        me = f"{c.name} <{c.email}>"
        if th is None:
            subject = rng.choice(JA_SUBJECTS if ja else EN_SUBJECTS).format(num=num)
            if c.win_ext and rng.random() < 0.3:
                subject = f"①{subject}（㈱{c.company}）"
            self.threads.append(_Thread(mid, cidx, subject, [mid], mid, text, self.now))
            out = _Out(subject, b"", mid)
        else:
            if rng.random() < 0.6:  # customer answers the support agent's reply
                agent, when = self.agent_id(), th.last_date + (self.now - th.last_date) / 2
                said = (
                    "お問い合わせいただきありがとうございます。\n担当の佐々木です。\n\n"
                    if ja
                    else "Thank you for contacting us.\nWe are looking into it.\n\n"
                )
                said += _quote(th.last_text, me, th.last_date, ja)
                refs, irt = [*th.refs, agent], agent
                text += "\n" + _quote(said, f"Support <{self.mailbox}>", when, ja)
            else:  # follow-up to the customer's own previous mail
                refs, irt = list(th.refs), th.last_id
                text += "\n" + _quote(th.last_text, me, th.last_date, ja)
            prefix = rng.choice(["Re: ", "RE: ", "Re: ", "Re: Re: "] + ["AW: "] * (c.lang == "eu"))
            out = _Out(prefix + th.subject, b"", th.root, parent=th.last_id)
            out.extra += [f"In-Reply-To: {irt}", "References: " + "\n ".join(refs)]
            th.refs = [*(refs[:1] + refs[-7:] if len(refs) > 8 else refs), mid]
            th.last_id, th.last_text, th.last_date = mid, text[:2500], self.now
        x = rng.random()
        out.body = "alternative" if x < 0.31 else "html" if x < 0.36 else "plain"
        if out.body == "html":
            out.entity = _text_part(_html(text), "html", c.cs, rng)
        else:
            out.entity = _text_part(text, "plain", c.cs, rng)
        if out.body == "alternative":
            html_part = _text_part(_html(text), "html", c.cs, rng)
            out.entity = _multipart("alternative", [out.entity, html_part], rng)
        if rng.random() < 0.17:  # of ~88 % regular mails -> ~15 % overall
            atts = [_attachment(rng, ja) for _ in range(1 if rng.random() < 0.8 else 2)]
            out.entity, out.attach = _multipart("mixed", [out.entity, *atts], rng), True
        return out

    def auto_reply(self, c: _Customer, th: _Thread) -> _Out:
        ja, agent = c.lang == "ja", self.agent_id()
        subject = ("自動返信: Re: " if ja else "Automatic reply: Re: ") + th.subject
        text = (
            "大変申し訳ございませんが、1月4日まで不在にしております。\n戻り次第ご連絡いたします。\n"
            if ja
            else "I am out of the office until Monday with limited access to email.\n"
        )
        out = _Out(
            subject,
            _text_part(text + f"\n{c.name}\n", "plain", c.cs, self.rng),
            th.root,
            parent=th.last_id,
        )
        out.extra += [
            f"In-Reply-To: {agent}",
            "References: " + "\n ".join([*th.refs, agent]),
            "Auto-Submitted: auto-replied",
            "X-Auto-Response-Suppress: All",
        ]
        return out

    def newsletter(self, mid: str, ja: bool) -> _Out:
        rng, num, cs = self.rng, self.rng.randint(1, 300), "utf8ja" if ja else "utf8"
        subject = (
            f"【東京ITニュース】第{num}号 請求書の電子化と納期管理" if ja else f"SaaS Weekly #{num}"
        )
        pool = JA_SENT if ja else EN_SENT
        text = "\n\n".join(" ".join(rng.choice(pool) for _ in range(4)) for _ in range(25))
        parts = [
            _text_part(text, "plain", cs, rng),
            _text_part(_html(text) + CSS * 6, "html", cs, rng),
        ]
        out = _Out(subject, _multipart("alternative", parts, rng), mid, body="alternative")
        out.extra += [
            f"List-Unsubscribe: <https://example-news.com/u/{num}>,\n"
            f" <mailto:unsub-{num}@example-news.com>",
            "Precedence: bulk",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "List-Id: <news.example-news.com>",
        ]
        return out

    def bounce(self, mid: str) -> _Out:
        rcpt = f"nobody{self.rng.randint(1, 9999)}@{self.rng.choice(EN_DOMAINS)}"
        why = "550 5.1.1 User unknown"
        text = (
            "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you"
            f" that your message could not be delivered.\n\n<{rcpt}>: host said: {why}\n"
        )
        status = (
            f"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
            f"Final-Recipient: rfc822; {rcpt}\nAction: failed\nStatus: 5.1.1\n"
            f"Diagnostic-Code: smtp; {why}\n"
        )
        headers = (
            f"Content-Type: text/rfc822-headers\n\nFrom: Support <{self.mailbox}>\n"
            f"To: {rcpt}\n"
            f"Message-ID: {self.agent_id()}\nSubject: Re: Your request\n"
        )
        parts = [_text_part(text, "plain", "utf8", self.rng), status.encode(), headers.encode()]
        entity = _multipart("report", parts, self.rng, " report-type=delivery-status;")
        return _Out(
            "Undelivered Mail Returned to Sender", entity, mid, ["Auto-Submitted: auto-replied"]
        )

    def one(self) -> tuple[bytes, MailMeta]:
        rng = self.rng
        self.now += timedelta(seconds=1 + rng.expovariate(1 / 1800))
        r = rng.random()
        kind: Kind = (
            "bounce"
            if r < 0.02
            else "newsletter"
            if r < 0.07
            else "auto_reply"
            if r < 0.12
            else "reply"
            if r < 0.52
            else "new"
        )
        th: _Thread | None = None
        if kind in ("reply", "auto_reply") and self.threads:
            back, n = int(rng.expovariate(1 / 40)), len(self.threads)  # recent ones likelier
            th = self.threads[-1 - (back if back < n else rng.randrange(n))]
            cidx = th.cust
        elif kind in ("newsletter", "bounce"):
            cidx = 0
        else:
            kind = "new"
            if self.recent and rng.random() < 0.35:
                cidx = rng.choice(self.recent)
            else:
                cidx, self.next_cust = self.next_cust, self.next_cust + 1
                self.recent.append(cidx)
        c = _customer(self.seed, cidx)
        if kind == "newsletter":
            ja = rng.random() < 0.3
            c = _Customer(
                "東京ITニュース" if ja else "SaaS Weekly",
                "news@mail.example-news.com",
                "ja" if ja else "en",
                "utf8ja" if ja else "utf8",
                False,
                "",
                "",
            )
        elif kind == "bounce":
            c = _Customer(
                "Mail Delivery System", "MAILER-DAEMON@mx.example.net", "en", "utf8", False, "", ""
            )
        mid = self.msgid(c)
        if kind == "newsletter":
            out = self.newsletter(mid, c.lang == "ja")
        elif kind == "bounce":
            out = self.bounce(mid)
        elif kind == "auto_reply" and th is not None:
            out = self.auto_reply(c, th)
        else:
            out = self.regular(c, cidx, th, mid)
        ja, cdom = c.lang == "ja", c.email.split("@")[1]
        host = cdom if cdom.startswith(("mx.", "mail.")) else f"mx.{cdom}"
        date = format_datetime(self.now.astimezone(JST if ja else TZS[cidx % len(TZS)]))
        name = f'"{c.name}"' if c.name.isascii() else _ew(c.name, c.cs)
        head = [
            f"Return-Path: <{'' if kind == 'bounce' else c.email}>",
            f"Received: from {host} ({host} [192.0.2.{cidx % 250 + 1}])\n"
            f" by mx.{self.domain} with ESMTPS id {rng.getrandbits(40):X}\n"
            f" for <{self.mailbox}>;"
            f" {format_datetime(self.now + timedelta(seconds=3))}",
            f"From: {name} <{c.email}>",
            f"To: {self.mailbox}",
            f"Subject: {_ew(out.subject, c.cs)}",
            f"Date: {date}",
            f"Message-ID: {mid}",
            *out.extra,
            "MIME-Version: 1.0",
        ]
        if c.mailer not in ("", "Gmail"):
            head.append(f"X-Mailer: {c.mailer}")
        raw = (("\n".join(head) + "\n").encode() + out.entity).replace(b"\n", b"\r\n")
        self.i += 1
        return raw, MailMeta(
            mid, out.root, ja, kind, c.cs, out.parent, out.attach, out.body, c.email, len(raw)
        )


def _generate(n: int, seed: int, mailbox: str) -> Iterator[tuple[bytes, MailMeta]]:
    g = _Gen(seed, mailbox)
    for _ in range(n):
        yield g.one()


@overload
def generate(
    n: int, seed: int = ..., mailbox: str = ..., *, with_meta: Literal[False] = ...
) -> Iterator[bytes]: ...
@overload
def generate(
    n: int, seed: int = ..., mailbox: str = ..., *, with_meta: Literal[True]
) -> Iterator[tuple[bytes, MailMeta]]: ...
def generate(
    n: int, seed: int = 1, mailbox: str = "support@example.jp", *, with_meta: bool = False
) -> Iterator[bytes] | Iterator[tuple[bytes, MailMeta]]:
    """Yield ``n`` raw mails (``(raw, meta)`` pairs if ``with_meta``), deterministic per seed."""
    gen = _generate(n, seed, mailbox)
    return gen if with_meta else (raw for raw, _ in gen)


def expected_threads(
    n: int, seed: int = 1, mailbox: str = "support@example.jp"
) -> dict[str, list[str]]:
    """Expected grouping: thread root Message-ID -> Message-IDs in generation (= Date) order."""
    out: dict[str, list[str]] = {}
    for _, m in _generate(n, seed, mailbox):
        out.setdefault(m.thread_key, []).append(m.message_id)
    return out


def _write(a: argparse.Namespace) -> tuple[Counter[str], int]:
    stats: Counter[str] = Counter()
    total = 0
    with (
        open(a.mbox if a.mbox else os.devnull, "wb") as mbox,
        open(a.meta if a.meta else os.devnull, "w", encoding="utf-8") as meta,
    ):
        for k, (raw, m) in enumerate(_generate(a.n, a.seed, a.mailbox)):
            total += len(raw)
            stats.update(
                [
                    m.kind,
                    m.body,
                    "ja" * m.is_japanese,
                    "cs:" + m.charset,
                    "attachment" * m.has_attachment,
                    "thread" * (m.thread_key == m.message_id),
                ]
            )
            if a.out:
                with open(os.path.join(a.out, f"{k:06d}.eml"), "wb") as f:
                    f.write(raw)
            if a.mbox:  # mboxrd, LF line endings
                body = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))
                mbox.write(f"From {m.sender} Mon Jan  1 00:00:00 2024\n".encode() + body + b"\n")
            if a.meta:
                meta.write(json.dumps(dataclasses.asdict(m), ensure_ascii=False) + "\n")
    return stats, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate benchmark mail for Madoguchi.")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mailbox", default="support@example.jp")
    ap.add_argument("--out", help="directory for NNNNNN.eml files")
    ap.add_argument("--mbox", help="write an mbox (mboxrd, LF line endings)")
    ap.add_argument("--meta", help="write per-mail metadata (thread keys...) as JSON lines")
    a = ap.parse_args(argv)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    s, total = _write(a)
    secs, n = time.perf_counter() - t0, max(a.n, 1)
    print(
        f"mails: {a.n}  bytes: {total:,}  avg: {total / n / 1024:.1f} KiB  "
        f"time: {secs:.2f}s ({a.n / secs:,.0f} mails/s)"
    )
    shares = _split("ja|reply|attachment|alternative|html|auto_reply|newsletter|bounce")
    print("  ".join(f"{k}: {s[k] / n:.1%}" for k in shares) + f"  threads: {s['thread']}")
    print("charsets: " + ", ".join(f"{k[3:]}={v}" for k, v in sorted(s.items()) if k[:3] == "cs:"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
