"""Invented people made with Faker: the ``PeopleSource`` of ``neodyme seed --realistic``,
of the load test (bench/locustfile.py) and of the test builders (tests/support/builders.py).

Realistic means what a sign-up form really receives, so that a load test or a test suite
meets it before users do:

- names in many languages and scripts (``LOCALE_WEIGHTS``): accents, CJK, Hangul,
  Cyrillic, Devanagari, right-to-left Arabic, Persian and Hebrew, family-name-first
  orders, and the apostrophes and hyphens that Faker's lists rarely give (O'Brien,
  Jean-Luc, d'Artagnan, Smith-Jones: added on purpose, ``_with_punctuation``);
- addresses as people have them: dots, digits, initials, plus-tags, mixed case
  (``LOCAL_PATTERNS``), on a few dominant providers and a long tail of national and
  company domains (``GLOBAL_PROVIDERS``, ``NATIONAL_SHARE``, ``COMPANY_SHARE``);
- passwords of the kinds people use (a password manager's, a passphrase, a memorable word
  with a year), each distinct and each accepted by the password policy given; a kind the
  policy refuses (a short memorable one under the NIST profile, a common one on the
  blocklist) is drawn again.

The weights are assumptions, not measurements of real sign-ups: change them to fit a user
base. Deterministic: a stream is a function of its seed (each person reseeds Faker from
the stream's own ``random.Random``), so two streams never disturb each other.

Faker is an optional dependency (the ``realistic`` extra): a server never imports this.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from neodyme_domain.errors import WeakPassword
from neodyme_domain.passwords import PasswordPolicy, normalise
from neodyme_domain.ports import Person

MISSING_FAKER = (
    "realistic people need Faker and tqdm, which neodyme does not install by default:"
    " pip install 'neodyme[realistic]'"
)

try:
    from faker import Faker
    from faker.decode import unidecode
except ImportError as exc:  # pragma: no cover - the extra is installed wherever tests run
    raise ImportError(MISSING_FAKER) from exc


LOCALE_WEIGHTS: Mapping[str, int] = {
    # Latin script, with and without accents: about seven in ten.
    "en_US": 20,
    "en_GB": 6,
    "en_IE": 3,
    "fr_FR": 7,
    "de_DE": 7,
    "es_ES": 5,
    "pt_BR": 6,
    "it_IT": 4,
    "pl_PL": 3,
    "vi_VN": 4,
    "tr_TR": 2,
    # Other scripts: Han, kanji and kana, Hangul, Cyrillic, Devanagari, right-to-left.
    "zh_CN": 8,
    "ja_JP": 5,
    "ko_KR": 4,
    "ru_RU": 4,
    "hi_IN": 4,
    "ar_AA": 4,
    "fa_IR": 2,
    "he_IL": 2,
}
"""Percent of people per Faker locale: an international consumer service whose users are
mostly, not only, in Latin-script countries; every script is frequent enough to appear in
a few dozen people."""

GLOBAL_PROVIDERS: Mapping[str, int] = {
    "gmail.com": 43,
    "yahoo.com": 8,
    "outlook.com": 7,
    "hotmail.com": 6,
    "icloud.com": 5,
    "aol.com": 2,
    "proton.me": 1,
}
"""Percent of addresses at the big free providers (72% in all). Ordered as the providers'
own published account counts (Gmail about 1.8 billion; Yahoo and Outlook/Hotmail a few
hundred million each; iCloud, AOL and Proton fewer), with Gmail given about half of the
sign-ups as consumer sites commonly report. Rounded assumptions, not a measurement."""

NATIONAL_SHARE = 16
"""Percent at a provider of the person's country (Faker's list for the locale, plus
``NATIONAL_PROVIDERS``): orange.fr, web.de, qq.com, naver.com, mail.ru..."""

COMPANY_SHARE = 12
"""Percent at a work or organisation domain: Faker's company domains of the locale, the
long tail where hardly two people share a domain."""

NATIONAL_PROVIDERS: Mapping[str, tuple[str, ...]] = {
    "en_US": ("comcast.net", "att.net", "verizon.net", "sbcglobal.net"),
    "en_IE": ("eircom.net",),
    "es_ES": ("hotmail.es", "yahoo.es", "telefonica.net"),
    "vi_VN": ("yahoo.com.vn",),
    "zh_CN": ("qq.com", "163.com", "126.com", "sina.com"),
    "ja_JP": ("yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp"),
    "hi_IN": ("rediffmail.com",),
    "he_IL": ("walla.co.il",),
}
"""Big national providers missing from Faker's lists for these locales."""

