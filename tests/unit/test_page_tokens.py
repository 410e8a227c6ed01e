"""The offset page token: what it names, and every malformed token refused."""

from __future__ import annotations

import pytest

from cadenza.api.page_tokens import offset_of, token_for
from cadenza.exceptions import InvalidArgumentError


def test_no_token_is_the_first_page() -> None:
    assert offset_of(b"") == 0


@pytest.mark.parametrize("offset", [0, 1, 1000, 2**40])
def test_a_token_names_the_offset_it_was_made_for(offset: int) -> None:
    assert offset_of(token_for(offset)) == offset


def test_the_token_is_the_json_object_clients_already_hold() -> None:
    assert token_for(25) == b'{"offset": 25}'
    assert offset_of(b'{"offset":25}') == 25


@pytest.mark.parametrize(
    "token",
    [
        b"garbage",
        b"\xff\xfe",
        b"[]",
        b"7",
        b"null",
        b"{}",
        b'{"page": 3}',
        b'{"offset": -1}',
        b'{"offset": "5"}',
        b'{"offset": 2.5}',
        b'{"offset": 5.0}',
        b'{"offset": true}',
        b'{"offset": null}',
    ],
)
def test_a_malformed_token_is_an_invalid_argument(token: bytes) -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid NextPageToken"):
        offset_of(token)
