"""Key input is read with a bound, and a parameter that may hold a key is refused unseen: one line, exit 2, nothing
kept. In process, through the CLI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from responder.cli.main import app
from responder.keys import KEY_INPUT_LIMIT
from responder.keys.registry import may_hold_key
from tests.factories import ACCOUNT, SECRET_PART, make_key

runner = CliRunner()


def test_an_endless_key_file_is_refused_at_the_bound() -> None:
    result = runner.invoke(app, ["identify", "--offline", "/dev/zero"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"error: /dev/zero: more than {KEY_INPUT_LIMIT} bytes, not read further: a key is under 2 KB, so this is "
        "not a key file"
    ]


def test_a_flood_on_standard_input_is_refused_at_the_bound() -> None:
    """`yes ABSK | responder identify -` never ends: only the bound's worth is read (here a megabyte is offered)."""
    result = runner.invoke(app, ["identify", "--offline", "-"], input=b"ABSK\n" * 200_000)
    assert result.exit_code == 2, result.output
    assert "standard input: more than 8192 bytes" in result.stderr and "MemoryError" not in result.output


def test_a_keys_body_given_as_a_parameter_is_refused_unseen(tmp_path: Path) -> None:
    body = make_key(f"somebody-at-{ACCOUNT}")[len("ABSK") :]
    for value in (body[:64], SECRET_PART[:25].replace("/", "A"), "ABSK" + body[:20]):
        result = runner.invoke(
            app, ["run", "leaked-long-term-key", "-p", f"user_name={value}", "--dry-run", "--runs-dir", str(tmp_path)]
        )
        assert result.exit_code == 2, result.output
        assert value not in result.output and value[:12] not in result.output
        assert "looks like (part of) a key, not shown and not taken" in result.stderr
    assert not any(tmp_path.glob("*/audit.jsonl"))  # nothing journaled


def test_ordinary_values_are_not_mistaken_for_keys() -> None:
    for value in ("BedrockAPIKey-xqq4", "a" * 65, "us-east-1,us-west-2", "ACCAPU32X7T5IOWW545J7", "user=ml-*"):
        assert not may_hold_key(value), value
