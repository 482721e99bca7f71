"""The IATA bar-coded boarding pass string (Resolution 792, "BCBP"): the 60 characters of the mandatory items
of one leg, as printed in the PDF417/QR barcode of an e-ticket, and back.

Layout (Res. 792 Attachment A, format "M", one leg, no conditional items), 60 characters:

    item                               size  FlyO writes
    format code                           1  "M"
    number of legs encoded                1  "1"
    passenger name                       20  "SURNAME/GIVEN", left-aligned, space-padded (`bcbp_name`)
    electronic ticket indicator           1  "E"
    operating carrier PNR code            7  left-aligned, space-padded
    from city airport code                3
    to city airport code                  3
    operating carrier designator          3  left-aligned, space-padded ("FO ")
    flight number                         5  4 digits zero-padded + suffix letter or space ("0280 ")
    date of flight (Julian)               3  day of the year of the *local* departure date, "001".."366"
    compartment code                      1  `COMPARTMENTS`
    seat number                           4  3-digit row + letter ("012A"); "INF " for an infant on a lap;
                                             4 spaces while no seat is assigned
    check-in sequence number              5  "NNNN" + suffix letter or space ("0025 "); 5 spaces (blank) allowed
    passenger status                      1  "0": ticket issued, passenger not checked in (FlyO issues
                                             e-tickets before check-in; "1" = checked in, as in IATA's example)
    field size of conditional items       2  "00" (hex): no conditional items follow

Choices, with their reasons:
- Compartment codes follow the IATA cabin codes that airlines print: F first, J business (IATA's own example
  uses J; some airlines print C for business: `decode` accepts any letter), W premium economy, Y economy.
- Seat: an infant on an adult's lap has no seat; the BCBP Implementation Guide (5.3.6) recommends airlines
  that issue a separate pass for the infant enter "INF" in the seat number, and allows a blank check-in
  sequence number for the infant.
- Check-in sequence: Res. 792 gives it as NNNN[f] (4 digits and an optional letter), which is what IATA's
  example ("0025 ") shows; `check_in_sequence(n)` makes that form. A 5-digit number ("00001"), which some
  airlines print, is decoded and re-encoded as is.

Passenger names (`bcbp_name`): the barcode holds ASCII capitals, as airlines print them.
- Latin letters lose their accents (Unicode NFKD, marks dropped: Zoë → ZOE, Ñ → N); letters without a
  decomposition come from a small table (Ł → L, Ø → O, Đ → D, ß → SS, Æ → AE, Œ → OE, Þ → TH).
- Cyrillic is transliterated with the ICAO Doc 9303 (machine-readable passport) table (Дмитрий Иванов →
  IVANOV/DMITRII), Greek letter by letter as ICAO/ELOT 743 do, with ΟΥ → OU (Γιώργος → GIORGOS).
- Hyphens, apostrophes and dots join (Smith-Jones → SMITHJONES, O'Brien → OBRIEN); spaces, commas and other
  separators split words; digits, emoji, control characters and anything else are dropped.
- The surname is the last word, the given names the words before it; a single word is the surname with an
  empty given name ("MADONNA/").
- Scripts without a passport-standard transliteration (Chinese, Japanese, Korean, Arabic, Hebrew, Thai...):
  airlines copy the Latin spelling of the passport, which FlyO does not have. If the name has Latin letters
  too (王芳 Wang Fang), those are used; otherwise the name is "PASSENGER/" followed by the passenger's number
  in the booking as letters (1 → A, 2 → B, ..., 27 → AA), so two such passengers' barcodes still differ.
- More than 20 characters: the surname is cut so that "/" and at least the given name's first initial fit
  (a 25-letter surname with given name Anna → 18 letters + "/A"); then the given names are cut to fill 20.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

LENGTH = 60  # the mandatory items of one leg
NAME_SIZE = 20
COMPARTMENTS = {"first": "F", "business": "J", "premium": "W", "premium_economy": "W", "economy": "Y"}
INFANT_SEAT = "INF"
NOT_CHECKED_IN = "0"
PLACEHOLDER_SURNAME = "PASSENGER"

# (name, size) of each item, in order (the offsets follow)
FIELDS = (("format", 1), ("legs", 1), ("name", 20), ("ticket", 1), ("pnr", 7), ("origin", 3),
          ("destination", 3), ("carrier", 3), ("flight", 5), ("julian", 3), ("compartment", 1), ("seat", 4),
          ("sequence", 5), ("status", 1), ("conditional", 2))
assert sum(size for _, size in FIELDS) == LENGTH

_PNR = re.compile(r"[A-Z0-9]{1,7}")
_AIRPORT = re.compile(r"[A-Z]{3}")
_CARRIER = re.compile(r"[A-Z0-9]{2,3}")
_SUFFIX = re.compile(r"[A-Z]?")
_LETTER = re.compile(r"[A-Z]")
_SEAT = re.compile(r"0*([1-9]\d{0,2})([A-Z])")
_SEQUENCE = re.compile(r"\d{4}[A-Z]?|\d{5}|")
_STATUS = re.compile(r"[0-9A-Z]")
_NAME = re.compile(r"[ -~]{0,20}")  # printable ASCII: what any airline may have written; `bcbp_name` is stricter

# Letters NFKD leaves alone, and the ICAO Doc 9303 tables for Cyrillic and Greek (capitals; input is upper-cased).
_LATIN = {"Ł": "L", "Ø": "O", "Đ": "D", "Ð": "D", "ẞ": "SS", "Æ": "AE", "Œ": "OE", "Þ": "TH", "Ħ": "H",
          "Ŧ": "T", "Ŋ": "NG", "Ə": "E"}
_CYRILLIC = {"А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ж": "ZH", "З": "Z", "И": "I",
             "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U",
             "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "",
             "Э": "E", "Ю": "IU", "Я": "IA", "Є": "IE", "І": "I", "Ґ": "G", "Ђ": "D", "Ћ": "C", "Ј": "J",
             "Љ": "LJ", "Њ": "NJ", "Џ": "DZ", "Ѕ": "DZ"}
_GREEK = {"Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "TH", "Ι": "I", "Κ": "K",
          "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P", "Ρ": "R", "Σ": "S", "Τ": "T", "Υ": "Y",
          "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O"}
_TABLE = _LATIN | _CYRILLIC | _GREEK
_JOINERS = frozenset("-‐‑‒–—'’ʼ`´.·")  # inside a word: dropped, the word stays one
# Й decomposes to И + breve, Ё to Е + diaeresis, Ї to І + diaeresis, Ў to У + breve, Ά to Α + accent: the ICAO
# values follow; Greek ΟΥ is "OU" (as Greek passports print it), the other Greek letters one by one.


@dataclass(frozen=True)
class BoardingLeg:
    """One leg's mandatory BCBP items, in their decoded, canonical form (what `decode` returns).

    name: the name field without its padding ("DESMARAIS/LUC"); seat: "1A", "INF" or "" (none yet);
    check_in_sequence: "0025" (+ optional letter), 5 digits, or "" (blank). Constructing one checks every
    item, so `encode` of a BoardingLeg always gives exactly 60 characters."""

    name: str
    pnr: str
    origin: str
    destination: str
    carrier: str
    flight_number: int
    julian_date: int
    compartment: str
    seat: str
    check_in_sequence: str
    flight_suffix: str = ""
    electronic_ticket: bool = True
    passenger_status: str = NOT_CHECKED_IN

    def __post_init__(self) -> None:
        _check(_NAME, self.name, "passenger name (printable ASCII, at most 20 characters; see bcbp_name)")
        _check(_PNR, self.pnr, "PNR (1-7 capital letters or digits)")
        _check(_AIRPORT, self.origin, "origin airport (3 capital letters)")
        _check(_AIRPORT, self.destination, "destination airport (3 capital letters)")
        _check(_CARRIER, self.carrier, "carrier designator (2-3 capital letters or digits)")
        if not 0 <= self.flight_number <= 9999:
            raise ValueError(f"BCBP flight number must be 0-9999, not {self.flight_number!r}")
        _check(_SUFFIX, self.flight_suffix, "flight number suffix (one capital letter or none)")
        if not 1 <= self.julian_date <= 366:
            raise ValueError(f"BCBP Julian date must be 1-366, not {self.julian_date!r}")
        _check(_LETTER, self.compartment, "compartment code (one capital letter)")
        if self.seat not in (INFANT_SEAT, ""):
            _check(_SEAT, self.seat, "seat (row 1-999 and a capital letter, 'INF' or '')")
        _check(_SEQUENCE, self.check_in_sequence, "check-in sequence (NNNN, NNNN + letter, 5 digits or '')")
        _check(_STATUS, self.passenger_status, "passenger status (one digit or capital letter)")


def _check(pattern: re.Pattern[str], value: object, what: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"not a valid BCBP {what}: {value!r}")


def encode(leg: BoardingLeg) -> str:
    """The 60-character mandatory-items string of `leg`."""
    seat = f"{leg.seat:<4}" if leg.seat in (INFANT_SEAT, "") else _seat_field(leg.seat)
    text = "".join((
        "M1", f"{leg.name:<20}", "E" if leg.electronic_ticket else " ", f"{leg.pnr:<7}", leg.origin,
        leg.destination, f"{leg.carrier:<3}", f"{leg.flight_number:04d}{leg.flight_suffix or ' '}",
        f"{leg.julian_date:03d}", leg.compartment, seat, f"{leg.check_in_sequence:<5}", leg.passenger_status,
        "00"))
    assert len(text) == LENGTH, text
    return text


def _seat_field(seat: str) -> str:
    match = _SEAT.fullmatch(seat)
    assert match, seat  # BoardingLeg checked it
    return f"{int(match[1]):03d}{match[2]}"


def decode(text: str) -> BoardingLeg:
    """The leg in a single-leg, mandatory-items-only BCBP string; ValueError (saying what is wrong) otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"a BCBP is a string, not {type(text).__name__}")
    if len(text) != LENGTH:
        raise ValueError(f"a single-leg BCBP without conditional items has {LENGTH} characters, not {len(text)}")
    if not text.isascii() or not text.isprintable():
        raise ValueError("a BCBP holds printable ASCII characters only")
    items: dict[str, str] = {}
    offset = 0
    for key, size in FIELDS:
        items[key] = text[offset:offset + size]
        offset += size
    if items["format"] != "M":
        raise ValueError(f"BCBP format code must be 'M', not {items['format']!r}")
    if items["legs"] != "1":
        raise ValueError(f"only single-leg BCBPs are supported, this one says {items['legs']!r} legs")
    if items["ticket"] not in ("E", " "):
        raise ValueError(f"BCBP electronic ticket indicator must be 'E' or blank, not {items['ticket']!r}")
    if not re.fullmatch(r"[0-9A-Fa-f]{2}", items["conditional"]):
        raise ValueError(f"BCBP field size of conditional items must be 2 hex digits, not {items['conditional']!r}")
    if int(items["conditional"], 16):
        raise ValueError("this BCBP announces conditional items, which a 60-character string cannot hold")
    flight = items["flight"]
    if not flight[:4].isdigit() or not flight[:4].isascii():
        raise ValueError(f"BCBP flight number must start with 4 digits, not {flight!r}")
    if not (items["julian"].isdigit() and items["julian"].isascii()):
        raise ValueError(f"BCBP Julian date must be 3 digits, not {items['julian']!r}")
    seat = items["seat"].rstrip()
    if seat not in (INFANT_SEAT, ""):
        if not re.fullmatch(r"\d{3}[A-Z]", items["seat"]):
            raise ValueError(f"BCBP seat must be 3 digits and a letter, 'INF ' or blank, not {items['seat']!r}")
        seat = f"{int(seat[:3])}{seat[3]}"
    sequence = items["sequence"]
    if not re.fullmatch(r"\d{4}[A-Z ]|\d{5}| {5}", sequence):
        raise ValueError(f"BCBP check-in sequence must be 4 digits and a letter or space, 5 digits or blank, "
                         f"not {sequence!r}")
    return BoardingLeg(
        name=items["name"].rstrip(), pnr=items["pnr"].rstrip(), origin=items["origin"],
        destination=items["destination"], carrier=items["carrier"].rstrip(), flight_number=int(flight[:4]),
        flight_suffix=flight[4].strip(), julian_date=int(items["julian"]), compartment=items["compartment"],
        seat=seat, check_in_sequence=sequence.rstrip(), electronic_ticket=items["ticket"] == "E",
        passenger_status=items["status"])


