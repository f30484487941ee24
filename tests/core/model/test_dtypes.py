import pytest

from smlens.core.formats import proto
from smlens.core.model.dtypes import dtype, itemsize
from smlens.core.model.text import short_dtype


def test_dtype_table_agrees_with_the_vendored_enum():
    for number, name in proto.enum_names("tensorflow.DataType").items():
        if number < 100:
            assert dtype(number).name == name
            assert dtype(name).enum == number


@pytest.mark.parametrize("number", [-(2**31), -5, -1, 77, 99, 150, 2**31 - 1])
def test_every_number_round_trips_and_an_unknown_one_reads_as_its_number(number):
    found = dtype(number)
    assert dtype(found.name).enum == number
    assert dtype(found.name) == found
    if not found.known:
        assert found.text == f"unknown dtype {number}"
        assert short_dtype(found.name) == f"unknown dtype {number}"
        assert itemsize(found.name) is None


def test_reference_types_stay_references_and_unknown_numbers_are_not():
    assert dtype(101).is_ref and dtype(101).text == "float32_ref"
    assert not dtype(150).is_ref and not dtype(150).known
