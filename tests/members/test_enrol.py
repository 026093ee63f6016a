import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from members.models import Member, User
from members.services import member_enrol
from tests.factories import MemberFactory, UserFactory


@pytest.mark.django_db
def test_enrol_needs_an_external_id_or_an_email():
    with pytest.raises(ValidationError) as exc:
        member_enrol()
    assert set(exc.value.message_dict) == {"external_id", "email"}


@pytest.mark.django_db
def test_enrol_gives_a_user_without_a_member_their_member():
    user = UserFactory(email="staff@example.com")

    member, created = member_enrol(email="staff@example.com")

    assert created
    assert member.user == user
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_enrol_does_not_move_a_member_to_another_customer_id():
    member = MemberFactory(user__email="jo@example.com", external_id="C-1")

    found, created = member_enrol(email="jo@example.com", external_id="C-2")

    assert (found, created) == (member, False)
    member.refresh_from_db()
    assert member.external_id == "C-1"


@pytest.mark.django_db
def test_enrol_prefers_the_customer_id_over_the_email():
    by_id = MemberFactory(external_id="C-1")
    MemberFactory(user__email="jo@example.com")

    found, created = member_enrol(email="jo@example.com", external_id="C-1")

    assert (found, created) == (by_id, False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("email", [None, "race@example.com"])
def test_twenty_concurrent_enrolments_make_one_member(email):
    threads = 20
    barrier = threading.Barrier(threads)
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def enrol() -> None:
        try:
            barrier.wait()
            member, created = member_enrol(external_id="C-RACE", email=email)
            results.append((member.number, created))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=enrol) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert len(results) == threads
    assert len({number for number, _created in results}) == 1
    assert sum(created for _number, created in results) == 1
    assert Member.objects.filter(external_id="C-RACE").count() == 1
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_a_phone_number_is_kept_in_e164():
    member, _created = member_enrol(email="p@example.com", phone="138 0013 8000")
    assert member.phone == "+8613800138000"
