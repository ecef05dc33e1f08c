"""Through the views, in both outbound charsets: what an agent types, what a customer sent
and what a mailbox is called never adds a header to the mail that leaves, and nothing of it
answers 500 (the UTF-8 path raised on a line break in a header before)."""

from __future__ import annotations

import pytest

from madoguchi.conversations.models import Conversation, Message
from madoguchi.mail import parse
from madoguchi.mail_out.models import Outbox
from madoguchi.mailboxes.actions import update_mailbox
from tests.factories import client_for, make_agent
from tests.mail.header_reader import assert_only_intended_headers
from tests.mail.test_attachments import _tnef
from tests.mail_in.helpers import deliver

pytestmark = pytest.mark.django_db
CHARSETS = ["utf-8", "iso-2022-jp"]
EVIL = "\r\nBcc : evil@attacker.example"
REPLY = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references",
         "mime-version", "content-type", "content-transfer-encoding"}  # fmt: skip


def _outbox(conv: Conversation) -> bytes:
    message = conv.messages.filter(direction="out").latest("pk")
    return bytes(Outbox.objects.get(message=message).data)


def _multipart(fields: dict[str, str], file_header: str, data: bytes) -> tuple[bytes, str]:
    """A form body with a file part whose Content-Disposition is written by hand (a
    browser or a script may send any file name, RFC 2231 encoded line breaks included)."""
    boundary = "XxBOUNDARYxX"
    out = b""
    for name, value in fields.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n").encode()  # fmt: skip
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; "
            f"{file_header}\r\nContent-Type: text/plain\r\n\r\n").encode()  # fmt: skip
    out += data + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("charset", CHARSETS)
def test_a_subject_with_a_line_break_is_sent_on_one_line(team, charset):
    """New conversation: the subject's line break becomes a space; 302, not 500."""
    update_mailbox(team["support"], outbound_charset=charset)
    response = client_for(team["sato"]).post(f"/m/{team['support'].pk}/compose", {
        "to": "yamada@example.com", "subject": f"ご注文{EVIL}", "text": "発送しました。",
    })  # fmt: skip
    assert response.status_code == 302
    conv = Conversation.objects.get(mailbox=team["support"])
    data = _outbox(conv)
    assert_only_intended_headers(data, top=REPLY - {"in-reply-to", "references"})
    assert parse(data).subject == "ご注文 Bcc : evil@attacker.example" == conv.subject


@pytest.mark.template_context  # reads response.context
@pytest.mark.parametrize("charset", CHARSETS)
def test_display_names_mailbox_name_and_customer_names_add_no_header(team, charset):
    """The agent's and the mailbox's names make the From; the customer's names (from
    their mail, RFC 2047 encoded line breaks and all) the To and Cc of "reply all"."""
    support = update_mailbox(team["support"], outbound_charset=charset, name=f"Support{EVIL}")
    agent = make_agent("yamada", display_name=f"Yamada{EVIL}", mailboxes=[support])
    word = "=?utf-8?q?Tanaka=0D=0ABcc_=3A_evil=40attacker=2Eexample?="
    mail = (f"From: {word} <tanaka@tokyo-shoji.example>\r\nTo: support@example.jp\r\n"
            f"Cc: {word} <suzuki@tokyo-shoji.example>\r\n"
            "Subject: =?utf-8?q?Quote=0D=0ABcc_=3A_x=40attacker=2Eexample?=\r\n"
            "Message-ID: <s1@tokyo-shoji.example>\r\n\r\nHello\r\n").encode()  # fmt: skip
    conv = deliver(support, mail).conversation
    client = client_for(agent)
    page = client.get(f"/c/{conv.pk}/?all=1")
    assert page.status_code == 200
    form = page.context["form"]
    data = {"to": form["to"].value(), "cc": form["cc"].value(), "text": "Thanks.", "then": "send"}
    data = {k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in data.items()}
    assert client.post(f"/c/{conv.pk}/reply", data).status_code == 302
    sent = _outbox(conv)
    assert_only_intended_headers(sent, top=REPLY | {"cc"})
    parsed = parse(sent)
    assert parsed.sender is not None and "Bcc" in parsed.sender.name  # one line, kept
    assert [a.email for a in parsed.to + parsed.cc] == ["tanaka@tokyo-shoji.example",
                                                        "suzuki@tokyo-shoji.example"]  # fmt: skip


