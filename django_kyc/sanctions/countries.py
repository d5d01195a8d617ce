"""Country names and demonyms as lists write them, mapped to ISO 3166-1 alpha-2.

pycountry (LGPL-2.1, ISO 3166 data kept in step with the standard) resolves names, official names, common
names and codes; the small table below holds what it cannot: demonyms ("Iraqi") and the lists' own wordings
("Congo (Democratic Republic)", "USSR (until 1991)"). What maps to nothing returns ``None`` and the caller keeps
the original wording in the entry's ``raw``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

#: Demonyms and list wordings pycountry does not know, folded to lower case.
_EXTRA: dict[str, str] = {
    "afghan": "AF",
    "albanian": "AL",
    "algerian": "DZ",
    "american": "US",
    "angolan": "AO",
    "argentinian": "AR",
    "armenian": "AM",
    "australian": "AU",
    "austrian": "AT",
    "azerbaijani": "AZ",
    "bahraini": "BH",
    "bangladeshi": "BD",
    "belarusian": "BY",
    "belgian": "BE",
    "bosnian": "BA",
    "brazilian": "BR",
    "british": "GB",
    "bulgarian": "BG",
    "burmese": "MM",
    "burundian": "BI",
    "cambodian": "KH",
    "cameroonian": "CM",
    "canadian": "CA",
    "central african": "CF",
    "chadian": "TD",
    "chilean": "CL",
    "chinese": "CN",
    "colombian": "CO",
    "congolese": "CD",
    "croatian": "HR",
    "cuban": "CU",
    "cypriot": "CY",
    "czech": "CZ",
    "danish": "DK",
    "dutch": "NL",
    "egyptian": "EG",
    "emirati": "AE",
    "eritrean": "ER",
    "estonian": "EE",
    "ethiopian": "ET",
    "filipino": "PH",
    "finnish": "FI",
    "french": "FR",
    "georgian": "GE",
    "german": "DE",
    "ghanaian": "GH",
    "greek": "GR",
    "guinean": "GN",
    "haitian": "HT",
    "hungarian": "HU",
    "indian": "IN",
    "indonesian": "ID",
    "iranian": "IR",
    "iraqi": "IQ",
    "irish": "IE",
    "israeli": "IL",
    "italian": "IT",
    "jamaican": "JM",
    "japanese": "JP",
    "jordanian": "JO",
    "kazakh": "KZ",
    "kenyan": "KE",
    "korean": "KR",
    "kuwaiti": "KW",
    "kyrgyz": "KG",
    "lao": "LA",
    "latvian": "LV",
    "lebanese": "LB",
    "liberian": "LR",
    "libyan": "LY",
    "lithuanian": "LT",
    "malaysian": "MY",
    "malian": "ML",
    "mauritanian": "MR",
    "mexican": "MX",
    "moldovan": "MD",
    "mongolian": "MN",
    "montenegrin": "ME",
    "moroccan": "MA",
    "nepalese": "NP",
    "nicaraguan": "NI",
    "nigerian": "NG",
    "nigerien": "NE",
    "north korean": "KP",
    "norwegian": "NO",
    "omani": "OM",
    "pakistani": "PK",
    "palestinian": "PS",
    "panamanian": "PA",
    "polish": "PL",
    "portuguese": "PT",
    "qatari": "QA",
    "romanian": "RO",
    "russian": "RU",
    "rwandan": "RW",
    "saudi": "SA",
    "saudi arabian": "SA",
    "senegalese": "SN",
    "serbian": "RS",
    "singaporean": "SG",
    "slovak": "SK",
    "slovenian": "SI",
    "somali": "SO",
    "south african": "ZA",
    "south korean": "KR",
    "south sudanese": "SS",
    "spanish": "ES",
    "sri lankan": "LK",
    "sudanese": "SD",
    "swedish": "SE",
    "swiss": "CH",
    "syrian": "SY",
    "tajik": "TJ",
    "tanzanian": "TZ",
    "thai": "TH",
    "tunisian": "TN",
    "turkish": "TR",
    "turkmen": "TM",
    "ugandan": "UG",
    "ukrainian": "UA",
    "uzbek": "UZ",
    "venezuelan": "VE",
    "vietnamese": "VN",
    "yemeni": "YE",
    "zimbabwean": "ZW",
    # list wordings
    "burma": "MM",
    "congo (democratic republic)": "CD",
    "democratic republic of the congo": "CD",
    "congo, democratic republic of the": "CD",
    "congo (republic)": "CG",
    "iran": "IR",
    "russia": "RU",
    "syria": "SY",
    "north korea": "KP",
    "democratic people's republic of korea": "KP",
    "south korea": "KR",
    "korea, north": "KP",
    "korea, south": "KR",
    "laos": "LA",
    "vietnam": "VN",
    "palestinian territories": "PS",
    "west bank": "PS",
    "gaza": "PS",
    "turkey": "TR",
    "united kingdom": "GB",
    "uk": "GB",
    "usa": "US",
    "united states": "US",
    "ussr": "SU",
    "ussr (until 1991)": "SU",
    "soviet union": "SU",
    "kosovo": "XK",
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "the gambia": "GM",
    "bolivia": "BO",
    "tanzania": "TZ",
    "moldova": "MD",
    "venezuela": "VE",
    "taiwan": "TW",
    "macedonia": "MK",
    "czech republic": "CZ",
    "serbia and montenegro": "CS",
    "yugoslavia": "YU",
}
_NOISE = re.compile(r"^(possibly|probably|reportedly|alt\.?)\s+|\s+(passport|citizen|national|nationality)$|\.$")


@lru_cache(maxsize=4096)
def to_iso2(text: str) -> str | None:
    """The ISO-2 code of a country name, demonym or code, or ``None``. ``00``/``UNKNOWN`` map to nothing."""
    wording = " ".join(text.replace("\u2019", "'").split()).strip(" ;,.").lower()
    previous = None
    while previous != wording:  # "Possibly Ethiopian", "Indonesian passport"
        previous, wording = wording, _NOISE.sub("", wording).strip()
    if not wording or wording in {"00", "unknown", "-"}:
        return None
    if wording in _EXTRA:
        return _EXTRA[wording]
    if len(wording) == 2 and wording.isalpha():
        country = pycountry.countries.get(alpha_2=wording.upper())
        return country.alpha_2 if country else None
    try:
        return str(pycountry.countries.lookup(wording).alpha_2)
    except LookupError:
        pass
    try:
        return str(pycountry.historic_countries.lookup(wording).alpha_2)
    except LookupError:
        return None


def map_countries(values: list[str]) -> tuple[list[str], list[str]]:
    """``(codes, unmapped)``: the codes in order without repeats, and the wordings nothing matched. A value
    naming two countries ("Sudan/South Sudan") yields both."""
    codes: list[str] = []
    unmapped: list[str] = []
    for value in values:
        parts = [value, *(re.split(r"\s*/\s*", value) if "/" in value else [])]
        found = [code for code in (to_iso2(part) for part in parts) if code]
        if not found:
            if value.strip():
                unmapped.append(value.strip())
            continue
        for code in found:
            if code not in codes:
                codes.append(code)
    return codes, unmapped
