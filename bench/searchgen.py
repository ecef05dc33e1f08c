"""Generate a large, realistic mail history straight into Madoguchi's tables, for search.

``generate(n, seed)`` yields, in arrival order, the rows of ``n`` conversations and about
``3 * n`` messages (1 to 6 per conversation, 3 on average) in five mailboxes: a third of the
customers write Japanese (business mail: greetings, requests about invoices, quotations,
delivery dates, logins; signatures with company, department, postal address and telephone),
the rest English. Vocabulary is drawn with Zipf-like weights, so that common words
(お世話, 請求, 東京, 納期, invoice, order) are in a large share of the mail and rare ones
(柏崎, 勅使河原, Zurich, Okonkwo) in very little. Agents answer, quoting the customer; some
mail has attachments (their names are indexed); some conversations have tags and notes.

``write_sqlite(path, n, seed)`` fills a migrated Madoguchi SQLite database with them, in
bulk (``executemany`` in large transactions, foreign keys checked at the end), computing the
search entries with the production code (``madoguchi.search.text.tokens`` over the same
fields as ``madoguchi.search.index.message_entries`` / ``note_entries`` / ``index_tags``); the
FTS5 table is filled by the migration's own triggers, as in production. ``verify()`` compares
a sample of the stored entries with what ``madoguchi.search.index`` makes of the same rows.
``copy_to_postgres()`` copies such a database into a migrated PostgreSQL database (``COPY``;
the generated ``tsv`` column computes itself; the GIN index is built after the load).

Needs Django set up (``DJANGO_SETTINGS_MODULE`` and a database), except ``generate``.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2024, 12, 4, tzinfo=UTC)
END = datetime(2026, 12, 4, tzinfo=UTC)
#: Bump when the generated data changes (part of the cache key in bench/search.py).
VERSION = 1


def _split(s: str) -> list[str]:
    return [x for x in s.split("|") if x]


def _pairs(s: str) -> list[tuple[str, str]]:
    return [(a, b) for a, _, b in (x.partition(":") for x in _split(s))]


def _zipf(n: int, s: float = 1.0) -> list[float]:
    """Cumulative Zipf weights for ``n`` items (the first the most common)."""
    return list(itertools.accumulate(1 / (i + 1) ** s for i in range(n)))


# --- Japanese -------------------------------------------------------------------------------

JA_SURNAMES = _pairs(
    "佐藤:sato|鈴木:suzuki|高橋:takahashi|田中:tanaka|伊藤:ito|渡辺:watanabe|山本:yamamoto|"
    "中村:nakamura|小林:kobayashi|加藤:kato|吉田:yoshida|山田:yamada|佐々木:sasaki|山口:yamaguchi|"
    "松本:matsumoto|井上:inoue|木村:kimura|林:hayashi|斎藤:saito|清水:shimizu|山崎:yamazaki|"
    "森:mori|池田:ikeda|橋本:hashimoto|阿部:abe|石川:ishikawa|山下:yamashita|中島:nakajima|"
    "石井:ishii|小川:ogawa|前田:maeda|岡田:okada|長谷川:hasegawa|藤田:fujita|後藤:goto|"
    "近藤:kondo|村上:murakami|遠藤:endo|青木:aoki|坂本:sakamoto|斉藤:saito|福田:fukuda|"
    "太田:ota|西村:nishimura|藤井:fujii|金子:kaneko|岡本:okamoto|藤原:fujiwara|中野:nakano|"
    "三浦:miura|原田:harada|松田:matsuda|竹内:takeuchi|中川:nakagawa|小野:ono|田村:tamura|"
    "和田:wada|中山:nakayama|石田:ishida|上田:ueda|森田:morita|小島:kojima|柴田:shibata|"
    "原:hara|宮崎:miyazaki|酒井:sakai|工藤:kudo|横山:yokoyama|宮本:miyamoto|内田:uchida|"
    "高木:takagi|安藤:ando|島田:shimada|谷口:taniguchi|大野:ono|丸山:maruyama|今井:imai|"
    "五十嵐:igarashi|東海林:shoji"
)
#: Rare words (``RARE`` of the picks): a search for them finds little at any N.
JA_SURNAMES_RARE = _pairs("長宗我部:chosokabe|勅使河原:teshigawara|小鳥遊:takanashi")
JA_GIVEN = _pairs(
    "翔太:shota|大輔:daisuke|健太:kenta|拓也:takuya|直樹:naoki|太郎:taro|一郎:ichiro|"
    "誠:makoto|浩二:koji|隆:takashi|陽子:yoko|美咲:misaki|花子:hanako|由美:yumi|恵:megumi|"
    "愛:ai|真由美:mayumi|さくら:sakura|明美:akemi|智子:tomoko|結衣:yui|亮:ryo|悠斗:yuto|"
    "彩:aya|麻衣:mai|千尋:chihiro|龍之介:ryunosuke|紬:tsumugi"
)
#: (place, its romaji, prefecture, city, town): the company's seat and postal address.
JA_PLACES = [
    tuple(x.split(":"))
    for x in _split(
        "東京:tokyo:東京都:港区:芝浦|大阪:osaka:大阪府:大阪市北区:梅田|"
        "名古屋:nagoya:愛知県:名古屋市中村区:名駅|横浜:yokohama:神奈川県:横浜市西区:みなとみらい|"
        "福岡:fukuoka:福岡県:福岡市博多区:博多駅前|札幌:sapporo:北海道:札幌市中央区:北一条西|"
        "京都:kyoto:京都府:京都市下京区:烏丸|神戸:kobe:兵庫県:神戸市中央区:三宮町|"
        "仙台:sendai:宮城県:仙台市青葉区:中央|広島:hiroshima:広島県:広島市中区:紙屋町|"
        "千葉:chiba:千葉県:千葉市中央区:富士見|埼玉:saitama:埼玉県:さいたま市大宮区:桜木町|"
        "静岡:shizuoka:静岡県:静岡市葵区:紺屋町|新潟:niigata:新潟県:新潟市中央区:万代|"
        "金沢:kanazawa:石川県:金沢市:広岡|岡山:okayama:岡山県:岡山市北区:駅前町|"
        "熊本:kumamoto:熊本県:熊本市中央区:花畑町|浜松:hamamatsu:静岡県:浜松市中央区:砂山町|"
        "宇都宮:utsunomiya:栃木県:宇都宮市:馬場通り|長野:nagano:長野県:長野市:南長野|"
        "富山:toyama:富山県:富山市:桜町|松山:matsuyama:愛媛県:松山市:一番町|"
        "高松:takamatsu:香川県:高松市:番町|鹿児島:kagoshima:鹿児島県:鹿児島市:山之口町|"
        "那覇:naha:沖縄県:那覇市:久茂地|岐阜:gifu:岐阜県:岐阜市:橋本町|"
        "奈良:nara:奈良県:奈良市:三条町|長崎:nagasaki:長崎県:長崎市:大黒町|"
        "秋田:akita:秋田県:秋田市:中通|盛岡:morioka:岩手県:盛岡市:盛岡駅前通|"
        "甲府:kofu:山梨県:甲府市:丸の内|松江:matsue:島根県:松江市:朝日町"
    )
]
JA_PLACES_RARE = [
    tuple(x.split(":"))
    for x in _split(
        "柏崎:kashiwazaki:新潟県:柏崎市:東本町|室蘭:muroran:北海道:室蘭市:海岸町|"
        "稚内:wakkanai:北海道:稚内市:中央"
    )
]
JA_TRADES = _pairs(
    "商事:shoji|精機:seiki|物産:bussan|システム:system|印刷:print|ロジスティクス:logi|"
    "テクノ:techno|工業:kogyo|電機:denki|建設:kensetsu|食品:foods|製薬:pharma|不動産:estate|"
    "ソリューションズ:solutions|運輸:unyu|化学:kagaku|産業:sangyo|電子:denshi|設計:sekkei|交易:koeki"
)
JA_DEPTS = _split("総務部|経理部|営業部|購買部|情報システム部|管理部|業務部|技術部|人事部")
JA_PRODUCTS = _split(
    "複合機|ノートパソコン|トナーカートリッジ|会計ソフト|クラウドストレージ|業務用エアコン|"
    "LED照明|防犯カメラ|名刺|コピー用紙|サーバー|ルーター|タブレット|封筒|給湯器|電子黒板|"
    "勤怠管理システム|安全靴|作業服|段ボール|3Dプリンター|"
    "業務用冷蔵庫|無停電電源装置"
)
JA_PRODUCTS_RARE = _split("超音波洗浄機|電動フォークリフト")
JA_WEEKDAYS = _split("月|火|水|木|金")
JA_GREETING = _split(
    "いつもお世話になっております。|いつもお世話になっております。|いつも大変お世話になっております。|"
    "お世話になります。|初めてご連絡いたします。|ご無沙汰しております。"
)
JA_ASK = _split(
    "先日ご送付いただいた請求書の金額について確認させてください。|"
    "{month}月分の請求書がまだ届いておりません。|"
    "請求書の宛名を弊社の正式名称に変更していただきたく存じます。|"
    "前回の請求書と今回の請求書で{product}の単価が異なっているようです。|"
    "{product}の見積もりをお願いできますでしょうか。|"
    "見積書（No.{num}）の有効期限を教えていただけますでしょうか。|"
    "{product}を{qty}台追加で発注したいと考えております。|"
    "注文番号{num}の納期が当初の予定より遅れているようですが、状況はいかがでしょうか。|"
    "納期を一週間ほど前倒しすることは可能でしょうか。|"
    "{place}の倉庫への配送をお願いいたします。|"
    "{place}営業所宛てに書類を郵送していただけますと幸いです。|"
    "{month}月{day}日までに納品していただけますと助かります。|"
    "ログイン画面でエラーが表示され、管理画面に入れません。|"
    "パスワードの再設定メールが届かない状況です。|"
    "{product}の電源が入らなくなりました。|"
    "{product}から異音がするため、点検をお願いしたいです。|"
    "支払い方法を銀行振込からクレジットカードに変更したいと考えております。|"
    "{month}月末日にお振込みいたしました。ご確認をお願いいたします。|"
    "契約内容の変更について、担当者様とお打ち合わせの機会をいただけますか。|"
    "来週{weekday}曜日の午後であれば、いつでも対応可能です。|"
    "資料の最新版を送っていただけますでしょうか。|"
    "至急ご確認いただきたい点がございます。|"
    "納品書と請求書を同封していただけますと助かります。|"
    "システムの利用者数を{qty}名に増やしたいと考えています。|"
    "{place}支店からも同様の問い合わせが来ております。|"
    "返品の手続きについて教えてください。|"
    "領収書の発行をお願いできますでしょうか。|"
    "解約の手続きについてご案内いただけますか。|"
    "{product}の保証期間について確認させてください。|"
    "東京本社の住所が変更になりましたのでお知らせいたします。|"
    "配送先を{place}の新しい事務所に変更してください。|"
    "請求書の再発行をお願いいたします。"
)
JA_CLOSE = _split(
    "よろしくお願いいたします。|お手数をおかけしますが、よろしくお願いいたします。|"
    "何卒よろしくお願い申し上げます。|ご多忙のところ恐縮ですが、よろしくお願いいたします。"
)
JA_ANSWER = _split(
    "お問い合わせいただきありがとうございます。|ご連絡が遅くなり申し訳ございません。|"
    "請求書を再発行し、本日付けで郵送いたしました。|"
    "{product}の納期は{month}月{day}日の予定でございます。|"
    "担当部署に確認のうえ、改めてご連絡いたします。|"
    "見積書を添付いたしましたので、ご確認くださいませ。|"
    "ご不便をおかけしており、大変申し訳ございません。|"
    "パスワード再設定の手順をご案内いたします。|ご指摘の件、確認いたしました。|"
    "ご入金を確認いたしました。ありがとうございました。|"
    "{place}の倉庫から{month}月{day}日に出荷いたします。"
)
JA_SUBJECTS = _split(
    "{product}の納期について|請求書の再発行について（{month}月分）|見積もりのご依頼（{product}）|"
    "【至急】注文番号{num}の変更|{place}営業所への配送について|ログインできない件|"
    "契約更新についてのご相談|お問い合わせ：{product}|{product}の不具合について|"
    "支払い方法の変更について|資料送付のお願い|打ち合わせ日程のご相談|請求金額の確認|"
    "納期のご確認|返品のお願い"
)
JA_FILES = _split(
    "請求書_{num}.pdf|見積書_No{num}.xlsx|納品書.pdf|注文書_{num}.pdf|仕様書_最新版.docx|"
    "スクリーンショット.png"
)
JA_FREEMAIL = _split("gmail.com|yahoo.co.jp|docomo.ne.jp|outlook.jp")

# --- English --------------------------------------------------------------------------------

EN_FIRST = _split(
    "James|Mary|John|Patricia|Robert|Jennifer|Michael|Linda|David|Elizabeth|William|Sarah|"
    "Richard|Emily|Daniel|Laura|Thomas|Olivia|Charles|Sophie|Matthew|Grace|Anthony|Chloe|"
    "Mark|Hannah|Paul|Lucy|Steven|Amelia|Andrew|Isla|Joshua|Zoe|Kenji|Priya|Mateo|Ingrid"
)
EN_LAST = _split(
    "Smith|Johnson|Williams|Brown|Jones|Miller|Davis|Wilson|Taylor|Clarke|Walker|Hughes|"
    "Evans|Turner|Baker|Wright|Robinson|Thompson|White|Harris|Martin|Jackson|Wood|Hall|"
    "Green|Lewis|Edwards|Murphy|Cooper|Ward|Morris|King|Moore|Bell|Fitzgerald|Nakashima|"
    "Lindqvist"
)
EN_LAST_RARE = _split("Okonkwo|Abernathy|Quigley")
EN_COMPANIES = _pairs(
    "Acme Corp:acme-corp.com|Globex:globex.co.uk|Initech:initech.io|"
    "Umbrella Retail:umbrella-retail.com|Hooli:hooli.net|Stark Industries:stark-industries.com|"
    "Wayne Enterprises:wayne-ent.com|Cyberdyne Systems:cyberdyne.io|"
    "Soylent Foods:soylent-foods.com|Wonka Industries:wonka.co.uk|Tyrell Corporation:tyrell.com|"
    "Massive Dynamic:massivedynamic.com|Vandelay Industries:vandelay.com|"
    "Dunder Mifflin:dundermifflin.com|Oscorp:oscorp.net|Pied Piper:piedpiper.com|"
    "Nakatomi Trading:nakatomi.com|Gringotts Finance:gringotts.co.uk|Aperture Labs:aperture.io|"
    "Black Mesa:blackmesa.org"
)
EN_COMPANIES_RARE = _pairs(
    "Zurich Precision:zurich-precision.ch|Okonkwo Logistics:okonkwo-logistics.ng"
)
EN_FREEMAIL = _split("gmail.com|outlook.com|yahoo.com|icloud.com")
EN_STREETS = _split(
    "Main Street|High Street|Market Street|Baker Street|King Street|Elm Road|Park Avenue|"
    "Church Lane|Station Road|Mill Lane|Harbour Way|Quarry Close"
)
EN_CITIES = _pairs(
    "London:EC1A 1BB|New York:NY 10001|Manchester:M1 1AE|San Francisco:CA 94105|"
    "Chicago:IL 60601|Sydney:NSW 2000|Toronto:ON M5H 2N2|Singapore:048616|Berlin:10117|"
    "Dublin:D02 X285|Auckland:1010"
)
EN_CITIES_RARE = _pairs("Zurich:8001|Reykjavik:101")
EN_PRODUCTS = _split(
    "printer|laptop|toner cartridge|accounting software|cloud storage|air conditioner|"
    "LED panel|security camera|business cards|copy paper|server|router|tablet|"
    "label printer|standing desk|barcode scanner"
)
EN_PRODUCTS_RARE = _split("ultrasonic cleaner|forklift battery")
RARE = 0.002
EN_WEEKDAYS = _split("Monday|Tuesday|Wednesday|Thursday|Friday")
EN_MONTHS = _split(
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
EN_GREETING = _split("Hello,|Hi,|Dear Support Team,|Good morning,|Hi there,|Dear Sir or Madam,")
EN_ASK = _split(
    "I am writing about the invoice we received last week.|"
    "Could you please send us an updated quotation for the {product}?|"
    "The delivery date in the order confirmation for order {num} seems to be wrong.|"
    "We have not been able to log in since yesterday.|"
    "Please find the requested documents attached.|"
    "Our finance team needs the invoice re-issued to the new address.|"
    "Is it possible to bring the delivery forward by a week?|"
    "We would like to add {qty} more user licences.|"
    "The payment was made by bank transfer on {weekday}.|"
    "Our {city} office reported the same problem this morning.|"
    "The password reset email never arrived.|"
    "We would appreciate an answer by the end of {monthname}.|"
    "The unit price of the {product} differs from the previous invoice.|"
    "Can we schedule a short call next {weekday} afternoon?|"
    "The shipment arrived two days late and one box was damaged.|"
    "Our Tokyo office has the same question about invoice {num}.|"
    "The {product} stopped working after the last update.|"
    "Please cancel order {num}; we ordered the wrong {product}.|"
    "Could you confirm the warranty period for the {product}?|"
    "We need a receipt for the payment of {monthname}."
)
EN_CLOSE = _split(
    "Thanks in advance.|Kind regards,|Best regards,|Many thanks,|"
    "Please let me know if you need any further information.|Cheers,"
)
EN_ANSWER = _split(
    "Thank you for contacting us.|Sorry for the delay in getting back to you.|"
    "We have re-issued the invoice and sent it today.|"
    "The {product} will be delivered on {monthname} {day}.|"
    "I have passed this on to our finance team and will get back to you shortly.|"
    "Please find the updated quotation attached.|"
    "We apologise for the inconvenience.|"
    "Here are the steps to reset your password.|"
    "We have received your payment, thank you.|"
    "The order ships from our {city} warehouse on {weekday}."
)
EN_SUBJECTS = _split(
    "Question about invoice #{num}|Request for quotation: {product}|Delivery date for order {num}|"
    "Cannot log in|Change of billing address|Urgent: order {num} modification|Damaged shipment|"
    "{product} not working|Payment confirmation|Contract renewal|Meeting next {weekday}?|"
    "Refund request for order {num}"
)
EN_FILES = _split(
    "invoice-{num}.pdf|quotation_{num}.xlsx|screenshot.png|purchase-order-{num}.pdf|"
    "delivery-note.pdf|photo_damage.jpg"
)

# --- The team -------------------------------------------------------------------------------

#: (address, name, share of Japanese conversations, share of English ones)
MAILBOXES = [
    ("support@example.jp", "サポート窓口", 0.45, 0.35),
    ("sales@example.jp", "営業", 0.25, 0.10),
    ("billing@example.jp", "経理", 0.20, 0.10),
    ("info@example.com", "Info", 0.05, 0.30),
    ("partners@example.com", "Partners", 0.05, 0.15),
]
AGENTS = [
    ("sato", "佐藤 花子"), ("suzuki", "鈴木 一郎"), ("tanaka", "田中 美咲"),
    ("takahashi", "高橋 健太"), ("ito", "伊藤 陽子"), ("watanabe", "渡辺 直樹"),
    ("yamamoto", "山本 由美"), ("nakamura", "中村 大輔"), ("kobayashi", "小林 恵"),
    ("kato", "加藤 誠"), ("emily", "Emily Clarke"), ("david", "David Walker"),
    ("sophie", "Sophie Turner"), ("james", "James Hughes"), ("yoshida", "吉田 亮"),
    ("yamada", "山田 太郎"), ("sasaki", "佐々木 彩"), ("inoue", "井上 隆"),
    ("kimura", "木村 結衣"), ("hayashi", "林 翔太"),
]  # fmt: skip
ADMIN = "bench-admin"
TAGS_COMMON = _split(
    "VIP|請求|至急|不具合|解約|見積|返品|要確認|billing|bug|urgent|refund|partner|クレーム|重要顧客"
)
TAGS = TAGS_COMMON + [f"案件-{k:03}" for k in range(40)]
NOTES_JA = _split(
    "経理部に確認中。|{agent}さんに引き継ぎました。|請求書の再発行は来週対応予定。|"
    "VIP顧客のため優先対応。|電話で折り返し済み、見積書を明日送付。|納期は倉庫に確認中です。|"
    "{place}営業所の担当者にも共有しました。"
)
NOTES_EN = _split(
    "Waiting for finance to confirm the refund.|Called the customer, quotation goes out tomorrow.|"
    "Handed over to {agent}.|Escalated to engineering (login bug).|Customer is a VIP, reply today."
)
STATUS_AFTER_US = ["done"] * 70 + ["hold"] * 8 + ["open"] * 12 + ["spam", "trash"]
STATUS_AFTER_THEM = ["new"] * 45 + ["open"] * 50 + ["hold"] * 5
COUNTS = [1] * 20 + [2] * 25 + [3] * 20 + [4] * 15 + [5] * 10 + [6] * 10  # mean 3.0


@dataclass
class Customer:
    name: str
    email: str
    company: str
    japanese: bool
    signature: str
    surname: str


@dataclass(order=True)
class Item:
    """Something that arrives at ``at``: a message, a note or a tagging."""

    at: datetime
    seq: int
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False)


class Generator:
    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.cw_surnames = _zipf(len(JA_SURNAMES), 0.9)
        self.cw_places = _zipf(len(JA_PLACES), 1.3)
        self.cw_trades = _zipf(len(JA_TRADES), 0.8)
        self.cw_products = _zipf(len(JA_PRODUCTS), 1.0)
        self.cw_en_last = _zipf(len(EN_LAST), 0.9)
        self.cw_en_companies = _zipf(len(EN_COMPANIES), 1.1)
        self.cw_cities = _zipf(len(EN_CITIES), 1.2)
        self.cw_en_products = _zipf(len(EN_PRODUCTS), 1.0)
        self.cw_tags = _zipf(len(TAGS), 1.1)
        self.emails: set[str] = set()
        self.box_cw = {
            True: list(itertools.accumulate(m[2] for m in MAILBOXES)),
            False: list(itertools.accumulate(m[3] for m in MAILBOXES)),
        }
        self.customers = [self._customer(k) for k in range(max(200, n // 4))]

    def pick(self, items: list[Any], cw: list[float], rare: list[Any] | None = None) -> Any:
        if rare and self.rng.random() < RARE:
            return self.rng.choice(rare)
        return self.rng.choices(items, cum_weights=cw)[0]

    # -- people --------------------------------------------------------------------------------

    def _unique(self, local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        k = 2
        while email in self.emails:
            email = f"{local}{k}@{domain}"
            k += 1
        self.emails.add(email)
        return email

    def _customer(self, k: int) -> Customer:
        rng = self.rng
        if k % 3 == 0:  # a third Japanese
            (sur, sur_r), (given, given_r) = (
                self.pick(JA_SURNAMES, self.cw_surnames, JA_SURNAMES_RARE),
                rng.choice(JA_GIVEN),
            )
            place, place_r, pref, city, town = self.pick(JA_PLACES, self.cw_places, JA_PLACES_RARE)
            trade, trade_r = self.pick(JA_TRADES, self.cw_trades)
            if rng.random() < 0.15:
                company, domain = "", rng.choice(JA_FREEMAIL)
            else:
                company = rng.choice(["株式会社", "有限会社", ""]) + place + trade
                company += "株式会社" if not company.startswith(("株式", "有限")) else ""
                domain = f"{place_r}-{trade_r}.co.jp"
            email = self._unique(f"{given_r[0]}.{sur_r}", domain)
            zipcode = f"{rng.randrange(100, 999)}-{rng.randrange(10000):04}"
            block = f"{rng.randrange(1, 9)}-{rng.randrange(1, 30)}-{rng.randrange(1, 20)}"
            address = f"〒{zipcode} {pref}{city}{town}{block}"
            tel = f"0{rng.randrange(3, 99)}-{rng.randrange(100, 9999)}-{rng.randrange(10000):04}"
            lines = [company, rng.choice(JA_DEPTS) if company else "", f"{sur} {given}",
                     address, f"TEL: {tel}", f"E-mail: {email}"]  # fmt: skip
            signature = "\n".join(["--", *(ln for ln in lines if ln)])
            return Customer(f"{sur} {given}", email, company, True, signature, sur)
        first, last = rng.choice(EN_FIRST), self.pick(EN_LAST, self.cw_en_last, EN_LAST_RARE)
        if rng.random() < 0.2:
            company, domain = "", rng.choice(EN_FREEMAIL)
        else:
            company, domain = self.pick(EN_COMPANIES, self.cw_en_companies, EN_COMPANIES_RARE)
        email = self._unique(f"{first}.{last}".lower(), domain)
        city, postcode = self.pick(EN_CITIES, self.cw_cities, EN_CITIES_RARE)
        street = f"{rng.randrange(1, 400)} {rng.choice(EN_STREETS)}"
        phone = f"+{rng.randrange(1, 99)} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
        lines = [f"{first} {last}", company, f"{street}, {city} {postcode}", f"Phone: {phone}"]
        signature = "\n".join(["--", *(ln for ln in lines if ln)])
        return Customer(f"{first} {last}", email, company, False, signature, last)

    # -- text ----------------------------------------------------------------------------------

    def _slots(self, template: str, japanese: bool) -> str:
        rng = self.rng
        if "{" not in template:
            return template
        if japanese:
            return template.format(
                product=self.pick(JA_PRODUCTS, self.cw_products, JA_PRODUCTS_RARE),
                num=rng.randrange(10000, 999999),
                month=rng.randrange(1, 13),
                day=rng.randrange(1, 29),
                qty=rng.choice([2, 3, 5, 10, 20, 50]),
                place=self.pick(JA_PLACES, self.cw_places, JA_PLACES_RARE)[0],
                weekday=rng.choice(JA_WEEKDAYS),
                agent=rng.choice(AGENTS[:10])[1].split()[0],
            )
        return template.format(
            product=self.pick(EN_PRODUCTS, self.cw_en_products, EN_PRODUCTS_RARE),
            num=rng.randrange(10000, 999999),
            monthname=rng.choice(EN_MONTHS),
            day=rng.randrange(1, 29),
            qty=rng.choice([2, 3, 5, 10, 20, 50]),
            city=self.pick(EN_CITIES, self.cw_cities, EN_CITIES_RARE)[0],
            weekday=rng.choice(EN_WEEKDAYS),
            agent=rng.choice(AGENTS[10:14])[1].split()[0],
        )

    def _sentences(self, pool: list[str], k: int, japanese: bool) -> list[str]:
        return [self._slots(s, japanese) for s in self.rng.sample(pool, k)]

    def customer_text(self, who: Customer, box_name: str, first: bool) -> str:
        rng = self.rng
        if who.japanese:
            head = [f"{box_name} ご担当者様", "", rng.choice(JA_GREETING)]
            head.append(f"{who.company or '個人'}の{who.surname}です。")
            body = self._sentences(JA_ASK, rng.randrange(1, 4) if first else 1, True)
            lines = [*head, "", "".join(body[:2]), *body[2:], "", rng.choice(JA_CLOSE)]
        else:
            body = self._sentences(EN_ASK, rng.randrange(1, 4) if first else 1, False)
            lines = [rng.choice(EN_GREETING), "", " ".join(body), "", rng.choice(EN_CLOSE),
                     who.name.split()[0]]  # fmt: skip
        return "\n".join([*lines, "", who.signature])

    def agent_text(self, who: Customer, agent: str, box_name: str) -> str:
        rng = self.rng
        if who.japanese:
            lines = [f"{who.company}" if who.company else "", f"{who.surname}様", "",
                     "いつもお世話になっております。",
                     f"{box_name}の{agent.split(maxsplit=1)[0]}でございます。", "",
                     *self._sentences(JA_ANSWER, rng.randrange(1, 3), True), "",
                     "引き続きよろしくお願いいたします。", "", f"{box_name} {agent}"]  # fmt: skip
        else:
            lines = [f"Hi {who.name.split()[0]},", "",
                     " ".join(self._sentences(EN_ANSWER, rng.randrange(1, 3), False)), "",
                     "Best regards,", f"{agent}", f"{box_name} team"]  # fmt: skip
        return "\n".join(ln for ln in lines if ln is not None)

    def quoted(self, own: str, at: datetime, japanese: bool) -> str:
        """What a reply carries below its text: the message it answers, quoted."""
        stamp = at - timedelta(minutes=self.rng.randrange(5, 600))
        header = (
            f"{stamp:%Y年%m月%d日 %H:%M} のメッセージ:"
            if japanese
            else f"On {stamp:%a, %d %b %Y at %H:%M}, you wrote:"
        )
        return header + "\n" + "\n".join("> " + ln if ln else ">" for ln in own.split("\n"))

    # -- conversations ------------------------------------------------------------------------

    def conversations(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """("conversation", data) as each starts, and ("message" | "note" | "tags", data) in
        arrival order, interleaved across conversations by time."""
        rng, n = self.rng, self.n
        span = (END - START).total_seconds()
        pending: list[Item] = []
        seq = itertools.count()
        for i in range(n):
            start = START + timedelta(seconds=span * (i + rng.random()) / n)
            while pending and pending[0].at <= start:
                item = heapq.heappop(pending)
                yield item.kind, item.data
            conv, later = self._conversation(i + 1, start)
            yield "conversation", conv
            for kind, data in later:
                heapq.heappush(pending, Item(data["at"], next(seq), kind, data))
        while pending:
            item = heapq.heappop(pending)
            yield item.kind, item.data

    def _conversation(
        self, conv_id: int, start: datetime
    ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        rng = self.rng
        who = self.customers[int(len(self.customers) * rng.random() ** 1.6)]
        ja = who.japanese
        box = rng.choices(range(len(MAILBOXES)), cum_weights=self.box_cw[ja])[0]
        box_name = MAILBOXES[box][1]
        agent = rng.randrange(len(AGENTS))
        times = [start]
        for _ in range(rng.choice(COUNTS) - 1):
            times.append(times[-1] + timedelta(minutes=rng.randrange(5, 60 * 48)))
        subject = self._slots(rng.choice(JA_SUBJECTS if ja else EN_SUBJECTS), ja)
        later: list[tuple[str, dict[str, Any]]] = []
        text = ""
        inbound = True
        for k, at in enumerate(times):
            inbound = k % 2 == 0 or rng.random() < 0.15
            previous = text  # quoted whole, with what it quoted (as mail clients do)
            if inbound:
                own = self.customer_text(who, box_name, k == 0)
            else:
                own = self.agent_text(who, AGENTS[agent][1], box_name)
            text = own + ("\n\n" + self.quoted(previous, at, ja) if previous else "")
            files: list[str] = []
            if inbound and rng.random() < 0.12:
                names = rng.sample(JA_FILES if ja else EN_FILES, rng.choice([1, 1, 2]))
                files = [self._slots(f, ja) for f in names]
            later.append(("message", {
                "conversation": conv_id, "mailbox": box, "customer": who, "k": k, "at": at,
                "inbound": inbound, "text": text, "own": own, "files": files, "agent": agent,
                "subject": subject if k == 0 else ("Re: " + subject),
            }))  # fmt: skip
        status = rng.choice(STATUS_AFTER_THEM if inbound else STATUS_AFTER_US)
        tags: list[str] = []
        if rng.random() < 0.15:
            tags = list(dict.fromkeys(self.pick(TAGS, self.cw_tags)
                                      for _ in range(rng.choice([1, 1, 2]))))  # fmt: skip
            at = start + timedelta(minutes=rng.randrange(1, 120))
            later.append(
                ("tags", {"conversation": conv_id, "mailbox": box, "tags": tags, "at": at})
            )
        if rng.random() < 0.05:
            at = start + timedelta(minutes=rng.randrange(10, 60 * 24))
            note = self._slots(rng.choice(NOTES_JA if ja else NOTES_EN), ja)
            later.append(("note", {"conversation": conv_id, "mailbox": box, "agent": agent,
                                   "at": at, "text": note}))  # fmt: skip
        waiting = inbound and status in ("new", "open", "hold")
        conv = {
            "id": conv_id, "mailbox": box, "customer": who, "subject": subject,
            "status": status,
            "assignee": agent if status != "new" and rng.random() < 0.9 else None,
            "snippet": " ".join(later[0][1]["own"].split())[:200],
            "message_count": len(times), "created_at": start, "last_activity_at": times[-1],
            "waiting_since": times[-1] if waiting else None,
            "unread": inbound and rng.random() < 0.3, "tags": tags,
        }  # fmt: skip
        return conv, later


# --- Writing -------------------------------------------------------------------------------


def _ts(at: datetime) -> str:
    """A UTC datetime as Django's SQLite backend stores it."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


