"""A synthetic, labelled screening corpus: listed entries for the four lists, and the probes a benchmark or a
test screens, each labelled with the entry it must find (positives) or with none (negatives).

Synthetic because there is no network where the benchmark runs and because the labels must be certain: a
positive is made from a listed entry by one variation screening has to survive (another transliteration,
reordered parts, an initial, a dropped or added middle name, diacritics removed, a title, a one-letter typo,
an alias, a date of birth known only by year or range), a negative is a clean name close to a listed one
(the same family name with another given name, the same given name with another family name, a common name,
a namesake born far from the listed date, a listed organisation's name screened as a person). Negatives are
checked against every listed name: none of them is a listed person under another order or with a middle name
left out. Everything is drawn from a seeded generator, so runs compare.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from anyascii import anyascii
from rapidfuzz.distance import OSA

from django_kyc.models.sanctions import EntryKind, NameType
from django_kyc.sanctions.names import name_tokens
from django_kyc.sanctions.records import ListedEntry, ListedName, PartialDate
from tests.support import screening_pools as pools

#: The lists and their share of the corpus.
SOURCES = (("ofac_sdn", 0.4), ("un_sc", 0.1), ("eu_fsf", 0.25), ("uk_sl", 0.25))
TITLES = ("Dr.", "Sheikh", "General", "Mr", "Colonel", "Haji", "Prof.")


@dataclass
class Listed:
    """A generated listed entry, with the parts the variations need."""

    source: str
    source_id: str
    culture: str
    given: list[str]
    middle: list[str]
    family: list[str]
    original: str = ""  # the name in its own script, where the culture has one
    transliterated: str = ""  # what an applicant's software makes of ``original``
    aliases: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)
    dob: PartialDate | None = None
    nationality: str = ""
    kind: str = EntryKind.PERSON

    @property
    def primary(self) -> str:
        return " ".join([*self.given, *self.middle, *self.family])

    def record(self) -> ListedEntry:
        names = [ListedName(self.primary)]
        names += [ListedName(alias, NameType.ALIAS) for alias in self.aliases]
        names += [ListedName(alias, NameType.ALIAS, weak=True) for alias in self.weak]
        if self.original:
            names.append(ListedName(self.original, NameType.ORIGINAL_SCRIPT))
        return ListedEntry(
            source_id=self.source_id,
            kind=self.kind,
            names=names,
            dobs=[self.dob] if self.dob else [],
            nationalities=[self.nationality] if self.nationality else [],
        )


@dataclass(frozen=True)
class Probe:
    """One screening and its label: ``expected`` is (source, source_id) for a positive, ``None`` for a negative."""

    variation: str
    first: str
    last: str
    middle: str = ""
    born: date | None = None
    nationality: str = ""
    expected: tuple[str, str] | None = None


def _pick(rng: random.Random, items: Sequence[str]) -> str:
    return items[rng.randrange(len(items))]


def _patronymic(cyrillic_given: str) -> str:
    return cyrillic_given[:-1] + "евич" if cyrillic_given.endswith("й") else cyrillic_given + "ович"


def _arabic(rng: random.Random) -> Listed:
    given, father = rng.sample(pools.ARABIC_GIVEN, 2)
    family = _pick(rng, pools.ARABIC_FAMILY)
    person = Listed(
        "", "", "arabic", [given], [father], [family], nationality=_pick(rng, ["IQ", "SY", "YE", "SA", "LY", "LB"])
    )
    if rng.random() < 0.3:
        person.aliases.append(f"{given} bin {father} al-{family}")
    if rng.random() < 0.3:
        person.weak.append(f"Abu {_pick(rng, pools.ARABIC_GIVEN)}")
    return person


def _cyrillic(rng: random.Random) -> Listed:
    given, father = rng.sample(pools.RUSSIAN_GIVEN, 2)
    family = _pick(rng, pools.RUSSIAN_FAMILY)
    original = f"{given} {_patronymic(father)} {family}"
    latin = pools.romanise(original).split()
    person = Listed(
        "", "", "cyrillic", latin[:1], latin[1:2], latin[2:], original=original, transliterated=anyascii(original)
    )
    person.nationality = _pick(rng, ["RU", "RU", "UA", "BY"])
    return person


def _syllabic(
    rng: random.Random,
    family_pool: Sequence[tuple[str, str]],
    syllables: Sequence[tuple[str, str]],
    culture: str,
    nationality: str,
    joined: bool,
) -> Listed:
    family = family_pool[rng.randrange(len(family_pool))]
    first, second = rng.sample(list(syllables), 2)
    latin_given = [first[1] + second[1].lower()] if joined else [first[1], second[1]]
    original = family[0] + first[0] + second[0]
    person = Listed("", "", culture, latin_given, [], [family[1]], original=original, transliterated=original)
    person.nationality = nationality
    return person


def _two_part(
    culture: str,
    given_pool: Sequence[str],
    family_pool: Sequence[str],
    countries: str,
    middle: float = 0.0,
    double_family: float = 0.0,
) -> Callable[[random.Random], Listed]:
    def make(rng: random.Random) -> Listed:
        given = [_pick(rng, given_pool)]
        middle_names = [_pick(rng, given_pool)] if rng.random() < middle else []
        family = rng.sample(list(family_pool), 2 if rng.random() < double_family else 1)
        person = Listed("", "", culture, given, middle_names, family, nationality=_pick(rng, countries.split()))
        if rng.random() < 0.15:
            person.weak.append(f"{_pick(rng, given_pool)}o")  # a nickname
        return person

    return make


def _organisation(rng: random.Random) -> Listed:
    owner = _pick(rng, [*pools.ARABIC_FAMILY, *pools.PERSIAN_FAMILY, *pools.ENGLISH_FAMILY])
    words = rng.sample(pools.ORGANISATION_WORDS, 2)
    name = f"{owner} {' '.join(words)} {_pick(rng, pools.ORGANISATION_FORMS)}"
    return Listed("", "", "organisation", [name], [], [], kind=EntryKind.ORGANISATION)


#: (culture maker, share of the corpus)
CULTURES: tuple[tuple[Callable[[random.Random], Listed], float], ...] = (
    (_arabic, 0.22),
    (_cyrillic, 0.16),
    (lambda rng: _syllabic(rng, pools.CHINESE_FAMILY, pools.CHINESE_SYLLABLES, "chinese", "CN", True), 0.07),
    (lambda rng: _syllabic(rng, pools.KOREAN_FAMILY, pools.KOREAN_SYLLABLES, "korean", "KP", False), 0.05),
    (_two_part("persian", pools.PERSIAN_GIVEN, pools.PERSIAN_FAMILY, "IR", middle=0.1), 0.1),
    (_two_part("hispanic", pools.HISPANIC_GIVEN, pools.HISPANIC_FAMILY, "VE CO MX CU BR", 0.3, 0.6), 0.12),
    (_two_part("west_african", pools.WEST_AFRICAN_GIVEN, pools.WEST_AFRICAN_FAMILY, "NG GH ML SN SL", 0.2), 0.1),
    (_two_part("english", pools.ENGLISH_GIVEN, pools.ENGLISH_FAMILY, "GB US", middle=0.5), 0.08),
    (_organisation, 0.1),
)


def _dob(rng: random.Random) -> PartialDate | None:
    roll = rng.random()
    year = rng.randrange(1940, 1996)
    if roll < 0.35:
        return PartialDate(year, rng.randrange(1, 13), rng.randrange(1, 29))
    if roll < 0.55:
        return PartialDate(year)
    if roll < 0.62:
        return PartialDate(year, year_to=year + 2)
    if roll < 0.72:
        return PartialDate(year, circa=True)
    return None


def corpus(size: int, seed: int = 16) -> list[Listed]:
    """``size`` listed entries across the four lists."""
    rng = random.Random(seed)
    makers = [maker for maker, _ in CULTURES]
    weights = [share for _, share in CULTURES]
    sources = [source for source, _ in SOURCES]
    source_weights = [share for _, share in SOURCES]
    entries = []
    for number in range(size):
        person = rng.choices(makers, weights)[0](rng)
        person.source = rng.choices(sources, source_weights)[0]
        person.source_id = str(10000 + number)
        if person.kind == EntryKind.PERSON:
            person.dob = _dob(rng)
        entries.append(person)
    return entries


def by_source(entries: Sequence[Listed]) -> dict[str, list[ListedEntry]]:
    grouped: dict[str, list[ListedEntry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.source].append(entry.record())
    return grouped


# --- probes -----------------------------------------------------------------------------------------------
def _born(rng: random.Random, dob: PartialDate | None) -> date:
    """An applicant's full date of birth consistent with the listed one (or any, when none is listed)."""
    if dob is None:
        return date(rng.randrange(1940, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
    if dob.month and dob.day:
        return date(dob.year, dob.month, dob.day)
    year = rng.randrange(dob.year, (dob.year_to or dob.year) + 1)
    if dob.circa:
        year += rng.choice((-1, 0, 1))
    return date(year, rng.randrange(1, 13), rng.randrange(1, 29))


def _typo(rng: random.Random, word: str) -> str:
    """One letter substituted, dropped or two swapped, never the first (typists rarely miss that one)."""
    if len(word) < 5:
        return word
    index = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        letter = rng.choice([c for c in "aeioulnrst" if c != word[index].lower()])
        return word[:index] + letter + word[index + 1 :]
    if kind == 1:
        return word[:index] + word[index + 1 :]
    return word[:index] + word[index + 1] + word[index] + word[index + 2 :]


def _strip_diacritics(text: str) -> str:
    return anyascii(text)


def _variations(person: Listed, rng: random.Random) -> Iterator[tuple[str, str, str, str]]:
    """(variation, first, middle, last) forms of a listed person an applicant might give."""
    given, middle, family = " ".join(person.given), " ".join(person.middle), " ".join(person.family)
    yield "as listed", given, middle, family
    if person.transliterated:
        if person.culture == "cyrillic":
            parts = person.transliterated.split()
            yield "transliterated from the original script", parts[0], "", parts[-1]
        else:
            yield "original script", "", "", person.original
    yield "name parts reordered", family, "", given
    yield "initials for the given name", " ".join(f"{word[0]}." for word in person.given), middle, family
    if middle:
        yield "middle name dropped", given, "", family
    else:
        yield "middle name added", given, _pick(rng, pools.ENGLISH_GIVEN), family
    if _strip_diacritics(person.primary) != person.primary:
        yield "diacritics removed", _strip_diacritics(given), _strip_diacritics(middle), _strip_diacritics(family)
    yield "title added", f"{_pick(rng, TITLES)} {given}", middle, family
    longest = max(person.family, key=len)
    typo = _typo(rng, longest)
    if typo != longest:
        yield "one-letter typo", given, middle, family.replace(longest, typo)
    for alias in person.aliases:
        yield "alias instead of the primary name", "", "", alias


def positives(entries: Sequence[Listed], count: int, seed: int = 61) -> list[Probe]:
    """``count`` positive probes: listed persons under each variation in turn."""
    rng = random.Random(seed)
    people = [entry for entry in entries if entry.kind == EntryKind.PERSON]
    probes: list[Probe] = []
    while len(probes) < count:
        person = _pick_person(rng, people)
        forms = list(_variations(person, rng))
        variation, first, middle, last = forms[len(probes) % len(forms)]
        born = _born(rng, person.dob)
        nationality = person.nationality if rng.random() < 0.8 else _pick(rng, ["GB", "FR", "DE", "TR", "AE"])
        if person.dob and not (person.dob.month and person.dob.day) and variation == "as listed":
            variation = "date of birth known by year or range"
        probes.append(Probe(variation, first, last, middle, born, nationality, (person.source, person.source_id)))
    return probes


def _pick_person(rng: random.Random, people: Sequence[Listed]) -> Listed:
    return people[rng.randrange(len(people))]


class _Listed:
    """The listed names, to keep negatives clean: a negative must not be a positive under the variations the
    positives use (any order, words left out or added, a one-letter difference per word, spaces moved)."""

    def __init__(self, entries: Sequence[Listed]) -> None:
        self.names: list[list[str]] = []
        self.entries: list[Listed] = []
        for entry in entries:
            for text in (entry.primary, *entry.aliases, entry.transliterated, entry.original):
                if text and name_tokens(text):
                    self.names.append(name_tokens(text))
                    self.entries.append(entry)
        self.by_token: dict[str, list[int]] = defaultdict(list)
        self.by_joined: dict[str, list[int]] = defaultdict(list)
        for index, tokens in enumerate(self.names):
            self.by_joined["".join(tokens)].append(index)
            for token in set(tokens):
                self.by_token[token].append(index)

    def matching(self, text: str) -> set[str]:
        """The source ids of the entries ``text`` is a variation of."""
        tokens = name_tokens(text)
        found = {self.entries[index].source_id for index in self.by_joined.get("".join(tokens), ())}
        found |= {self.entries[index].source_id for index in self.by_joined.get("".join(reversed(tokens)), ())}
        nearby = {index for token in tokens for index in self.by_token.get(token, ())}
        for index in nearby:
            listed = self.names[index]
            if _covered(tokens, listed) or (len(listed) >= 2 and _covered(listed, tokens)):
                found.add(self.entries[index].source_id)
        return found


def _covered(words: Sequence[str], others: Sequence[str]) -> bool:
    """Every word of ``words`` is one of ``others`` or one letter away from one."""
    return all(any(OSA.distance(word, other) <= 1 for other in others) for word in words)


def _pools(person: Listed) -> tuple[Sequence[str], Sequence[str]]:
    return {
        "arabic": (pools.ARABIC_GIVEN, pools.ARABIC_FAMILY),
        "cyrillic": (
            [pools.romanise(g) for g in pools.RUSSIAN_GIVEN],
            [pools.romanise(f) for f in pools.RUSSIAN_FAMILY],
        ),
        "persian": (pools.PERSIAN_GIVEN, pools.PERSIAN_FAMILY),
        "hispanic": (pools.HISPANIC_GIVEN, pools.HISPANIC_FAMILY),
        "west_african": (pools.WEST_AFRICAN_GIVEN, pools.WEST_AFRICAN_FAMILY),
        "english": (pools.ENGLISH_GIVEN, pools.ENGLISH_FAMILY),
        "chinese": (
            [s[1] + t[1].lower() for s in pools.CHINESE_SYLLABLES[:10] for t in pools.CHINESE_SYLLABLES[10:20]],
            [f[1] for f in pools.CHINESE_FAMILY],
        ),
        "korean": ([s[1] for s in pools.KOREAN_SYLLABLES], [f[1] for f in pools.KOREAN_FAMILY]),
    }[person.culture]


def negatives(entries: Sequence[Listed], count: int, seed: int = 62) -> list[Probe]:
    """``count`` negative probes, the kinds in turn, none of them a listed person."""
    rng = random.Random(seed)
    listed = _Listed(entries)
    people = [entry for entry in entries if entry.kind == EntryKind.PERSON]
    organisations = [entry for entry in entries if entry.kind == EntryKind.ORGANISATION]
    probes: list[Probe] = []
    kinds = ("same family name", "same given name", "common name", "namesake born far apart", "organisation name")
    while len(probes) < count:
        kind = kinds[len(probes) % len(kinds)]
        person = _pick_person(rng, people)
        born = date(rng.randrange(1940, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
        probe: Probe | None = None
        if kind == "organisation name" and organisations:
            name = _pick_person(rng, organisations).primary.rsplit(" ", 1)
            probe = Probe(kind, name[0], name[1], born=born)
        elif kind == "namesake born far apart":
            given, family = " ".join(person.given), " ".join(person.family)
            if person.dob is None or listed.matching(f"{given} {family}") != {person.source_id}:
                continue  # another listed person of that name could be born then: not a clean negative
            far = person.dob.year + rng.choice((-1, 1)) * rng.randrange(6, 25)
            probe = Probe(kind, given, family, born=date(far, 6, 15))
        else:
            given_pool, family_pool = _pools(person)
            given, family = " ".join(person.given), " ".join(person.family)
            if kind == "same family name":
                given = _pick(rng, given_pool)
            elif kind == "same given name":
                family = _pick(rng, family_pool)
            else:
                given, family = _pick(rng, given_pool), _pick(rng, family_pool)
            if listed.matching(f"{given} {family}"):
                continue
            probe = Probe(kind, given, family, born=born, nationality=person.nationality)
        if probe is not None:
            probes.append(replace(probe))
    return probes
