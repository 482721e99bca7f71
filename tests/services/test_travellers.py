"""services/travellers.py: saved once per person, capped, never another user's, and forgetting really forgets —
the documents and the answers they filled in the user's conversation drafts."""

from __future__ import annotations

from datetime import date, timedelta

from beanie import PydanticObjectId

from core.clock import Clock
from core.database import Database, counting_round_trips
from models import Conversation, SavedTraveller, TravellerContact
from models.booking import Passenger
from models.conversation import Draft
from services.travellers import SavedBefore, TravellerService

ADA = Passenger(full_name="Ada Lovelace", birth_date=date(1985, 12, 10), document_number="533401234")
CHARLES = Passenger(full_name="Charles Babbage", birth_date=date(1971, 12, 26))


async def test_the_same_person_saved_twice_is_one_traveller_updated(db: Database) -> None:
    clock = Clock()
    travellers = TravellerService(clock)
    await travellers.remember(1, [ADA, CHARLES], "ada@example.com", "+442079460958")
    clock.advance(timedelta(minutes=1))
    again = Passenger(full_name="ADA  lovelace", birth_date=date(1985, 12, 10))  # no document this time
    await travellers.remember(1, [CHARLES, again], "ada@new.example", None)
    saved = await travellers.list(1)
    assert len(saved) == 2 and await SavedTraveller.count() == 2
    you = saved[0]
    assert you.is_self and you.birth_date == date(1985, 12, 10) and you.document_number == "533401234"
    assert [t.is_self for t in saved] == [True, False]  # Charles was passenger 1 the second time: not "you"
    assert await travellers.contact(1) == ("ada@new.example", "+442079460958")
    assert await travellers.contact(2) == (None, None)


async def test_what_the_passenger_questions_read_spares_the_list_read(db: Database) -> None:
    """The name question read the list (none saved): saving reads nothing, the new people are one insert and the
    contact one write; the next booking, with one of them again, updates that one without a duplicate."""
    clock = Clock()
    travellers = TravellerService(clock)
    with counting_round_trips() as commands:
        first = await travellers.remember(7, [ADA, CHARLES], "ada@example.com", None, known=SavedBefore(0, False))
    assert first is True
    assert commands == ["insert saved_travellers", "update traveller_contacts"]
    clock.advance(timedelta(minutes=1))
    grace = Passenger(full_name="Grace Hopper", birth_date=date(1976, 12, 9))
    with counting_round_trips() as commands:
        again = await travellers.remember(7, [ADA, grace], "ada@example.com", None, known=SavedBefore(2, True))
    assert again is False  # not the first time: the chat doesn't say it again
    assert commands == ["insert saved_travellers", "update saved_travellers", "update traveller_contacts"]
    saved = await travellers.list(7)
    assert [(t.full_name, t.is_self) for t in saved] == [
        ("Ada Lovelace", True), ("Grace Hopper", False), ("Charles Babbage", False)]
    assert await SavedTraveller.find(SavedTraveller.user_id == 7).count() == 3


async def test_an_eleventh_traveller_drops_the_least_recently_used(db: Database) -> None:
    clock = Clock()
    travellers = TravellerService(clock)
    await travellers.remember(5, [ADA], None, None)
    for n in range(10):
        clock.advance(timedelta(seconds=1))
        await travellers.remember(5, [ADA, Passenger(full_name=f"Person {chr(65 + n)}x Test",
                                                     birth_date=date(1990, 1, 1 + n))], None, None)
    names = [t.full_name for t in await travellers.list(5)]
    assert len(names) == 10
    assert names[0] == "Ada Lovelace"  # "you" stays, first
    assert "Person Ax Test" not in names and "Person Bx Test" in names  # the least recently used went
    assert names[1] == "Person Jx Test"  # then the most recently used


async def test_another_users_traveller_is_never_found_nor_forgotten(db: Database) -> None:
    travellers = TravellerService(Clock())
    await travellers.remember(1, [ADA], None, None)
    theirs = (await travellers.list(1))[0]
    assert await travellers.get(2, str(theirs.id)) is None
    assert await travellers.get(1, "garbage") is None
    assert await travellers.get(1, str(PydanticObjectId())) is None
    assert not await travellers.forget(2, str(theirs.id))
    assert await travellers.get(1, str(theirs.id)) is not None


