# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Base58 (the Bitcoin alphabet), as CIDv0 and SS58 addresses use it."""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data):
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(ALPHABET[digit])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(digits))


def b58decode(text):
    """Bytes of base58 ``text``; ValueError (naming no input) for a character outside it."""
    number = 0
    for char in text:
        digit = ALPHABET.find(char)
        if digit < 0:
            raise ValueError("a character outside the base58 alphabet")
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    return bytes(leading_zeros) + number.to_bytes((number.bit_length() + 7) // 8, "big")