LOCAL_PATTERNS: tuple[tuple[str, int], ...] = (
    ("{given}.{family}", 30),
    ("{given}{family}", 12),
    ("{initial}{family}", 10),
    ("{given}.{family}{nn}", 10),
    ("{given}{family}{nn}", 8),
    ("{given}{year}", 6),
    ("{initial}.{family}", 5),
    ("{family}.{given}", 5),
    ("{given}_{family}", 4),
    ("{family}{initial}", 4),
    ("{nickname}", 4),
    ("{given}", 2),
)
"""Local parts by the person's (transliterated) name, in percent."""

MIXED_CASE = 0.15
"""Share of local parts typed with capitals (``Jean.Dupont``, ``JDupont``): the address
keeps them, and the account must still be found in any case."""

UPPER_CASE = 0.03
PLUS_TAG = 0.07
"""Share of addresses with a sub-address (``ada+news@``), which is a different account."""

PLUS_TAGS = ("news", "shop", "work", "signup", "neodyme", "promo", "2024", "spam")

PASSWORD_KINDS: tuple[tuple[str, int], ...] = (
    ("manager", 50),
    ("passphrase", 35),
    ("memorable", 15),
)
"""A password manager's random string, a few words (in the person's language, so some
are not ASCII), a name and a year: percent of people for each."""

_PROVIDERS = tuple(
    f"faker.providers.{name}"
    for name in ("person", "internet", "lorem", "company", "misc", "date_time")
)
"""The providers used: loading only these makes a locale three times cheaper to load."""

_DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
_NOT_IN_WORD = re.compile(r"[^a-z0-9'-]+")
_VOWELS = frozenset("AEIOUYÂÉÈÊÎÔÛaeiouy")
_SPECIALS = "!#$%&*?@-_."
_MAX_LOCAL_PART = 64


@cache
def _faker(locale: str) -> Faker:
    """One Faker per locale per process, made on first use: loading one costs ~5 ms."""
    return Faker(locale, providers=list(_PROVIDERS))


class FakerPeople:
    """The ``PeopleSource`` of realistic people whose passwords pass ``policy``."""

    def __init__(
        self, policy: PasswordPolicy, *, locales: Mapping[str, int] = LOCALE_WEIGHTS
    ) -> None:
        self._policy = policy
        self._locales = list(locales)
        self._locale_weights = list(locales.values())

    def people(self, seed: int) -> Iterator[Person]:
        # Not a secure generator, on purpose: the same seed must give the same people. The
        # passwords are therefore known to anyone with the seed: test accounts only.
        rng = random.Random(seed)  # noqa: S311
        addresses: set[str] = set()
        passwords: set[str] = set()
        while True:
            locale = rng.choices(self._locales, self._locale_weights)[0]
            fake = _faker(locale)
            fake.seed_instance(rng.getrandbits(64))
            name = _name(fake, locale, rng)
            email = _unique_address(fake, locale, name, rng, addresses)
            password = self._password(fake, name, rng, passwords)
            yield Person(full_name=name.full, email=email, password=password)

    def _password(self, fake: Faker, name: _Name, rng: random.Random, seen: set[str]) -> str:
        """A password of a drawn kind that the policy accepts and nobody in the stream has.
        Refused kinds are drawn again; from the tenth attempt on, only a password manager's
        string, longer each time, so that any policy with a length rule is met."""
        for attempt in range(40):
            kind = "manager" if attempt >= 10 else _weighted(rng, PASSWORD_KINDS)
            password = _PASSWORD_MAKERS[kind](fake, name, rng, 8 * max(0, attempt - 9))
            if normalise(password) in seen:
                continue
            try:
                self._policy.check(password)
            except WeakPassword:
                continue
            seen.add(normalise(password))
            return password
        raise RuntimeError("the password policy refused every password made for it")


