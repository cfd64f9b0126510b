"""ID numbers (GB 11643): checksum, birth date, masking."""

from datetime import date

import pytest

from dualgrid.lib.idcard import IdCardError, check_char, is_valid_id, make_id, mask_id, parse_id

# A published sample number: 11010519491231002X (the check character is X).
VALID_X = "11010519491231002X"


def test_a_valid_number_parses_with_area_birth_and_gender() -> None:
    card = parse_id(make_id("500152", date(1990, 1, 1), 123))
    assert card.area == "500152"
    assert card.birth_date == date(1990, 1, 1)
    assert card.male is True


def test_x_is_a_valid_check_character_in_either_case() -> None:
    assert parse_id(VALID_X).birth_date == date(1949, 12, 31)
    assert parse_id(VALID_X.lower()).number == VALID_X
    assert parse_id(VALID_X).male is False


def test_a_wrong_check_character_is_refused_in_chinese() -> None:
    wrong = VALID_X[:-1] + "1"
    with pytest.raises(IdCardError, match="校验位错误"):
        parse_id(wrong)
    assert not is_valid_id(wrong)


@pytest.mark.parametrize("number", ["50015219900230123", "5001521990023012345", "50015219900230123A", ""])
def test_a_number_of_the_wrong_shape_is_refused(number: str) -> None:
    with pytest.raises(IdCardError, match="18位"):
        parse_id(number)


def test_an_impossible_birth_date_is_refused_even_with_a_right_check_character() -> None:
    first17 = "50015219900230123"  # 30 February
    with pytest.raises(IdCardError, match="出生日期不存在"):
        parse_id(first17 + check_char(first17))


def test_a_birth_date_in_the_future_is_refused() -> None:
    number = make_id("500152", date(2031, 1, 1), 11)
    with pytest.raises(IdCardError, match="出生日期不合理"):
        parse_id(number, today=date(2030, 1, 1))


def test_generated_numbers_are_valid() -> None:
    for seq in range(0, 1000, 37):
        assert is_valid_id(make_id("500152", date(1970, 6, 15), seq))


def test_masking_keeps_the_first_and_last_four() -> None:
    assert mask_id("500101199001011234") == "5001**********1234"
    assert mask_id(VALID_X) == "1101**********002X"
    assert mask_id("") == ""
    assert mask_id("1234") == "****"
