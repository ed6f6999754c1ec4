"""The rule of room names, checked before anything is read or written."""

from __future__ import annotations

import pytest

from asgi_lambda.stores.record import check_room


@pytest.mark.parametrize("room", ["a", "room-1", "team/a.b_c:d@e", "x" * 128, "0"])
def test_a_room_name_is_1_to_128_letters_digits_and_the_marks(room: str) -> None:
    assert check_room(room) == room


@pytest.mark.parametrize("room", ["", "x" * 129, "a b", "é", "a#b", "a%2Fb", "a\n", None, 7])
def test_anything_else_is_a_value_error_naming_the_rule(room: object) -> None:
    with pytest.raises(ValueError) as error:
        check_room(room)

    assert str(error.value) == f"room name {room!r}: expected 1 to 128 characters, each a letter, a digit or one of . _ : @ / -"