@dataclass(frozen=True, slots=True)
class _Name:
    """A person's name as shown, and its parts as typed into an address (ASCII)."""

    full: str
    given_ascii: str
    family_ascii: str


TWO_FAMILY_NAMES = {"es_ES": 0.6, "pt_BR": 0.3}
"""Share of people with two family names (Spanish and Portuguese naming)."""


def _name(fake: Faker, locale: str, rng: random.Random) -> _Name:
    female = rng.random() < 0.5
    if locale == "ja_JP":  # kanji with the matching romanisation, for the address
        pair = fake.first_name_female_pair() if female else fake.first_name_male_pair()
        given, _, given_latin = pair
        family, _, family_latin = fake.last_name_pair()
        return _Name(f"{family} {given}", _ascii(given_latin), _ascii(family_latin))
    draw_given = fake.first_name_female if female else fake.first_name_male
    draw_family = fake.last_name_female if female else fake.last_name_male
    given, family = _with_punctuation(locale, rng, draw_given, draw_family)
    shown_family = family
    if rng.random() < TWO_FAMILY_NAMES.get(locale, 0.0):
        shown_family = f"{family} {draw_family()}"
    if locale == "vi_VN":  # family name first, then middle and given: Nguyễn Văn An
        full = f"{shown_family} {fake.middle_name()} {given}"
    elif locale in ("zh_CN", "ko_KR"):  # family name first, no space: 王伟, 김민준
        full = f"{shown_family}{given}"
    else:
        full = f"{given} {shown_family}"
    return _Name(full, _ascii(given), _ascii(family))


PUNCTUATED_NAMES: Mapping[str, tuple[tuple[str, float], ...]] = {
    "fr_FR": (("compound_given", 0.15), ("elided_family", 0.05), ("double_family", 0.04)),
    "it_IT": (("elided_family", 0.05),),
    "en_GB": (("double_family", 0.04),),
    "de_DE": (("double_family", 0.04),),
    "en_US": (("irish_family", 0.03),),
}
"""How often a name is given the punctuation its language has and Faker's lists rarely
do (assumed rates): French compound given names (Jean-Luc), elided particles (d'Artagnan,
D'Angelo), double-barrelled family names (Smith-Jones), Irish names in the United States
(O'Brien). en_IE and en_GB already give O'-names, de_DE hyphenated given names."""

_ELISION = {"fr_FR": "d'", "it_IT": "D'"}


def _with_punctuation(
    locale: str, rng: random.Random, draw_given: Callable[[], str], draw_family: Callable[[], str]
) -> tuple[str, str]:
    given, family = draw_given(), draw_family()
    roll = rng.random()
    for kind, share in PUNCTUATED_NAMES.get(locale, ()):
        if roll >= share:
            roll -= share
            continue
        if kind == "compound_given":
            given = f"{given}-{_first(draw_given, given.__ne__) or given}"
        elif kind == "elided_family":
            vowel_initial = _first(draw_family, lambda name: name[0] in _VOWELS)
            family = _ELISION[locale] + vowel_initial if vowel_initial else family
        elif kind == "double_family":
            family = f"{family}-{_first(draw_family, family.__ne__) or family}"
        else:
            irish = _faker("en_IE")
            irish.seed_instance(rng.getrandbits(64))  # from this stream too: deterministic
            family = _first(irish.last_name, lambda name: "'" in name) or family
        break
    return given, family


