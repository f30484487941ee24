from smlens.core.formats import proto
from smlens.core.model.dtypes import dtype


def test_dtype_table_agrees_with_the_vendored_enum():
    for number, name in proto.enum_names("tensorflow.DataType").items():
        if number < 100:
            assert dtype(number).name == name
            assert dtype(name).enum == number