async def _conversation(user_id: int, people: list[dict[str, object]], rev: int = 3) -> Conversation:
    conv = Conversation(chat_id=user_id, user_id=user_id, flow="ab12", rev=rev,
                        draft={"pax": len(people), "people": people, "pi": 0})
    await conv.insert()
    return conv


async def test_forget_clears_the_answers_that_came_from_the_traveller_in_the_drafts(db: Database) -> None:
    travellers = TravellerService(Clock())
    await travellers.remember(1, [ADA, CHARLES], "ada@example.com", None)
    ada, charles = await travellers.list(1)
    typed: dict[str, object] = {"name": "Mary Somerville", "dob": "1980-12-26", "email": "mary@example.com"}
    conv = await _conversation(1, [
        {"name": "Ada Lovelace", "dob": "1985-12-10", "doc": "533401234", "saved": str(ada.id),
         "email": "ada@example.com"},
        {"name": "Charles Babbage", "dob": "1971-12-26", "saved": str(charles.id)},
        typed,
    ])
    other = await _conversation(2, [{"name": "Ada Lovelace", "dob": "1985-12-10", "saved": str(ada.id)}])

    assert await travellers.forget(1, str(ada.id))
    assert not await travellers.forget(1, str(ada.id))  # once
    stored = await Conversation.get(conv.id)
    assert stored is not None and stored.rev == conv.rev + 1  # a turn that read the old draft is redone
    draft = Draft.model_validate(stored.draft)
    first, second, third = draft.people
    assert not first.answered("name") and not first.answered("dob") and not first.answered("doc")
    assert first.saved is None and first.email == "ada@example.com"  # the contact stays: only Ada went
    assert second.name == "Charles Babbage" and second.saved == str(charles.id)
    assert third.model_dump(exclude_unset=True) == typed
    untouched = await Conversation.get(other.id)  # another user's chat is never theirs to scrub
    assert untouched is not None and untouched.draft == other.draft and untouched.rev == other.rev

    assert await travellers.forget_all(1) == 1
    assert await SavedTraveller.find(SavedTraveller.user_id == 1).count() == 0
    assert await TravellerContact.find_one(TravellerContact.user_id == 1) is None
    stored = await Conversation.get(conv.id)
    assert stored is not None
    first, second, third = Draft.model_validate(stored.draft).people
    assert not first.answered("email")  # the forgotten contact's e-mail is gone from the draft too
    assert not second.answered("name") and second.saved is None
    assert third.model_dump(exclude_unset=True) == typed


async def test_forget_retries_when_a_turn_saved_the_draft_meanwhile(db: Database) -> None:
    travellers = TravellerService(Clock())
    await travellers.remember(1, [ADA], None, None)
    ada = (await travellers.list(1))[0]
    conv = await _conversation(1, [{"name": "Ada Lovelace", "dob": "1985-12-10", "saved": str(ada.id)}])
    real_save = travellers.repo.save_draft
    raced: list[bool] = []

    async def racing_save(current: Conversation, draft: dict[str, object], now_ms: int) -> bool:
        if not raced:  # another replica's turn saves the chat between our read and our write
            raced.append(True)
            await Conversation.get_pymongo_collection().update_one(
                {"_id": conv.id}, {"$set": {"rev": current.rev + 1, "draft.pi": 0}})
        return await real_save(current, draft, now_ms)  # type: ignore[arg-type]

    travellers.repo.save_draft = racing_save  # type: ignore[method-assign,assignment]
    assert await travellers.forget(1, str(ada.id))
    stored = await Conversation.get(conv.id)
    assert stored is not None and stored.rev == conv.rev + 2
    assert not Draft.model_validate(stored.draft).people[0].answered("name")


async def test_an_edit_into_someone_already_saved_makes_them_one(db: Database) -> None:
    travellers = TravellerService(Clock())
    await travellers.remember(1, [ADA, CHARLES], None, None)
    _ada, charles = await travellers.list(1)
    edited = await travellers.update(1, str(charles.id), "Ada Lovelace", date(1985, 12, 10), None)
    assert edited is not None
    saved = await travellers.list(1)
    assert len(saved) == 1 and saved[0].id == charles.id and saved[0].is_self
    assert saved[0].birth_date == date(1985, 12, 10)
    assert await travellers.update(2, str(charles.id), "Eve Hacker", date(1990, 1, 1), None) is None
