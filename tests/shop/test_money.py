import pytest

from shop.money import MAX_MINOR_UNITS, MoneyError, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("123.45", "USD", 12345),
        ("123.4", "USD", 12340),
        ("123", "CNY", 12300),
        ("0", "EUR", 0),
        ("0.01", "GBP", 1),
        ("1000", "JPY", 1000),
        ("50000", "KRW", 50000),
        ("1.234", "KWD", 1234),
        ("007.50", "HKD", 750),
        ("10000000000.00", "USD", MAX_MINOR_UNITS),
    ],
)
def test_parses_decimal_text_into_minor_units(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    "text",
    [
        "",
        " 1.00",
        "1.00 ",
        "1,00",
        "1.",
        ".5",
        "+1",
        "1e3",
        "NaN",
        "Infinity",
        "0x10",
        "\uff11\uff12",  # full-width digits
        "\u0661\u0662",  # Arabic-Indic digits
        "12.3.4",
        "9" * 60,
    ],
)
def test_refuses_what_is_not_an_amount(text):
    with pytest.raises(MoneyError) as exc:
        parse_amount(text, "USD")
    assert exc.value.code == "invalid"


@pytest.mark.parametrize("value", [12.5, 12, None, b"12"])
def test_refuses_what_is_not_text(value):
    with pytest.raises(MoneyError) as exc:
        parse_amount(value, "USD")
    assert exc.value.code == "invalid"


def test_refuses_negative_amounts():
    with pytest.raises(MoneyError, match="negative") as exc:
        parse_amount("-1.00", "USD")
    assert exc.value.code == "invalid"


@pytest.mark.parametrize(
    ("text", "currency"),
    [("1.005", "USD"), ("10.5", "JPY"), ("10.0", "JPY"), ("1.2345", "KWD"), ("1.000", "USD")],
)
def test_refuses_more_decimals_than_the_currency_has(text, currency):
    with pytest.raises(MoneyError, match="decimal places") as exc:
        parse_amount(text, currency)
    assert exc.value.code == "invalid"


def test_zero_padding_is_accepted_only_when_asked():
    assert parse_amount("1000.00", "JPY", allow_zero_padding=True) == 1000
    assert parse_amount("1.2500", "USD", allow_zero_padding=True) == 125
    with pytest.raises(MoneyError):
        parse_amount("1000.50", "JPY", allow_zero_padding=True)


def test_refuses_absurd_magnitudes():
    with pytest.raises(MoneyError, match="too large") as exc:
        parse_amount("10000000000.01", "USD")
    assert exc.value.code == "invalid"
    with pytest.raises(MoneyError, match="too large"):
        parse_amount(str(MAX_MINOR_UNITS + 1), "JPY")


@pytest.mark.parametrize("currency", ["XXX", "usd", "US", "", None, "DOGE"])
def test_refuses_unknown_currencies(currency):
    with pytest.raises(MoneyError) as exc:
        parse_amount("1.00", currency)
    assert exc.value.code == "unsupported_currency"


def test_the_error_names_its_field():
    with pytest.raises(MoneyError) as exc:
        parse_amount("abc", "USD", field="lines.0.amount")
    assert exc.value.field == "lines.0.amount"


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (12345, "USD", "123.45"),
        (5, "CNY", "0.05"),
        (0, "EUR", "0.00"),
        (1000, "JPY", "1000"),
        (1234, "KWD", "1.234"),
        (-250, "USD", "-2.50"),
    ],
)
def test_formats_minor_units(minor, currency, text):
    assert format_amount(minor, currency) == text


def test_format_and_parse_round_trip():
    for minor in (0, 1, 99, 100, 123456789):
        assert parse_amount(format_amount(minor, "SGD"), "SGD") == minor