class Table:
    """Bulk inserts into one model's table: the columns given, the others at their model
    default (so that a column a later migration adds needs no change here)."""

    def __init__(self, model: Any, columns: list[str]) -> None:
        from django.db import connection

        self.name = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        rest = [c for c, f in fields.items() if c not in columns and not f.primary_key]
        tail = []
        for column in rest:
            f = fields[column]
            if f.has_default():
                value = f.get_db_prep_save(f.get_default(), connection)
            elif f.null:
                value = None
            elif f.get_internal_type() in ("CharField", "TextField", "EmailField"):
                value = ""
            elif f.get_internal_type() == "BooleanField":
                value = False
            elif getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                value = _ts(END)
            else:
                raise SystemExit(f"{self.name}.{column}: no value and no default")
            tail.append(value)
        self.tail = tuple(tail)
        names = ", ".join(f'"{c}"' for c in [*columns, *rest])
        marks = ", ".join(["?"] * (len(columns) + len(rest)))
        self.sql = f'INSERT INTO "{self.name}" ({names}) VALUES ({marks})'
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        self.rows.append(values + self.tail)

    def flush(self, raw: Any) -> None:
        if self.rows:
            raw.executemany(self.sql, self.rows)
            self.rows = []


class Writer:
    """Writes what ``Generator`` makes into the SQLite database Django is configured with
    (migrated, empty): the team with the ORM, the mail with ``executemany``, 20,000 items a
    transaction. The search entries: ``madoguchi.search.text.tokens`` over the fields that
    ``madoguchi.search.index`` reads."""

    BATCH = 20_000

    def __init__(self, gen: Generator) -> None:
        from django.contrib.auth.models import User

        from madoguchi.accounts.models import Agent, Membership, Role
        from madoguchi.conversations.models import (
            Attachment,
            Contact,
            ContactAddress,
            Conversation,
            Message,
            Note,
            Tag,
        )
        from madoguchi.mailboxes.models import Mailbox
        from madoguchi.search.index import _addresses
        from madoguchi.search.models import Entry
        from madoguchi.search.text import tokens

        self.gen, self.tokens, self.addresses = gen, tokens, _addresses
        self.boxes = [Mailbox.objects.create(address=a, name=b).pk for a, b, _, _ in MAILBOXES]
        self.users = []
        for username, display in AGENTS:
            user = User.objects.create(username=username, password="!", email=f"{username}@x.jp")
            Agent.objects.create(user=user, display_name=display)
            self.users.append(user.pk)
        admin = User.objects.create(username=ADMIN, password="!", is_staff=True, is_superuser=True)
        Agent.objects.create(user=admin, role=Role.ADMIN, display_name="管理者")
        members = {(u, self.boxes[k % len(self.boxes)]) for k, u in enumerate(self.users)}
        members |= {(u, self.boxes[(k + 2) % len(self.boxes)]) for k, u in enumerate(self.users)}
        Membership.objects.bulk_create(Membership(user_id=u, mailbox_id=b) for u, b in members)
        self.tag_ids = {name: Tag.objects.create(name=name).pk for name in TAGS}
        self.contacts = Table(Contact, ["id", "name", "organization", "created_at"])
        self.addrs = Table(ContactAddress, ["contact_id", "email"])
        self.convs = Table(Conversation, [
            "id", "mailbox_id", "contact_id", "subject", "status", "assignee_id", "kind",
            "snippet", "message_count", "created_at", "last_activity_at", "waiting_since",
            "unread",
        ])  # fmt: skip
        self.conv_tags = Table(Conversation.tags.through, ["conversation_id", "tag_id"])
        self.messages = Table(Message, [
            "id", "mailbox_id", "conversation_id", "direction", "dedupe_key", "message_id",
            "in_reply_to", "subject", "from_name", "from_email", "to", "cc", "reply_to", "date",
            "received_at", "text", "reply_text", "kind", "thread_rule", "author_id",
        ])  # fmt: skip
        self.files = Table(Attachment, [
            "message_id", "filename", "content_type", "size", "sha256", "inline",
        ])  # fmt: skip
        self.notes = Table(Note, ["id", "conversation_id", "author_id", "text", "created_at"])
        self.entries = Table(Entry, [
            "id", "conversation_id", "mailbox_id", "message_id", "note_id", "kind", "at",
            "subject", "sender", "recipients", "body",
        ])  # fmt: skip
        self.contact_of = {id(who): i + 1 for i, who in enumerate(gen.customers)}
        self.last_mid: dict[int, str] = {}
        self.counts = dict.fromkeys(
            ["conversations", "messages", "notes", "tagged", "attachments", "entries"], 0
        )

    def _entry(self, d: dict[str, Any], message: int | None, note: int | None, kind: str,
               *fields: str) -> None:  # fmt: skip
        self.counts["entries"] += 1
        self.entries.add(self.counts["entries"], d["conversation"], self.boxes[d["mailbox"]],
                         message, note, kind, _ts(d["at"]), *fields)  # fmt: skip

    def conversation(self, d: dict[str, Any]) -> None:
        self.counts["conversations"] += 1
        assignee = self.users[d["assignee"]] if d["assignee"] is not None else None
        self.convs.add(d["id"], self.boxes[d["mailbox"]], self.contact_of[id(d["customer"])],
                       d["subject"], d["status"], assignee, "normal", d["snippet"],
                       d["message_count"], _ts(d["created_at"]), _ts(d["last_activity_at"]),
                       _ts(d["waiting_since"]) if d["waiting_since"] else None,
                       d["unread"])  # fmt: skip
        for name in d["tags"]:
            self.conv_tags.add(d["id"], self.tag_ids[name])

    def message(self, d: dict[str, Any]) -> None:
        self.counts["messages"] += 1
        mid = self.counts["messages"]
        who, (address, box_name, _, _) = d["customer"], MAILBOXES[d["mailbox"]]
        if d["inbound"]:
            from_name, from_email, to = who.name, who.email, [["", address]]
            author, direction = None, "in"
        else:
            agent = AGENTS[d["agent"]][1]
            from_name, from_email, to = f"{agent} ({box_name})", address, [[who.name, who.email]]
            author, direction = self.users[d["agent"]], "out"
        message_id = f"gen.{mid}@{from_email.split('@')[1]}"
        parent = self.last_mid.get(d["conversation"], "")
        self.last_mid[d["conversation"]] = message_id
        rule = "new" if d["k"] == 0 else ("in_reply_to" if direction == "in" else "own")
        at = _ts(d["at"])
        self.messages.add(mid, self.boxes[d["mailbox"]], d["conversation"], direction,
                          message_id, message_id, parent, d["subject"], from_name, from_email,
                          json.dumps(to, ensure_ascii=False), "[]", "[]", at, at, d["text"],
                          d["own"], "normal", rule, author)  # fmt: skip
        for name in d["files"]:
            self.counts["attachments"] += 1
            digest = hashlib.sha256(f"{mid}/{name}".encode()).hexdigest()
            kind = {"pdf": "application/pdf", "png": "image/png"}.get(name[-3:], "application/x")
            self.files.add(mid, name, kind, 20_000 + mid % 500_000, digest, False)
        tokens = self.tokens
        self._entry(d, mid, None, "message", tokens(d["subject"]),
                    tokens(f"{from_name} {from_email}"),
                    tokens(f"{self.addresses(to)} {self.addresses([])}"),
                    tokens("\n".join([d["text"], *d["files"]])))  # fmt: skip

    def note(self, d: dict[str, Any]) -> None:
        self.counts["notes"] += 1
        nid = self.counts["notes"]
        self.notes.add(nid, d["conversation"], self.users[d["agent"]], d["text"], _ts(d["at"]))
        self._entry(d, None, nid, "note", "", "", "", self.tokens(d["text"]))

    def tagged(self, d: dict[str, Any]) -> None:
        self.counts["tagged"] += 1
        self._entry(d, None, None, "tags", "", "", "", self.tokens(" ".join(d["tags"])))

    def run(self, progress: Callable[[str], None]) -> dict[str, Any]:
        from django.db import connection

        started = time.perf_counter()
        connection.ensure_connection()
        raw = connection.connection
        raw.execute("PRAGMA foreign_keys = OFF")  # checked once at the end
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -262144")
        for i, who in enumerate(self.gen.customers):
            self.contacts.add(i + 1, who.name, who.company, _ts(START))
            self.addrs.add(i + 1, who.email)
        tables = [self.contacts, self.addrs, self.convs, self.conv_tags, self.messages,
                  self.files, self.notes, self.entries]  # fmt: skip
        handlers = {"conversation": self.conversation, "message": self.message,
                    "note": self.note, "tags": self.tagged}  # fmt: skip
        step = max(self.gen.n // 10, 1)
        raw.execute("BEGIN")
        for count, (kind, data) in enumerate(self.gen.conversations(), 1):
            handlers[kind](data)
            if count % self.BATCH == 0:
                for table in tables:
                    table.flush(raw)
                raw.execute("COMMIT")
                raw.execute("BEGIN")
            if kind == "conversation" and data["id"] % step == 0:
                progress(f"    {data['id']:,} conversations, {self.counts['messages']:,} "
                         f"messages, {time.perf_counter() - started:.0f} s")  # fmt: skip
        for table in tables:
            table.flush(raw)
        raw.execute("COMMIT")
        raw.execute("PRAGMA foreign_keys = ON")
        problems = raw.execute("PRAGMA foreign_key_check").fetchmany(5)
        if problems:
            raise SystemExit(f"foreign keys broken: {problems}")
        raw.execute("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {**self.counts, "seconds": time.perf_counter() - started}


def write_sqlite(n: int, seed: int, *, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Generate and write; the counts written and the seconds it took."""
    return Writer(Generator(n, seed)).run(progress)


def verify(sample: int = 300, seed: int = 7) -> int:
    """Compare stored entries with what ``madoguchi.search.index`` makes of the same
    messages and notes; raise on a difference. Returns the number compared."""
    from madoguchi.conversations.models import Message, Note
    from madoguchi.search import index
    from madoguchi.search.models import Entry

    rng = random.Random(seed)
    top = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    wanted = sorted({rng.randrange(1, top + 1) for _ in range(sample)}) if top else []
    made = index.message_entries(list(Message.objects.filter(pk__in=wanted)))
    stored: dict[Any, Any] = {e.message_id: e for e in Entry.objects.filter(message_id__in=wanted)}
    notes = list(Note.objects.select_related("conversation").order_by("pk")[:50])
    made += index.note_entries(notes)
    for e in Entry.objects.filter(note_id__in=[x.pk for x in notes]):
        stored["n", e.note_id] = e
    fields = ("conversation_id", "mailbox_id", "kind", "at", "subject", "sender", "recipients",
              "body")  # fmt: skip
    for entry in made:
        key = entry.message_id if entry.message_id else ("n", entry.note_id)
        have = stored.get(key)
        if have is None:
            raise SystemExit(f"no stored entry for {key}")
        for name in fields:
            if getattr(have, name) != getattr(entry, name):
                raise SystemExit(f"entry {key}: {name} differs:\n stored {getattr(have, name)!r}"
                                 f"\n index  {getattr(entry, name)!r}")  # fmt: skip
    return len(made)


def copy_to_postgres(sqlite_path: str, *, progress: Callable[[str], None] = print) -> None:
    """Copy the generated rows from ``sqlite_path`` into the (migrated, empty) PostgreSQL
    database Django is configured with: ``COPY`` per table (foreign key triggers off while
    copying), then the GIN index built once, then ``VACUUM ANALYZE``."""
    import sqlite3

    from django.db import connection

    tables = [
        "mailboxes_mailbox", "auth_user", "accounts_agent", "accounts_membership",
        "conversations_tag", "conversations_contact", "conversations_contactaddress",
        "conversations_conversation", "conversations_conversation_tags",
        "conversations_message", "conversations_attachment", "conversations_note",
        "search_entry",
    ]  # fmt: skip
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    connection.ensure_connection()
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f'SELECT count(*) FROM "{table}"')
            if cur.fetchone()[0]:
                raise SystemExit(f"{table} is not empty in PostgreSQL after migrate")
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("DROP INDEX IF EXISTS search_entry_tsv")
        for table in tables:
            t = time.perf_counter()
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND is_generated = 'NEVER'",
                [table],
            )
            pg_columns = {row[0] for row in cur.fetchall()}
            columns = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
            names = ", ".join(f'"{c}"' for c in columns if c in pg_columns)
            rows = 0
            with cur.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in src.execute(f'SELECT {names} FROM "{table}"'):
                    copy.write_row(row)
                    rows += 1
            progress(f"    copied {table}: {rows:,} rows in {time.perf_counter() - t:.0f} s")
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cur.fetchone()[0]
            if sequence:
                cur.execute(f'SELECT setval(%s, (SELECT coalesce(max(id), 1) FROM "{table}"))',
                            [sequence])  # fmt: skip
        t = time.perf_counter()
        cur.execute("CREATE INDEX search_entry_tsv ON search_entry USING gin (tsv)")
        progress(f"    GIN index built in {time.perf_counter() - t:.0f} s")
        cur.execute("SET session_replication_role = DEFAULT")
    src.close()
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    progress(f"    VACUUM ANALYZE in {time.perf_counter() - t:.0f} s")
