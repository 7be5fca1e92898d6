"""A key as it was pasted: quoted, in backticks, exported, behind a byte-order mark, wrapped over lines. One key in
such a wrapping is read, and one `note:` line says what was stripped; the key itself is never shown. A key cut short
is read too, with a note that it looks truncated. (Two keys, or a key among other words: test_bad_input.py.)"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from responder.cli.main import app
from responder.keys import KeyNotice, parse_long_term_key, read_key_file
from responder.sandbox.seed import Seeded
from tests.factories import ACCOUNT, credential_status, make_key, make_token

runner = CliRunner()
KEY = make_key(f"alice-at-{ACCOUNT}")
TOKEN = make_token("ASIAQ3EGXYZEXAMPLE01")
EXPORT = "export AWS_BEARER_TOKEN_BEDROCK="
WRAPPED = "\n".join(textwrap.wrap(KEY, 32))  # as a terminal or an e-mail breaks a long line

PASTED = [
    ("single-quotes", f"'{KEY}'\n", "surrounding quotes"),
    ("double-quotes", f'"{KEY}"', "surrounding quotes"),
    ("backticks", f"`{KEY}`", "surrounding backticks"),
    ("code-fence", f"```\n{KEY}\n```\n", "a ``` code fence"),
    ("code-fence-with-language", f"```sh\n{EXPORT}{KEY}\n```", "a ``` code fence and an 'export"),
    ("code-fence-inline", f"```{KEY}```", "a ``` code fence"),
    ("dotenv", f"BEDROCK_API_KEY={KEY}\n", "a 'BEDROCK_API_KEY=' prefix"),
    ("export", f"export AWS_BEARER_TOKEN_BEDROCK={KEY}", "an 'export AWS_BEARER_TOKEN_BEDROCK=' prefix"),
    (
        "export-quoted",
        f'export AWS_BEARER_TOKEN_BEDROCK="{KEY}"\n',
        "an 'export AWS_BEARER_TOKEN_BEDROCK=' prefix and surrounding quotes",
    ),
    ("powershell", f'$env:AWS_BEARER_TOKEN_BEDROCK = "{KEY}"', "a '$env:AWS_BEARER_TOKEN_BEDROCK =' prefix"),
    ("bom", f"\ufeff{KEY}\n", "a UTF-8 byte-order mark"),
    ("bom-and-quotes", f"\ufeff'{KEY}'", "a UTF-8 byte-order mark and surrounding quotes"),
    ("wrapped", WRAPPED + "\n", f"the line breaks of a key wrapped over {len(WRAPPED.splitlines())} lines"),
    ("wrapped-crlf", WRAPPED.replace("\n", "\r\n"), "the line breaks of a key wrapped over"),
    ("spaced", f"{KEY[:30]} {KEY[30:]}", "spaces inside the key"),
    ("wrapped-and-quoted", f'"{WRAPPED}"', "surrounding quotes and the line breaks"),
    (
        "short-term-exported",
        f"export AWS_BEARER_TOKEN_BEDROCK='{TOKEN}'",
        "an 'export AWS_BEARER_TOKEN_BEDROCK=' prefix",
    ),
    ("short-term-wrapped", "\n".join(textwrap.wrap(TOKEN, 76)), "the line breaks of a key wrapped over"),
]


def pasted(case: str) -> tuple[str, str]:
    text, note = next((text, note) for name, text, note in PASTED if name == case)
    return text, note


@pytest.mark.parametrize(("name", "text", "note"), PASTED, ids=[name for name, _, _ in PASTED])
def test_one_pasted_key_is_read_and_the_note_says_what_was_stripped(
    name: str, text: str, note: str, tmp_path: Path
) -> None:
    path = tmp_path / "key.txt"
    path.write_text(text, encoding="utf-8", newline="")
    with pytest.warns(KeyNotice) as notices:
        key = read_key_file(str(path))
    assert key == (TOKEN if name.startswith("short-term") else KEY)
    [notice] = notices
    assert str(notice.message).startswith("stripped ") and note in str(notice.message)
    assert str(notice.message).endswith(" from the key file")


def test_a_bare_key_says_nothing(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    (tmp_path / "key.txt").write_text(KEY + "\n")
    assert read_key_file(str(tmp_path / "key.txt")) == KEY
    assert [w for w in recwarn if issubclass(w.category, KeyNotice)] == []


@pytest.mark.parametrize("name", [name for name, _, _ in PASTED])
def test_identify_prints_one_note_and_the_same_facts_as_for_the_bare_key(name: str, tmp_path: Path) -> None:
    text, note = pasted(name)
    bare, wrapped = tmp_path / "bare.txt", tmp_path / "pasted.txt"
    bare.write_text(TOKEN if name.startswith("short-term") else KEY)
    wrapped.write_text(text, encoding="utf-8", newline="")
    expected = runner.invoke(app, ["identify", str(bare), "--offline", "-o", "json"])
    result = runner.invoke(app, ["identify", str(wrapped), "--offline", "-o", "json"])
    assert result.exit_code == 0, result.output
    facts, bare_facts = json.loads(result.stdout)["key"], json.loads(expected.stdout)["key"]
    # A short-term key's seconds_left counts down between the two calls: a second's tick is not a difference.
    assert abs(facts.pop("seconds_left", 0) - bare_facts.pop("seconds_left", 0)) <= 1
    assert facts == bare_facts  # the fingerprint included
    assert result.stderr.splitlines() == [f"note: stripped {result.stderr.split('stripped ', 1)[1].strip()}"]
    assert note in result.stderr
    everything = result.stdout + result.stderr
    for secret in (KEY, KEY[4:40], TOKEN, TOKEN[16:60]):
        assert secret not in everything


def test_stdin_says_standard_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["identify", "-", "--offline"], input=f"'{KEY}'\n")
    assert result.exit_code == 0, result.output
    assert result.stderr == "note: stripped surrounding quotes from standard input\n"


def test_a_pasted_key_is_contained(account: Seeded, iam: Any, tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text(f'export AWS_BEARER_TOKEN_BEDROCK="{account.key}"\n')
    args = ["run", "leaked-long-term-key", "--key-file", str(tmp_path / "key.txt"), "--yes"]
    result = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "note: stripped an 'export AWS_BEARER_TOKEN_BEDROCK=' prefix and surrounding quotes" in result.stderr
    assert credential_status(iam, account.user_name, account.credential_id) == "Inactive"


# A key cut short. Cut on a 4-character boundary, its base64 still decodes: the alias is whole, the secret is not.


def truncated(key: str, keep: int) -> str:
    return key[: 4 + (len(key) - 4 - keep) // 4 * 4]


def test_a_truncated_key_is_read_with_a_warning_that_names_how_the_user_was_found() -> None:
    short = truncated(KEY, 24)
    with pytest.warns(KeyNotice) as notices:
        key = parse_long_term_key(short)
    [notice] = notices
    message = str(notice.message)
    assert message.startswith("the key looks truncated: its secret part has ")
    assert "of AWS's 60 characters. Its alias, not its secret, identified user alice" in message
    assert key.fingerprint in message and key.user_name == "alice"
    assert short[4:] not in message and "s3cr3t" not in message


def test_a_whole_key_is_not_called_truncated(recwarn: pytest.WarningsRecorder) -> None:
    parse_long_term_key(KEY)
    parse_long_term_key(KEY.rstrip("="))  # the envelope's padding is optional; the secret part is whole
    assert [w for w in recwarn if issubclass(w.category, KeyNotice)] == []


def test_a_truncated_key_still_contains_its_user_and_says_so(account: Seeded, iam: Any, tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text(truncated(account.key, 20))
    args = ["run", "leaked-long-term-key", "--key-file", str(tmp_path / "key.txt"), "--dry-run"]
    result = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    [note] = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert note.startswith("note: the key looks truncated") and f"identified user {account.user_name}" in note
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"  # a dry run
