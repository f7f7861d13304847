"""The blocklist of common passwords, from zxcvbn's frequency lists.

Source: the ``passwords`` list of the ``zxcvbn`` package (zxcvbn-python, MIT licence,
https://github.com/dwolfhub/zxcvbn-python), the 30,000 most frequent passwords of leaked
password corpora as compiled for Dropbox's zxcvbn. Loaded once per process, on first use.
"""

from __future__ import annotations

from functools import cache


@cache
def common_passwords() -> frozenset[str]:
    """Case-folded, as the domain's ``common_password`` rule compares them."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