def _first(draw: Callable[[], str], wanted: Callable[[str], bool]) -> str | None:
    for _ in range(60):
        if wanted(candidate := draw()):
            return candidate
    return None


def _ascii(text: str) -> str:
    """The name as typed on a Latin keyboard: transliterated, lower case, letters and digits
    with the inner hyphens and apostrophes; spaces closed up (Da Silva: dasilva)."""
    return _NOT_IN_WORD.sub("", unidecode(text).lower()).strip("'-")


def _unique_address(
    fake: Faker, locale: str, name: _Name, rng: random.Random, seen: set[str]
) -> str:
    for attempt in range(100):
        address = f"{_local_part(fake, name, rng, attempt)}@{_domain(fake, locale, rng)}"
        if address.lower() not in seen:
            seen.add(address.lower())
            return address
    raise RuntimeError("no unused address found in 100 attempts")


def _local_part(fake: Faker, name: _Name, rng: random.Random, attempt: int) -> str:
    given, family = name.given_ascii, name.family_ascii
    if rng.random() > 0.3:  # the apostrophe is usually left out of the address
        given, family = given.replace("'", ""), family.replace("'", "")
    pattern = _weighted(rng, LOCAL_PATTERNS)
    if not given or not family:  # nothing left after transliteration: a nickname
        pattern = "{nickname}"
    local = pattern.format(
        given=given,
        family=family,
        initial=given[:1],
        nn=rng.randint(1, 99),
        year=rng.randint(1950, 2010),
        nickname=fake.user_name() if "{nickname}" in pattern else "",
    )
    if attempt:  # taken in this stream: add digits, as the provider would have asked
        local += str(rng.randint(1, 10 ** min(attempt + 1, 6)))
    local = _cased(local, rng)[: _MAX_LOCAL_PART - 12].strip(".-_'")
    if rng.random() < PLUS_TAG:
        local += "+" + rng.choice(PLUS_TAGS)
    return local


def _cased(local: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < UPPER_CASE:
        return local.upper()
    if roll < UPPER_CASE + MIXED_CASE:
        return re.sub(r"[a-z]+", lambda word: word.group().capitalize(), local)
    return local


def _domain(fake: Faker, locale: str, rng: random.Random) -> str:
    roll = rng.random() * 100
    if roll < NATIONAL_SHARE:
        national = [*NATIONAL_PROVIDERS.get(locale, ()), fake.free_email_domain()]
        domain = rng.choice([d for d in national if d not in GLOBAL_PROVIDERS] or national)
    elif roll < NATIONAL_SHARE + COMPANY_SHARE:
        domain = fake.domain_name()
    else:
        domain = _weighted(rng, tuple(GLOBAL_PROVIDERS.items()))
    return domain if _DOMAIN.match(domain) else "gmail.com"


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _ in choices], [weight for _, weight in choices])[0]


def _manager_password(fake: Faker, name: _Name, rng: random.Random, longer: int) -> str:
    return str(fake.password(length=rng.randint(14, 24) + longer))


def _passphrase(fake: Faker, name: _Name, rng: random.Random, longer: int) -> str:
    words = [str(word) for word in fake.words(nb=rng.randint(3, 5))]
    capital = rng.randrange(len(words))
    words[capital] = words[capital].capitalize()
    return rng.choice("-. _").join(words) + str(rng.randint(1, 99))


def _memorable(fake: Faker, name: _Name, rng: random.Random, longer: int) -> str:
    word = name.given_ascii.replace("'", "").replace("-", "") or str(fake.word())
    return f"{word.capitalize()}{rng.randint(1950, 2024)}{rng.choice(_SPECIALS)}"


_PASSWORD_MAKERS: Mapping[str, Callable[[Faker, _Name, random.Random, int], str]] = {
    "manager": _manager_password,
    "passphrase": _passphrase,
    "memorable": _memorable,
}
