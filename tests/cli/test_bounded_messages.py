"""Messages echo operator input bounded: a value is cut to 60 characters with its length, and every error line
to 1,000 characters, so no paste turns one line into a screenful. (The CLI cases are in test_bad_input.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from responder.cli.errors import LINE_LIMIT, bounded
from responder.engine.journal.runs import find_run
from responder.errors import UserError
from responder.redaction import REDACTED, SECRETS, shown
from tests.factories import make_key


def test_short_values_are_quoted_whole_and_newlines_stay_escaped() -> None:
    assert shown("alice") == "'alice'"
    assert shown("a\r\nerror: forged") == "'a\\r\\nerror: forged'"


def test_long_values_keep_60_characters_and_say_their_length() -> None:
    assert shown("x" * 100_000) == f"'{'x' * 60}'... (100,000 characters)"


def test_a_secret_is_redacted_before_it_is_cut() -> None:
    """Cut first, and the registered secret would no longer be found whole: its first 60 characters would show."""
    secret = "s3cr3t-" * 20
    SECRETS.register(secret)
    echoed = shown(secret + "-and-more")
    assert "s3cr3t" not in echoed and REDACTED in echoed
    key = make_key("alice-at-123456789012", "P" * 60)  # never registered: caught by its pattern
    assert key[8:40] not in shown(key + "x" * 100)


def test_an_error_line_keeps_its_head_and_tail() -> None:
    line = "error: parameter x: '" + "y" * 50_000 + "' does not match [a-z]+"
    cut = bounded(line)
    assert len(cut) <= LINE_LIMIT + 40
    assert cut.startswith("error: parameter x: 'yyy") and cut.endswith("' does not match [a-z]+")
    assert bounded("error: short") == "error: short"


def _runs(root: Path, count: int) -> None:
    for n in range(count):
        (root / f"20990101T000000Z-{n:06x}").mkdir(parents=True)
        (root / f"20990101T000000Z-{n:06x}" / "audit.jsonl").write_text("{}\n")


def test_an_ambiguous_prefix_lists_five_ids_and_how_many_more(tmp_path: Path) -> None:
    _runs(tmp_path, 36)
    with pytest.raises(UserError) as caught:
        find_run(tmp_path, "20990101T")
    message = str(caught.value)
    assert message.count("20990101T000000Z-") == 5 and "and 31 more" in message
    assert len(message) < 300


def test_a_few_ambiguous_ids_are_all_listed(tmp_path: Path) -> None:
    _runs(tmp_path, 3)
    with pytest.raises(UserError) as caught:
        find_run(tmp_path, "2099")
    assert str(caught.value).count("20990101T000000Z-") == 3 and ", and" not in str(caught.value)


def test_a_run_id_no_file_system_can_name_is_no_run(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no run '.*'\.\.\. \(1,000 characters\)"):
        find_run(tmp_path, "z" * 1_000)
