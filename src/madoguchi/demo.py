"""The demo team, mailbox and mail that `madoguchi run all --demo` creates once.

Replies from the demo mailbox are kept locally, not sent (``keeps_mail_locally``).
The mails are built here with the standard library (a thread in Japanese with a reply,
an English question, an HTML newsletter with a remote tracker and a script that must not
run, an auto-reply), then go through the ordinary intake (``accept`` and ``ingest``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

from django.db import transaction

from madoguchi.accounts.actions import add_member, create_agent
from madoguchi.accounts.models import Agent, Role
from madoguchi.mail_in import actions
from madoguchi.mail_in.types import RawInbound
from madoguchi.mailboxes.actions import create_mailbox
from madoguchi.mailboxes.models import DEMO_ADDRESS, Mailbox

ADDRESS = DEMO_ADDRESS
LOGINS = (("demo", "demo", Role.ADMIN, "デモ 管理者"), ("sato", "sato", Role.AGENT, "佐藤 花子"))


def keeps_mail_locally(mailbox: Mailbox) -> bool:
    """See ``Mailbox.keeps_mail_locally``."""
    return mailbox.keeps_mail_locally


def _mail(n: int, sender: str, subject: str, body: str, **extra: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ADDRESS, subject
    msg["Date"] = (datetime(2026, 11, 23, 1, 0, tzinfo=UTC) + timedelta(minutes=37 * n)).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )
    msg["Message-ID"] = f"<demo{n}@customer.example>"
    html = extra.pop("html", "")
    for name, value in extra.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes(policy=SMTP)


def demo_mails() -> list[bytes]:
    tanaka = "田中 一郎 <tanaka@tokyo-shoji.example>"
    return [
        _mail(
            1,
            tanaka,
            "見積もりのお願い（東京本社）",
            "いつもお世話になっております。東京商事の田中です。\n\n"
            "新しいプリンター10台の見積もりをお願いできますでしょうか。\n納期もあわせて教えてください。\n\n"
            "--\n東京商事株式会社 総務部 田中 一郎\n",
        ),
        _mail(
            2,
            tanaka,
            "Re: 見積もりのお願い（東京本社）",
            "追加で、設置作業の費用も含めていただけると助かります。\n\n"
            "2026年11月23日(月) 10:00 田中 一郎 <tanaka@tokyo-shoji.example>:\n> 新しいプリンター10台の見積もりを\n",
            In_Reply_To="<demo1@customer.example>",
            References="<demo1@customer.example>",
        ),
        _mail(
            3,
            "Emily Clark <emily@northwind.example>",
            "Invoice 2026-114 is missing",
            "Hello,\n\nWe have not received invoice 2026-114 for October. Could you resend it?\n\nThanks,\nEmily\n",
        ),
        _mail(
            4,
            "ニュース <news@shop.example>",
            "今週のおすすめ",
            "今週のおすすめ商品です。",
            List_Unsubscribe="<mailto:unsubscribe@shop.example>",
            html='<p>今週のおすすめ <img src="https://tracker.example/pixel.gif"></p>'
            '<script>alert("xss")</script><a href="javascript:alert(1)">クリック</a>',
        ),
        _mail(
            5,
            "山本 <yamamoto@osaka.example>",
            "自動返信: 不在のお知らせ",
            "11月30日まで不在にしております。",
            Auto_Submitted="auto-replied",
        ),
    ]


def ensure_demo() -> Mailbox:
    """Create the demo logins, mailbox and mail unless they exist. Idempotent."""
    with transaction.atomic():
        mailbox = Mailbox.objects.filter(address=ADDRESS).first()
        if mailbox is None:
            mailbox = create_mailbox(ADDRESS, name="サポート窓口")
        for username, password, role, name in LOGINS:
            agent = Agent.objects.filter(user__username=username).first()
            if agent is None:
                agent = create_agent(username, password=password, role=role, display_name=name)
            add_member(mailbox, agent.user)
    inbound = [RawInbound(data=data, source="import", origin="demo") for data in demo_mails()]
    accepted = actions.accept_many(mailbox, inbound, schedule=False)
    actions.ingest_safely([raw for raw, created in accepted if created])
    return mailbox