def julian_date(local_departure: date) -> int:
    """The BCBP date of flight: the day of the year (1-366) of the flight's local departure date."""
    return local_departure.timetuple().tm_yday


def compartment(cabin: str) -> str:
    """The BCBP compartment code of a FlyO cabin ("business" → "J"); ValueError for a cabin FlyO doesn't know."""
    try:
        return COMPARTMENTS[cabin]
    except KeyError:
        raise ValueError(f"no BCBP compartment code for the cabin {cabin!r}") from None


def check_in_sequence(number: int) -> str:
    """The check-in sequence field's content for the `number`-th passenger of a flight: 25 → "0025"."""
    if not 1 <= number <= 9999:
        raise ValueError(f"a BCBP check-in sequence number is 1-9999, not {number!r}")
    return f"{number:04d}"


def bcbp_name(full_name: str, number: int = 1) -> str:
    """The BCBP name field for a traveller's name as entered ("Zoë Smith-Jones" → "SMITHJONES/ZOE"), at most
    20 characters of A-Z, space and one "/"; `number` (the passenger's place in the booking, from 1) names a
    passenger whose name has no Latin spelling. The rules are in the module docstring."""
    words = _ascii_words(full_name)
    if not words:
        return f"{PLACEHOLDER_SURNAME}/{_letters(number)}"
    surname, given = words[-1], " ".join(words[:-1])
    if len(surname) + 1 + len(given) <= NAME_SIZE:
        return f"{surname}/{given}"
    if not given:
        return f"{surname[:NAME_SIZE - 1]}/"
    surname = surname[:NAME_SIZE - 2]  # room for "/" and the first initial
    return f"{surname}/{given[:NAME_SIZE - 1 - len(surname)].rstrip()}"


def _ascii_words(text: str) -> list[str]:
    # decompose (twice: upper-casing may compose, NFKD may give small letters: ª → a), drop the accents
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).upper())
    text = "".join(char for char in text if not unicodedata.combining(char)).replace("ΟΥ", "OU")
    out: list[str] = []
    for char in text:
        if "A" <= char <= "Z":
            out.append(char)
        elif char in _JOINERS:
            continue
        elif char.isspace() or unicodedata.category(char)[0] in "ZP":  # spaces, commas, slashes: a word break
            out.append(" ")
        else:  # a table letter; digits, emoji, control characters and unmapped scripts give nothing
            out.append(_TABLE.get(char, ""))
    return "".join(out).split()


def _letters(number: int) -> str:
    """1 → A, 26 → Z, 27 → AA (bijective base 26); numbers below 1 count as 1."""
    number = max(number, 1)
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
