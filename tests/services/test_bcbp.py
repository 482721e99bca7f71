"""The IATA BCBP string of an e-ticket (services.tickets.bcbp) and its barcodes (services.tickets.barcodes):
pure code, no database."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from services.tickets import barcodes, bcbp
from services.tickets.bcbp import BoardingLeg, bcbp_name, decode, encode

# IATA's own example (BCBP Implementation Guide, Resolution 792): Luc Desmarais, AC 834 Montréal → Frankfurt
IATA_EXAMPLE = "M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 326J001A0025 100"
IATA_EXAMPLE_FIRST = "M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 100"  # the same pass in First
NAME_FIELD = re.compile(r"[A-Z][A-Z ]*/(?:[A-Z][A-Z ]*[A-Z]|[A-Z])?")


def flyo_leg(**changes: object) -> BoardingLeg:
    leg = BoardingLeg(name="SMITH/ZOE", pnr="FLY7Q2", origin="LHR", destination="JFK", carrier="FO",
                      flight_number=280, julian_date=45, compartment="Y", seat="12A", check_in_sequence="0001")
    return replace(leg, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [IATA_EXAMPLE, IATA_EXAMPLE_FIRST])
def test_the_published_example_decodes_and_re_encodes_byte_for_byte(text: str) -> None:
    leg = decode(text)
    assert (leg.name, leg.pnr, leg.origin, leg.destination, leg.carrier) == (
        "DESMARAIS/LUC", "ABC123", "YUL", "FRA", "AC")
    assert (leg.flight_number, leg.flight_suffix, leg.seat, leg.check_in_sequence) == (834, "", "1A", "0025")
    assert (leg.julian_date, leg.compartment) == ((326, "J") if text == IATA_EXAMPLE else (226, "F"))
    assert leg.electronic_ticket and leg.passenger_status == "1"
    assert encode(leg) == text


def test_a_flyo_leg_in_the_mandatory_items_layout() -> None:
    assert encode(flyo_leg()) == "M1SMITH/ZOE           EFLY7Q2 LHRJFKFO 0280 045Y012A0001 000"
    assert encode(flyo_leg(flight_suffix="A", seat="3K", julian_date=366, compartment="J")) == (
        "M1SMITH/ZOE           EFLY7Q2 LHRJFKFO 0280A366J003K0001 000")


def test_an_infant_on_a_lap_has_INF_for_a_seat_and_may_have_a_blank_sequence() -> None:
    text = encode(flyo_leg(name="SMITH/BABY", seat="INF", check_in_sequence=""))
    assert text[48:52] == "INF " and text[52:57] == "     " and len(text) == 60
    assert decode(text).seat == "INF" and decode(text).check_in_sequence == ""


def test_no_seat_yet_is_four_spaces() -> None:
    text = encode(flyo_leg(seat=""))
    assert text[48:52] == "    " and decode(text).seat == ""


def test_helpers_for_the_booking_side() -> None:
    assert bcbp.compartment("economy") == "Y" and bcbp.compartment("premium") == "W"
    assert bcbp.compartment("business") == "J" and bcbp.compartment("first") == "F"
    with pytest.raises(ValueError, match="cabin"):
        bcbp.compartment("steerage")
    assert bcbp.julian_date(date(2026, 1, 1)) == 1 and bcbp.julian_date(date(2024, 12, 31)) == 366
    assert bcbp.julian_date(date(2026, 2, 14)) == 45
    assert bcbp.check_in_sequence(25) == "0025" and bcbp.check_in_sequence(9999) == "9999"
    for bad in (0, -1, 10000):
        with pytest.raises(ValueError):
            bcbp.check_in_sequence(bad)


@pytest.mark.parametrize(("full_name", "field"), [
    ("Luc Desmarais", "DESMARAIS/LUC"),
    ("Zoë Smith", "SMITH/ZOE"),
    ("Łukasz Żółć", "ZOLC/LUKASZ"),
    ("Søren Ødegård", "ODEGARD/SOREN"),
    ("Đorđe Đoković", "DOKOVIC/DORDE"),
    ("Jürgen Groß", "GROSS/JURGEN"),
    ("Æsa Lœwe", "LOEWE/AESA"),
    ("Þóra Jónsdóttir", "JONSDOTTIR/THORA"),
    ("İlkay Gündoğan", "GUNDOGAN/ILKAY"),
    ("Nguyễn Thị Minh Khai", "KHAI/NGUYEN THI MINH"),
    ("Дмитрий Иванов", "IVANOV/DMITRII"),
    ("Юлия Щербакова", "SHCHERBAKOVA/IULIIA"),
    ("Йосиф Ёлкин", "ELKIN/IOSIF"),
    ("Γιώργος Παπαδόπουλος", "PAPADOPOULOS/GIORGOS"),
    ("王芳", "PASSENGER/A"),
    ("王芳 Wang Fang", "FANG/WANG"),
    ("مريم حداد", "PASSENGER/A"),
    ("Madonna", "MADONNA/"),
    ("Anne-Marie O'Brien", "OBRIEN/ANNEMARIE"),
    ("  jean   luc   picard  ", "PICARD/JEAN LUC"),
    ("Zoe\u0308 Smith", "SMITH/ZOE"),  # a combining diaeresis
])
def test_names_are_written_in_ascii_capitals_surname_first(full_name: str, field: str) -> None:
    assert bcbp_name(full_name) == field


def test_a_name_without_a_latin_spelling_is_numbered_within_the_booking() -> None:
    assert [bcbp_name("王芳", n) for n in (1, 2, 26, 27, 28, 702)] == [
        "PASSENGER/A", "PASSENGER/B", "PASSENGER/Z", "PASSENGER/AA", "PASSENGER/AB", "PASSENGER/ZZ"]
    assert bcbp_name("", 0) == "PASSENGER/A"


def test_a_25_character_surname_keeps_the_slash_and_the_first_initial() -> None:
    surname = "Wolfeschlegelsteinhausenb"
    assert len(surname) == 25
    field = bcbp_name(f"Anna {surname}")
    assert field == "WOLFESCHLEGELSTEIN/A" and len(field) == 20
    assert bcbp_name(surname) == "WOLFESCHLEGELSTEINH/"  # no given name: the surname takes 19
    # a shorter surname leaves the given names what is left of the 20
    assert bcbp_name("Mary Ann Elizabeth Longsurname") == "LONGSURNAME/MARY ANN"
    assert bcbp_name("Maximiliane Papadopoulou") == "PAPADOPOULOU/MAXIMIL"
    leg = flyo_leg(name=field)
    assert encode(leg)[2:22] == "WOLFESCHLEGELSTEIN/A" and decode(encode(leg)).name == field


@pytest.mark.parametrize("full_name", [
    "", " ", "x" * 200, "A" * 4096, "😀😀 🚀", "Bob 😀 Smith", "\u202eevil\u202c Smith", "שרה כהן",
    "Ann\x00\x07\x1b[31m Smith\r\n", "zoë smith", "\u200b\u200d", "Robert'); DROP TABLE--", "1234 5678",
    "<b>Bob</b> &amp; Smith", "\t\n", "ａｎｎａ ｓｍｉｔｈ", "Ⅻ ①",
])
def test_what_a_traveller_types_never_breaks_the_60_character_layout(full_name: str) -> None:
    field = bcbp_name(full_name)
    assert NAME_FIELD.fullmatch(field) and len(field) <= 20, field
    text = encode(flyo_leg(name=field))
    assert len(text) == 60 and text.isascii() and text[22] == "E" and text[30:36] == "LHRJFK"
    assert decode(text) == flyo_leg(name=field)


def test_lowercase_input_is_upper_cased() -> None:
    assert bcbp_name("zoë smith") == "SMITH/ZOE" and bcbp_name("ａｎｎａ ｓｍｉｔｈ") == "SMITH/ANNA"


@pytest.mark.parametrize("changes", [
    {"seat": "*"}, {"seat": "12a"}, {"seat": "0A"}, {"seat": "1000A"}, {"seat": "12"}, {"seat": "INFANT"},
    {"name": "SMITH/ZOË"}, {"name": "X" * 21}, {"name": "SMITH\n"}, {"pnr": ""}, {"pnr": "ABCDEFGH"},
    {"pnr": "abc123"}, {"origin": "LH"}, {"origin": "lhr"}, {"destination": "JF1"}, {"carrier": "F"},
    {"carrier": "FOOO"}, {"flight_number": 10000}, {"flight_number": -1}, {"flight_suffix": "AB"},
    {"flight_suffix": "1"}, {"julian_date": 0}, {"julian_date": 367}, {"compartment": "y"},
    {"compartment": "YY"}, {"check_in_sequence": "1"}, {"check_in_sequence": "000001"},
    {"check_in_sequence": "00A1"}, {"passenger_status": ""}, {"passenger_status": "10"},
])
def test_a_leg_that_cannot_be_written_in_the_layout_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="BCBP"):
        flyo_leg(**changes)


def _spliced(at: int, piece: str) -> str:
    return IATA_EXAMPLE[:at] + piece + IATA_EXAMPLE[at + len(piece):]


@pytest.mark.parametrize(("text", "why"), [
    ("", "60 characters, not 0"),
    (IATA_EXAMPLE[:-1], "not 59"),
    (IATA_EXAMPLE + " ", "not 61"),
    (IATA_EXAMPLE + "05>60000", "not 68"),
    (_spliced(0, "N"), "format code"),
    (_spliced(1, "2"), "single-leg"),
    (_spliced(22, "X"), "electronic ticket"),
    (_spliced(39, "08A4 "), "flight number"),
    (_spliced(39, "٠٨٣٤ "), "printable ASCII"),
    (_spliced(44, "3X6"), "Julian"),
    (_spliced(44, "000"), "Julian"),
    (_spliced(44, "367"), "Julian"),
    (_spliced(48, "0X1A"), "seat"),
    (_spliced(48, "001a"), "seat"),
    (_spliced(52, "00A5 "), "check-in sequence"),
    (_spliced(58, "ZZ"), "hex"),
    (_spliced(58, "05"), "conditional items"),
    (_spliced(30, "yul"), "origin"),
    (_spliced(2, "DESMARAIS/LUC\x00"), "printable ASCII"),
    (_spliced(2, "DÉSMARAIS/LUC"), "printable ASCII"),
])
def test_decode_refuses_what_is_not_a_single_leg_mandatory_items_bcbp(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        decode(text)


def test_decode_refuses_what_is_not_a_string() -> None:
    with pytest.raises(ValueError, match="string"):
        decode(IATA_EXAMPLE.encode())  # type: ignore[arg-type]


_NAMES = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzÀÉÎÕÜçñøłßæœþđžšЖДмитрийΓιώργος王 -'"),
                 max_size=40)
_LEGS = st.builds(
    BoardingLeg,
    name=st.builds(bcbp_name, _NAMES, st.integers(min_value=1, max_value=30)),
    pnr=st.from_regex(r"[A-Z0-9]{1,7}", fullmatch=True),
    origin=st.from_regex(r"[A-Z]{3}", fullmatch=True),
    destination=st.from_regex(r"[A-Z]{3}", fullmatch=True),
    carrier=st.from_regex(r"[A-Z0-9]{2,3}", fullmatch=True),
    flight_number=st.integers(min_value=1, max_value=9999),
    flight_suffix=st.sampled_from(["", "A", "B", "Z"]),
    julian_date=st.integers(min_value=1, max_value=366),
    compartment=st.sampled_from(sorted(set(bcbp.COMPARTMENTS.values()))),
    seat=st.one_of(st.builds(lambda row, letter: f"{row}{letter}", st.integers(min_value=1, max_value=99),
                             st.sampled_from("ABCDEFGHJK")), st.just("INF")),
    check_in_sequence=st.one_of(st.integers(min_value=1, max_value=9999).map(bcbp.check_in_sequence),
                                st.just("")),
    electronic_ticket=st.just(True),
    passenger_status=st.sampled_from(["0", "1"]),
)


@settings(max_examples=300, deadline=None)
@given(_LEGS)
def test_every_valid_leg_round_trips(leg: BoardingLeg) -> None:
    text = encode(leg)
    assert len(text) == 60 and text.startswith("M1") and text.endswith("00") and text.isascii()
    assert decode(text) == leg
    assert encode(decode(text)) == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=-5, max_value=10_000))
def test_any_text_gives_a_valid_name_field(full_name: str, number: int) -> None:
    field = bcbp_name(full_name, number)
    assert len(field) <= 20 and NAME_FIELD.fullmatch(field), field
    assert len(encode(flyo_leg(name=field))) == 60


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.builds(
    lambda at, piece: (IATA_EXAMPLE[:at] + piece + IATA_EXAMPLE[at + len(piece):])[:60],
    st.integers(min_value=0, max_value=59), st.text(min_size=1, max_size=6))))
def test_decode_of_garbage_raises_value_error_or_gives_back_the_same_string(text: str) -> None:
    try:
        leg = decode(text)
    except ValueError:
        return
    assert encode(leg) == text


def _read(png: bytes) -> list[tuple[zxingcpp.BarcodeFormat, str]]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return [(found.format, found.text) for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@pytest.mark.parametrize("text", [
    IATA_EXAMPLE,
    encode(flyo_leg(name=bcbp_name("Anna Wolfeschlegelsteinhausenb"))),
    encode(flyo_leg(name=bcbp_name("王芳", 2), seat="INF", check_in_sequence="", flight_suffix="Z")),
])
def test_both_barcodes_scan_back_to_the_exact_string(text: str) -> None:
    assert _read(barcodes.pdf417_png(text)) == [(zxingcpp.BarcodeFormat.PDF417, text)]
    assert _read(barcodes.qr_png(text)) == [(zxingcpp.BarcodeFormat.QRCode, text)]


def test_the_pdf417_symbol_is_boarding_pass_shaped_and_the_images_are_deterministic() -> None:
    pdf417 = barcodes.pdf417_png(IATA_EXAMPLE)
    width, height = Image.open(io.BytesIO(pdf417)).size
    assert 2.5 <= width / height <= 5, (width, height)
    qr = Image.open(io.BytesIO(barcodes.qr_png(IATA_EXAMPLE)))
    assert qr.size[0] == qr.size[1]
    assert barcodes.pdf417_png(IATA_EXAMPLE) == pdf417 and barcodes.qr_png(IATA_EXAMPLE) == barcodes.qr_png(
        IATA_EXAMPLE)


def test_an_empty_string_makes_no_barcode() -> None:
    for render in (barcodes.pdf417_png, barcodes.qr_png):
        with pytest.raises(ValueError):
            render("")