@pytest.mark.parametrize("charset", CHARSETS)
def test_an_uploaded_file_name_with_encoded_line_breaks(team, charset):
    """An upload named with RFC 2231 CR LF ("a%0D%0ABcc : x.txt") is cleaned once, and the
    conversation shows the name the mail carries."""
    update_mailbox(team["support"], outbound_charset=charset)
    body, ctype = _multipart(
        {"to": "yamada@example.com", "subject": "資料", "text": "添付します。"},
        "filename*=UTF-8''%E8%B3%87%E6%96%99%0D%0ABcc%20%3A%20evil%40attacker.example.txt",
        b"hello",
    )
    response = client_for(team["sato"]).post(
        f"/m/{team['support'].pk}/compose", body, content_type=ctype
    )
    assert response.status_code == 302
    conv = Conversation.objects.get(mailbox=team["support"])
    data = _outbox(conv)
    assert_only_intended_headers(data, top=REPLY - {"in-reply-to", "references",
                                                    "content-transfer-encoding"})  # fmt: skip
    (att,) = parse(data).attachments
    stored = Message.objects.get(conversation=conv).attachments.get()
    assert att.filename == stored.filename and "\n" not in att.filename and att.data == b"hello"


@pytest.mark.parametrize("charset", CHARSETS)
def test_forwarding_a_winmail_dat_adds_no_header(team, charset):
    """Files unpacked from a customer's winmail.dat keep a cleaned name when forwarded."""
    import base64

    from tests.mail.test_attachments import _multipart as mime

    support = update_mailbox(team["support"], outbound_charset=charset)
    raw = mime("Content-Type: application/ms-tnef; name=winmail.dat\n"
               "Content-Transfer-Encoding: base64",
               base64.b64encode(_tnef([(f"report{EVIL}.txt", b"numbers")])))  # fmt: skip
    raw = raw.replace(
        b"From: a@example.com",
        b"From: tanaka@tokyo-shoji.example\r\nTo: "
        b"support@example.jp\r\nSubject: report\r\nMessage-ID: <w1@x.example>",
    )
    message = deliver(support, raw)
    conv = message.conversation
    response = client_for(team["sato"]).post(f"/c/{conv.pk}/m/{message.pk}/forward", {
        "to": "boss@elsewhere.example", "text": "FYI", "with_attachments": "on",
    })  # fmt: skip
    assert response.status_code == 302
    data = _outbox(conv)
    assert_only_intended_headers(data, top=REPLY - {"in-reply-to", "references",
                                                    "content-transfer-encoding"})  # fmt: skip
    assert [a.filename for a in parse(data).attachments] == [
        "report Bcc : evil@attacker.example.txt"
    ]


@pytest.mark.parametrize("to", ['"a\x0bBcc: x"@example.jp', '"a b"@example.jp'])
def test_an_unsafe_recipient_is_a_form_error(team, to):
    """An address that is no plain addr-spec is refused beside the field (400), not 500."""
    response = client_for(team["sato"]).post(f"/m/{team['support'].pk}/compose",
                              {"to": to, "subject": "x", "text": "y"},
                              HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 400
    assert "Not a mail address" in response.content.decode()
    assert not Outbox.objects.exists()


def test_a_line_break_in_the_to_field_only_separates_visible_recipients(team):
    """ "a@x<LF>Bcc: b@y" typed into To is two recipients, both in the To header."""
    response = client_for(team["sato"]).post(f"/m/{team['support'].pk}/compose", {
        "to": "tanaka@tokyo-shoji.example\r\nBcc : evil@attacker.example", "subject": "x",
        "text": "y",
    })  # fmt: skip
    assert response.status_code == 302
    data = _outbox(Conversation.objects.get(mailbox=team["support"]))
    assert_only_intended_headers(data, top=REPLY - {"in-reply-to", "references"})
    assert [a.email for a in parse(data).to] == ["tanaka@tokyo-shoji.example",
                                                 "evil@attacker.example"]  # fmt: skip
