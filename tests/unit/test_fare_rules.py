"""services.fare_rules: which rule a fare has, and what cancelling refunds under it (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.booking import Booking, Leg, Passenger, PaymentState, PriceSnapshot, Segment
from models.flight import FlightSnapshot
from services import fare_rules
from services.fare_rules import FLEX, LIGHT, STANDARD, refund_quote, rule_for

DEPARTS = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def _segment(rule: str | None, fare: int, *, hours_later: int = 0, infant_fare: int = 0, leg: int = Leg.OUTBOUND,
             cabin: str = "economy") -> Segment:
    departs = DEPARTS + timedelta(hours=hours_later)
    flight = FlightSnapshot(flight_id=f"f{hours_later}", flight_number=f"FO{hours_later}", origin="LHR",
                            destination="JFK", departs_at=departs, arrives_at=departs + timedelta(hours=8),
                            aircraft="789", cabin=cabin)
    return Segment(flight=flight, seats=["10A"], fare_per_passenger=fare, infant_fare=infant_fare, fare_rule=rule,
                   leg=leg)


def _booking(*segments: Segment, lap: int = 0, seated: int = 1, paid: int | None = None,
             currency: str = "GBP") -> Booking:
    passengers = [Passenger(full_name=f"P{i}", birth_date=date(1980, 1, 1)) for i in range(seated)] + [
        Passenger(full_name=f"I{i}", birth_date=date(2026, 1, 1), on_lap=True) for i in range(lap)]
    total = sum(s.fare_per_passenger * seated + s.infant_fare * lap for s in segments)
    booking: Booking = Booking.model_construct(
        reference="ABC234", user_id=1, chat_id=1, segments=list(segments), passengers=passengers, email="a@b.c",
        price=PriceSnapshot(currency=currency, fare_per_passenger=sum(s.fare_per_passenger for s in segments),
                            passengers=seated + lap, total=total, infants=lap),
        payment=PaymentState(status="paid", payment_intent_id="pi_1", amount_paid=total if paid is None else paid))
    return booking


@pytest.mark.parametrize(("cabin", "source", "refundable", "rule"), [
    ("economy", "local", None, STANDARD), ("premium", "local", None, STANDARD), ("business", "local", None, FLEX),
    ("first", "local", None, FLEX), ("economy", "amadeus", False, LIGHT), ("business", "amadeus", False, LIGHT),
    ("economy", "amadeus", True, FLEX), ("economy", "amadeus", None, STANDARD), ("business", "amadeus", None, FLEX),
    ("economy", "local", True, STANDARD),  # the inventory's own fares follow their cabin
])
def test_rule_for_each_fare(cabin: str, source: str, refundable: bool | None, rule: str) -> None:
    assert rule_for(cabin, source, refundable) == rule


def test_conditions_are_short_sentences_per_rule() -> None:
    assert fare_rules.conditions(LIGHT) == "Light fare: no refund if you cancel"
    assert fare_rules.conditions(STANDARD) == "Standard fare: refund minus a 20% fee until 24 h before departure"
    assert fare_rules.conditions(FLEX) == "Flex fare: full refund until departure"
    assert "full refund" in fare_rules.conditions(None)


def test_standard_refunds_minus_the_fee_until_exactly_24_hours_before() -> None:
    booking = _booking(_segment(STANDARD, 45_000))
    edge = DEPARTS - timedelta(hours=24)
    before = refund_quote(booking, edge - timedelta(microseconds=1))
    assert (before.amount, before.fee, before.paid) == (36_000, 9_000, 45_000)
    assert "20% fee" in before.explanation
    at = refund_quote(booking, edge)
    assert (at.amount, at.fee) == (0, 0) and "no refund from 24 h" in at.explanation


def test_the_fee_is_rounded_half_up_to_whole_minor_units() -> None:
    assert fare_rules.fee_of(12_345) == 2_469  # 2469.0
    assert fare_rules.fee_of(12_348) == 2_470  # 2469.6
    assert fare_rules.fee_of(12_342) == 2_468  # 2468.4
    assert fare_rules.fee_of(5) == 1  # 1.0
    assert fare_rules.fee_of(2) == 0  # 0.4
    yen = refund_quote(_booking(_segment(STANDARD, 12_347), currency="JPY"), DEPARTS - timedelta(days=3))
    assert (yen.amount, yen.fee) == (12_347 - 2_469, 2_469)  # 2469.4 yen: whole yen, the currency's minor unit


def test_light_never_refunds_and_flex_until_departure() -> None:
    light = _booking(_segment(LIGHT, 30_000))
    assert refund_quote(light, DEPARTS - timedelta(days=30)).amount == 0
    flex = _booking(_segment(FLEX, 90_000, cabin="business"))
    assert refund_quote(flex, DEPARTS - timedelta(seconds=1)).amount == 90_000
    after = refund_quote(flex, DEPARTS)
    assert after.amount == 0 and "after departure" in after.explanation


def test_a_booking_sold_before_fare_rules_refunds_in_full_as_promised() -> None:
    old = _booking(_segment(None, 45_000))
    quote = refund_quote(old, DEPARTS - timedelta(hours=1))
    assert (quote.amount, quote.fee) == (45_000, 0) and "before fare conditions" in quote.explanation


def test_mixed_segments_each_refund_their_share_under_their_rule() -> None:
    """Economy out (Standard), business back (Flex): the fee only on the economy share; deadlines from the first
    departure (a booking cancels as a whole)."""
    booking = _booking(_segment(STANDARD, 20_000), _segment(FLEX, 80_000, hours_later=24 * 7, leg=Leg.RETURN),
                       seated=2)
    early = refund_quote(booking, DEPARTS - timedelta(days=2))
    assert (early.amount, early.fee) == (40_000 - 8_000 + 160_000, 8_000)
    assert "Standard" in early.explanation and "Flex" in early.explanation
    late = refund_quote(booking, DEPARTS - timedelta(hours=2))  # economy past its line, business still in full
    assert (late.amount, late.fee) == (160_000, 0)
    assert refund_quote(booking, DEPARTS + timedelta(hours=1)).amount == 0


def test_shares_follow_what_was_paid_with_lap_infants_and_add_up_exactly() -> None:
    segments = (_segment(STANDARD, 10_001, infant_fare=1_000), _segment(LIGHT, 20_003, hours_later=3,
                                                                       infant_fare=2_000))
    booking = _booking(*segments, seated=1, lap=1, paid=33_333)  # paid differs from the total (a mismatch)
    shares = fare_rules.shares(booking)
    assert sum(shares) == 33_333 and shares[0] == 33_333 * 11_001 // 33_004
    quote = refund_quote(booking, DEPARTS - timedelta(days=2))
    assert quote.amount == shares[0] - fare_rules.fee_of(shares[0]) and quote.paid == 33_333


def test_an_admin_refund_is_in_full_whatever_the_rule() -> None:
    booking = _booking(_segment(LIGHT, 30_000))
    assert fare_rules.full_refund(booking).amount == 30_000


def test_conditions_for_a_booking_list_each_rule_once() -> None:
    booking = _booking(_segment(STANDARD, 1), _segment(STANDARD, 1, hours_later=3), _segment(FLEX, 1, hours_later=9))
    assert fare_rules.conditions_for_booking(booking) == [fare_rules.conditions(STANDARD),
                                                          fare_rules.conditions(FLEX)]


RULE = st.sampled_from([LIGHT, STANDARD, FLEX, None])


@given(rules=st.lists(st.tuples(RULE, st.integers(0, 500_000), st.integers(0, 50_000), st.integers(0, 400)),
                      min_size=1, max_size=4),
       seated=st.integers(1, 5), lap=st.integers(0, 2), paid=st.one_of(st.none(), st.integers(1, 3_000_000)),
       hours=st.lists(st.integers(-24 * 40, 24 * 5), min_size=2, max_size=6))
def test_refund_is_between_nothing_and_what_was_paid_and_never_grows_with_time(
        rules: list[tuple[str | None, int, int, int]], seated: int, lap: int, paid: int | None,
        hours: list[int]) -> None:
    booking = _booking(*(_segment(rule, fare, infant_fare=infant, hours_later=later)
                         for rule, fare, infant, later in rules), seated=seated, lap=lap, paid=paid)
    amounts = []
    for h in sorted(hours):
        quote = refund_quote(booking, DEPARTS + timedelta(hours=h))
        assert 0 <= quote.amount <= quote.paid == (booking.payment.amount_paid or booking.price.total)
        assert quote.amount + quote.fee <= quote.paid
        amounts.append(quote.amount)
    assert amounts == sorted(amounts, reverse=True)
