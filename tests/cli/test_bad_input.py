"""A corpus of malformed input, each run through the CLI in-process against the emulated account.

Every case must end as the README's exit codes promise for bad input: exit 2, exactly one non-empty line on stderr
naming the problem, no traceback, no mutating AWS request sent, and the account exactly as it was.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from pytest import MarkDecorator, ParameterSet
from typer.testing import CliRunner

from responder.aws.clients import Clients, is_read_only
from responder.cli.main import app, main
from responder.sandbox.seed import LEAKED_USER, Seeded
from tests.factories import ACCOUNT, credential_status, make_key, make_token

runner = CliRunner()

# --------------------------------------------------------------------------------------------------------------
# Inputs. "{tmp}" in an argument or a message stands for the test's tmp_path, where the case's files are written.


class Special(Enum):
    DIRECTORY = "a directory"
    UNREADABLE = "a file of mode 000"


Content = str | bytes | Special | None  # None: leave the file missing

RUNS = ("--runs-dir", "{tmp}/runs")
KEY_FILE = "{tmp}/key.txt"
PLAYBOOK_FILE = "{tmp}/pb.yaml"
KEY = make_key(f"{LEAKED_USER}-at-{ACCOUNT}")  # the leaked user's alias: a well-formed long-term key
TOKEN = make_token("ASIAQ3EGXYZEXAMPLE01")  # a well-formed short-term key (its session is unknown to CloudTrail)
S3_URL = (
    "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
    "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)


def short_term_url(token: str) -> str:
    body = token[len("bedrock-api-key-") :]
    return base64.b64decode(body + "=" * (-len(body) % 4)).decode()


def as_short_term(url: str) -> str:
    return "bedrock-api-key-" + base64.b64encode(url.encode()).decode()


TOKEN_URL = short_term_url(TOKEN)
BASE_PLAYBOOK = """\
name: custom
description: a playbook with one step
steps:
  - id: deny
    action: iam.deny-bearer-tokens-for-user
    with:
      user_name: alice
"""
ALIAS_BOMB = "name: custom\ndescription: d\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9)
)
DEEP_NESTING = "[" * 600 + "]" * 600


def playbook(replace: str = "", by: str = "", extra: str = "") -> str:
    """BASE_PLAYBOOK with one thing changed: `replace` (which must be there) by `by`, or `extra` appended."""
    assert replace in BASE_PLAYBOOK, replace
    return BASE_PLAYBOOK.replace(replace, by, 1) + extra


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    message: str  # a distinctive piece of the one error line
    files: Mapping[str, Content] = field(default_factory=dict)
    marks: tuple[MarkDecorator, ...] = ()
    via_main: bool = False  # through `responder.cli.main.main`, the installed entry point, not the Typer app alone
    max_line: int = 300  # characters in the one line: an operator reads it at a glance, whatever they pasted
    before_aws: bool = False  # refused before any AWS request at all, read-only ones included


def bug(reason: str) -> tuple[MarkDecorator, ...]:
    return (pytest.mark.xfail(strict=True, reason=f"BUG: {reason}"),)


# Playbook files, each given to `run FILE --dry-run` and to `validate FILE`; each has exactly one problem.
PLAYBOOK_FILES: list[tuple[str, Content, str, tuple[MarkDecorator, ...]]] = [
    ("yaml-syntax", "name: custom\ndescription: [unclosed\nsteps: []\n", ":3: invalid YAML", ()),
    ("yaml-bad-indent", playbook("    action:", "   action:"), ":5: invalid YAML", ()),
    ("wrong-type-steps", "name: custom\ndescription: d\nsteps: deny\n", "steps: Input should be a valid list", ()),
    ("wrong-type-name", playbook("name: custom", "name: [a, b]"), ":1: name: Input should be a valid string", ()),
    ("bad-step-id", playbook("id: deny", "id: Deny Step"), "steps.0.id: String should match pattern", ()),
    ("no-steps", "name: custom\ndescription: d\nsteps: []\n", "steps: List should have at least 1 item", ()),
    ("missing-description", playbook("description: a playbook with one step\n"), "description: Field required", ()),
    ("unknown-action", playbook("iam.deny-bearer-tokens-for-user", "iam.nope"), ":5: unknown action 'iam.nope'", ()),
    ("unknown-field", playbook(extra="colour: red\n"), ":8: colour: unknown field", ()),
    ("unknown-step-field", playbook("    with:", "    retries: 3\n    with:"), "steps.0.retries: unknown field", ()),
    ("unknown-argument", playbook(extra="      colour: red\n"), "has no argument 'colour'", ()),
    ("argument-wrong-type", playbook("user_name: alice", "user_name: [a, b]"), "user_name: Input should be", ()),
    ("missing-argument", playbook("    with:\n      user_name: alice\n"), "is missing argument 'user_name'", ()),
    (
        "unresolvable-step-reference",
        playbook("user_name: alice", "user_name: ${steps.nowhere.user_name}"),
        "refers to step 'nowhere', which does not come before this one",
        (),
    ),
    (
        "unresolvable-param-reference",
        playbook("user_name: alice", "user_name: ${params.nobody}"),
        "unknown parameter 'nobody' in ${params.nobody}",
        (),
    ),
    ("key-reference-without-key", playbook("user_name: alice", "user_name: ${key}"), "declares no key input", ()),
    ("bad-reference", playbook("user_name: alice", "user_name: ${env.HOME}"), "bad reference ${env.HOME}", ()),
    ("when-without-reference", playbook("    with:", "    when: sometimes\n    with:"), "when: needs a ${...}", ()),
    (
        "bad-parameter-default",
        playbook(extra="parameters:\n  wipe:\n    type: boolean\n    description: d\n    default: maybe\n"),
        "parameter wipe: expected true or false, got 'maybe'",
        (),
    ),
    ("bad-on-failure", playbook(extra="on_failure: retry\n"), "on_failure: Input should be 'stop' or 'rollback'", ()),
    (
        "duplicate-step-id",
        playbook(extra="  - id: deny\n    action: iam.deny-bearer-tokens-for-user\n    with:\n      user_name: bob\n"),
        ":8: duplicate step id 'deny'",
        (),
    ),
    ("over-1-MiB", playbook(extra="# " + "x" * (1024 * 1024) + "\n"), "is larger than 1024 KiB", ()),
    ("alias-bomb", ALIAS_BOMB, ":4: YAML aliases (*name) are not allowed in playbooks", ()),
    ("not-utf8", playbook("a playbook", "a pl\xe4ybook").encode("latin-1"), "not UTF-8 text (byte 30)", ()),
    ("empty-file", "", ":1: the file is empty", ()),
    ("comments-only", "# nothing here\n", ":1: the file is empty", ()),
    ("yaml-list", "- name: custom\n- description: d\n", "playbook: Input should be a valid dictionary", ()),
    ("yaml-scalar", "just a sentence\n", "playbook: Input should be a valid dictionary", ()),
    ("two-documents", BASE_PLAYBOOK + "---\n" + BASE_PLAYBOOK, ":8: invalid YAML: but found another document", ()),
    ("directory", Special.DIRECTORY, "{tmp}/pb.yaml: is a directory, not a playbook file", ()),
    ("missing-file", None, "{tmp}/pb.yaml: no such file", ()),
    # Found by this corpus and fixed since: constructor errors, unhashable keys, deep nesting, bad patterns.
    (
        "python-tag",
        playbook("action: iam.deny-bearer-tokens-for-user", "action: !!python/object:os.system x"),
        ":5: YAML tags (tag:yaml.org,2002:python/object:os.system) are not allowed in playbooks",
        (),
    ),
    ("unhashable-key", playbook(extra="? [a, b]\n: c\n"), ":8: invalid YAML: found unhashable key", ()),
    ("deep-nesting", DEEP_NESTING, ":1: nested more than 32 levels deep", ()),
    (
        "invalid-parameter-pattern",
        playbook(extra="parameters:\n  who:\n    description: d\n    pattern: '['\n    default: alice\n"),
        ":11: parameters.who.pattern: Value error, not a regular expression",
        (),
    ),
    # Values YAML cannot construct are one line and exit 2 now, but say neither where (validate promises FILE:LINE)
    # nor, for a timestamp, what: "AttributeError: 'NoneType' object has no attribute 'groupdict'".
    (
        "bad-int-tag",
        playbook("description: a playbook with one step", "description: !!int ten"),
        ":2: YAML tags (tag:yaml.org,2002:int) are not allowed",
        (),
    ),
    (
        "bad-timestamp-tag",
        playbook("user_name: alice", "user_name: !!timestamp someday"),
        ":7: YAML tags (tag:yaml.org,2002:timestamp) are not allowed",
        (),
    ),
]


def playbook_cases() -> list[Case]:
    cases = []
    for name, content, message, marks in PLAYBOOK_FILES:
        files = {"pb.yaml": content}
        cases.append(Case(f"run-playbook-{name}", ("run", PLAYBOOK_FILE, "--dry-run", *RUNS), message, files, marks))
        cases.append(Case(f"validate-{name}", ("validate", PLAYBOOK_FILE), message, files, marks))
    return cases


LONG = ("run", "leaked-long-term-key", "--key-file", KEY_FILE, "--dry-run", *RUNS)
SHORT = ("run", "leaked-short-term-key", "--key-file", KEY_FILE, "--dry-run", *RUNS)
NO_KEY = ("run", "leaked-long-term-key", "--dry-run", *RUNS)
IAM_PATTERN = r"does not match [A-Za-z0-9_+=,.@-]{1,64}"


# Cases start_run refuses before any AWS request (check_parameters), not only before any change.
CHECKED_EARLY = True


def param_case(name: str, args: tuple[str, ...], message: str, before_aws: bool = False) -> Case:
    """A -p case; when it runs with --key-file, the file holds a well-formed key of the playbook's kind."""
    files: dict[str, Content] = {}
    if KEY_FILE in args:
        files["key.txt"] = TOKEN if "leaked-short-term-key" in args else KEY
    return Case(f"param-{name}", args, message, files, (), before_aws=before_aws)


PARAMETER_CASES = [
    param_case("user-name-too-long", (*NO_KEY, "-p", "user_name=" + "a" * 65), f"... (65 characters) {IAM_PATTERN}"),
    # Echoed input is bounded: 60 characters and its length, however much was pasted.
    param_case(
        "user-name-100-KB", (*NO_KEY, "-p", "user_name=" + "a" * 100_000), f"'{'a' * 60}'... (100,000 characters) does"
    ),
    param_case("no-equals-100-KB", (*LONG, "-p", "x" * 100_000), "-p expects NAME=VALUE, got 'xxx"),
    param_case(
        "unknown-parameter-100-KB", (*LONG, "-p", "y" * 100_000 + "=1"), "(100,000 characters) for playbook leaked-long"
    ),
    param_case("integer-5000-digits", (*LONG, "-p", "max_events=" + "9" * 5000), "(5,000 characters) is too large"),
    # aws.py echoes --region whole: the error handler's net keeps the line's head and tail (1,000 characters).
    Case(
        "region-option-100-KB",
        (*LONG, "--region", "r" * 100_000),
        "characters cut) ... rrrrrrrrrr",
        {"key.txt": KEY},
        max_line=1_100,
    ),
    param_case("user-name-space-and-bang", (*NO_KEY, "-p", "user_name=bad name!"), f"'bad name!' {IAM_PATTERN}"),
    param_case("user-name-shell-command", (*NO_KEY, "-p", "user_name=x; rm -rf /"), f"'x; rm -rf /' {IAM_PATTERN}"),
    param_case("user-name-command-substitution", (*NO_KEY, "-p", "user_name=$(id)"), f"'$(id)' {IAM_PATTERN}"),
    param_case("user-name-backticks", (*NO_KEY, "-p", "user_name=`id`"), f"'`id`' {IAM_PATTERN}"),
    param_case(
        "user-name-path-traversal", (*NO_KEY, "-p", "user_name=../../etc/passwd"), f"'../../etc/passwd' {IAM_PATTERN}"
    ),
    param_case("user-name-newline", (*NO_KEY, "-p", "user_name=alice\nbob"), rf"'alice\nbob' {IAM_PATTERN}"),
    param_case("user-name-crlf-forged-line", (*NO_KEY, "-p", "user_name=a\r\nerror: b"), r"'a\r\nerror: b' does not"),
    param_case("user-name-empty", (*NO_KEY, "-p", "user_name="), f"parameter user_name: '' {IAM_PATTERN}"),
    param_case("user-name-not-in-account", (*NO_KEY, "-p", "user_name=nobody"), "IAM user 'nobody' does not exist"),
    param_case("user-name-not-the-keys", (*LONG, "-p", "user_name=ml-pipeline"), "names user 'BedrockAPIKey-demo'"),
    param_case(
        "credential-id-injection", (*LONG, "-p", "credential_id=$(id)"), r"'$(id)' does not match [A-Za-z0-9_]{20,128}"
    ),
    param_case(
        "credential-id-not-the-users",
        (*LONG, "-p", "credential_id=ACCA" + "Z" * 20),
        f"credential ACCA{'Z' * 20} is not a Bedrock credential of the key's alias BedrockAPIKey-demo-at-",
    ),
    param_case(
        "role-name-injection", (*SHORT, "-p", "role_name=x; rm -rf /"), f"role_name: 'x; rm -rf /' {IAM_PATTERN}"
    ),
    param_case("unknown-parameter", (*LONG, "-p", "colour=red"), "unknown parameter 'colour' for playbook leaked-long"),
    param_case("without-equals", (*LONG, "-p", "user_name"), "-p expects NAME=VALUE, got 'user_name'"),
    param_case("without-name", (*LONG, "-p", "=alice"), "-p expects NAME=VALUE, got '=alice'"),
    param_case("given-twice", (*NO_KEY, "-p", "user_name=a", "-p", "user_name=b"), "parameter 'user_name' given twice"),
    param_case("boolean-maybe", (*LONG, "-p", "delete_key=maybe"), "parameter delete_key: expected true or false"),
    param_case("integer-ten", (*LONG, "-p", "max_events=ten"), "parameter max_events: expected a whole number, got"),
    param_case("integer-float", (*LONG, "-p", "max_events=1e3"), "parameter max_events: expected a whole number"),
    # Refused before the first AWS request, in the operator's words (param_checks.check_parameters).
    param_case("integer-zero", (*LONG, "-p", "max_events=0"), "-p max_events=0: must be at least 1", CHECKED_EARLY),
    param_case(
        "integer-huge",
        (*LONG, "-p", "max_events=" + "9" * 30),
        f"max_events={'9' * 30}: must be at most",
        CHECKED_EARLY,
    ),
    # Today the unknown session is reported first: the bad parameter waits behind a CloudTrail search.
    param_case("short-term-integer-zero", (*SHORT, "-p", "max_events=0"), "-p max_events=0: must be", CHECKED_EARLY),
    param_case("key-as-parameter", (*NO_KEY, "-p", f"key={KEY}"), "pass the leaked key with --key-file FILE"),
    param_case("token-as-parameter", (*NO_KEY, "-p", f"api_key={TOKEN}"), "pass the leaked key with --key-file FILE"),
    param_case("secret-as-parameter", (*NO_KEY, "-p", "secret=hunter2hunter2"), "never as -p"),
    param_case("regions-path-traversal", (*LONG, "-p", "regions=../../etc"), "parameter regions: '../../etc' does not"),
    param_case(
        "regions-shell-command", (*SHORT, "-p", "regions=us-east-1; rm -rf /"), "'us-east-1; rm -rf /' does not"
    ),
    param_case(
        "region-option-path-traversal", (*LONG, "--region", "../../x"), "--region '../../x' is not an AWS region"
    ),
    # Regions are what botocore's partitions name (eusc-de-east-1 is one); a region-shaped name is not enough.
    param_case("region-option-no-partition", (*LONG, "--region", "xx-east-1"), "--region 'xx-east-1' is not an AWS"),
    param_case("region-option-upper-case", (*LONG, "--region", "US-EAST-1"), "--region 'US-EAST-1' is not an AWS"),
    param_case(
        "regions-no-partition",
        (*LONG, "-p", "regions=us-east-1,xx-east-1"),
        "-p regions='us-east-1,xx-east-1': not AWS region names: 'xx-east-1'",
        CHECKED_EARLY,
    ),
]


def key_case(
    name: str, key: Content, message: str, args: tuple[str, ...] = LONG, marks: tuple[MarkDecorator, ...] = ()
) -> Case:
    return Case(f"key-{name}", args, message, {"key.txt": key}, marks)


KEY_CASES = [
    key_case("truncated-in-alias", KEY[:30], "the decoded key has no '<alias>:<secret>' form"),
    key_case("truncated-mid-base64", KEY[:33], "the key after ABSK is not valid base64"),
    # A prefix no family claims (AWS documents none for CloudWatch's keys): the alias is looked up in every
    # family's listing, and a key no family lists is refused without any change.
    key_case(
        "wrong-prefix",
        "ABSX" + make_key(f"nobody-at-{ACCOUNT}")[4:],
        "no credential in account 123456789012 has the key's alias",
    ),
    key_case(
        "lowercase-prefix",
        "absk" + make_key(f"nobody-at-{ACCOUNT}")[4:],
        "no credential in account 123456789012 has the key's alias",
    ),
    key_case("access-key-id", "AKIAIOSFODNN7EXAMPLE", "not an AWS API key of a family responder knows: Amazon Bedrock"),
    key_case("bad-base64", "ABSK!!not*base64??", "the key after ABSK is not valid base64"),
    key_case("url-safe-base64", "ABSK" + KEY[4:].rstrip("=") + "-_", "the key after ABSK is not valid base64"),
    key_case("base64-of-binary", "ABSK" + base64.b64encode(bytes(range(128, 200))).decode(), "decoded key is not text"),
    key_case("no-secret", make_key(f"{LEAKED_USER}-at-{ACCOUNT}", secret=""), "no '<alias>:<secret>' form"),
    key_case("another-account", make_key("alice-at-999999999999"), "the key belongs to account 999999999999"),
    key_case("eleven-digit-account", make_key("alice-at-12345678901"), "does not end in -at-<12-digit account id>"),
    key_case("alias-without-at", make_key(LEAKED_USER), "its alias does not end in -at-<12-digit account id>"),
    key_case("alias-bad-user-name", make_key(f"bad name!-at-{ACCOUNT}"), "does not start with a valid IAM user name"),
    key_case("alias-of-unknown-user", make_key(f"nobody-at-{ACCOUNT}"), "has the key's alias 'nobody-at-123456789012'"),
    key_case("short-term-to-long-term", TOKEN, "this is a short-term key and leaked-long-term-key contains long-term"),
    key_case("long-term-to-short-term", KEY, "this is a long-term key and leaked-short-term-key contains", SHORT),
    key_case("truncated-short-term", TOKEN[:100], "the presigned request is not SigV4-signed", SHORT),
    key_case("short-term-bad-base64", "bedrock-api-key-%%%", "the key after bedrock-api-key- is not valid", SHORT),
    key_case(
        "foreign-presigned-s3-url", as_short_term(S3_URL), "not a bedrock.amazonaws.com CallWithBearerToken", SHORT
    ),
    key_case(
        "short-term-over-12-hours",
        as_short_term(TOKEN_URL.replace("X-Amz-Expires=43200", "X-Amz-Expires=86400")),
        "X-Amz-Expires is 86400, outside 1..43200",
        SHORT,
    ),
    key_case(
        "short-term-bad-date",
        as_short_term(TOKEN_URL.replace("X-Amz-Date=", "X-Amz-Date=yesterday")),
        "X-Amz-Date or X-Amz-Expires is malformed",
        SHORT,
    ),
    key_case(
        "short-term-not-bedrock-scope",
        as_short_term(TOKEN_URL.replace("%2Fbedrock%2F", "%2Fs3%2F")),
        "X-Amz-Credential is not <access key>/<date>/<region>/bedrock/aws4_request",
        SHORT,
    ),
    key_case("two-keys-in-one-file", f"{KEY}\n{KEY}\n", "the key file holds 2 API keys"),
    # Pasted shapes are unwrapped (test_pasted_keys.py) only around exactly one key.
    key_case("two-keys-of-two-kinds", f"{KEY} {TOKEN}", "the key file holds 2 API keys"),
    key_case("two-keys-exported", f"export A={KEY}\nexport B='{KEY}'\n", "the key file holds 2 API keys"),
    key_case("two-keys-quoted-together", f'"{KEY}{KEY}"', "the key file holds 2 API keys"),
    key_case("key-and-prose", f"here it is: {KEY}", "the key file must hold one key and nothing else"),
    key_case("wrapped-key-and-comment", f"{KEY[:40]}\n{KEY[40:]}\n# rotated?", "must hold one key and nothing"),
    key_case("unmatched-quote", f'"{KEY}', "not an AWS API key of a family responder knows"),
    key_case("assignment-of-no-key", "export AWS_BEARER_TOKEN_BEDROCK=", "the key file holds no API key"),
    key_case("only-a-bom", "\ufeff\n", "{tmp}/key.txt: the key file is empty"),
    key_case("key-and-comment", f"{KEY} # from #general\n", "the key file must hold one key and nothing else"),
    key_case("empty-key-file", "", "{tmp}/key.txt: the key file is empty"),
    key_case("blank-key-file", " \n\t\n", "{tmp}/key.txt: the key file is empty"),
    key_case("not-utf8-key-file", b"ABSK\xff\xfe", "{tmp}/key.txt: the key file is not UTF-8 text"),
    key_case("missing-key-file", None, "{tmp}/key.txt: no such key file"),
    key_case("directory-as-key-file", Special.DIRECTORY, "{tmp}/key.txt: is a directory, not a key file"),
    key_case(
        "unreadable-key-file",
        Special.UNREADABLE,
        "{tmp}/key.txt: permission denied reading the key file",
        marks=(pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file of mode 000"),),
    ),
    key_case("identify-offline-bad-base64", "ABSK!!", "is not valid base64", ("identify", KEY_FILE, "--offline")),
    key_case("identify-s3-url", as_short_term(S3_URL), "CallWithBearerToken request", ("identify", KEY_FILE)),
    key_case("identify-missing-file", None, "{tmp}/key.txt: no such key file", ("identify", "--key-file", KEY_FILE)),
    key_case("identify-empty-file", "", "{tmp}/key.txt: the key file is empty", ("identify", KEY_FILE)),
    Case(
        "key-given-to-keyless-playbook",
        ("run", PLAYBOOK_FILE, "--key-file", KEY_FILE, "--dry-run", *RUNS),
        "playbook custom takes no key; drop --key-file",
        {"key.txt": KEY, "pb.yaml": BASE_PLAYBOOK},
    ),
]

MISSING_RUN = "20990101T000000Z-000000"
# 36 runs started in the same second: a prefix naming them all lists five and says how many more.
SAME_SECOND = {f"runs/20990101T000000Z-{n:06x}/audit.jsonl": "{}\n" for n in range(1, 37)}
RUN_ID_CASES = [
    Case(
        "resume-ambiguous-prefix",
        ("resume", "20990101T", *RUNS),
        "20990101T000000Z-000005, and 31 more (give more of the id",
        SAME_SECOND,
    ),
    Case("report-run-id-100-KB", ("report", "z" * 100_000, *RUNS), f"no run '{'z' * 60}'... (100,000 characters)"),
    *(
        Case(f"{command}-{name}", (command, run_id, *RUNS), message)
        for command in ("rollback", "resume", "report")
        for name, run_id, message in (
            ("missing-id", MISSING_RUN, f"no run '{MISSING_RUN}' in {{tmp}}/runs"),
            ("parent-path", "../x", "'../x' is not a run id"),
            ("empty-id", "", "'' is not a run id"),
            ("hidden-id", ".hidden", "'.hidden' is not a run id"),
        )
    ),
    Case("audit-verify-parent-path", ("audit", "verify", "../x", *RUNS), "'../x' is not a run id"),
    Case("audit-verify-missing-id", ("audit", "verify", MISSING_RUN, *RUNS), f"no run '{MISSING_RUN}'"),
    Case("rollback-without-id", ("rollback", *RUNS), "Missing argument 'RUN_ID'", via_main=True),
]

# Usage errors Click itself detects: the entry point turns them into one line too (the Typer app alone draws a box).
USAGE_CASES = [
    Case("usage-unknown-option", ("run", "leaked-long-term-key", "--bogus"), "No such option: --bogus", via_main=True),
    Case(
        "usage-option-without-value",
        ("run", "leaked-long-term-key", "-p"),
        "Option '-p' requires an argument",
        via_main=True,
    ),
    Case("usage-unknown-command", ("contain", "leaked-long-term-key"), "No such command 'contain'", via_main=True),
    Case("usage-no-such-subcommand", ("audit", "fix"), "No such command 'fix'", via_main=True),
]

OUTPUT_CASES = [
    Case("run-output-yaml", (*LONG, "-o", "yaml"), "--output must be one of: text, json", {"key.txt": KEY}),
    Case("identify-output-yaml", ("identify", KEY_FILE, "-o", "yaml"), "--output must be one of", {"key.txt": KEY}),
    Case("rollback-output-yaml", ("rollback", MISSING_RUN, "-o", "yaml", *RUNS), "--output must be one of"),
    Case("resume-output-xml", ("resume", MISSING_RUN, "--output", "xml", *RUNS), "--output must be one of"),
    Case("report-format-pdf", ("report", MISSING_RUN, "--format", "pdf", *RUNS), "--format must be one of: markdown"),
    Case("run-no-such-playbook", ("run", "no-such-playbook", "--dry-run", *RUNS), "no playbook named 'no-such-"),
    Case("run-neither-key-nor-user", NO_KEY, "give the leaked key"),
]

MANY = ("run", "contain-bedrock-keys", "-p", "filter=all", *RUNS)
ACCOUNTS_FILE = "{tmp}/accounts.txt"
FANOUT_CASES = [
    Case("filter-missing", ("run", "contain-bedrock-keys", "--dry-run", *RUNS), "needs -p filter="),
    Case("filter-empty", ("run", "contain-bedrock-keys", "-p", "filter=", "--dry-run", *RUNS), "does not match"),
    Case("filter-unknown-term", (*MANY[:3], "filter=owner=x", "--dry-run", *RUNS), "'owner=x' does not match"),
    Case("filter-days-not-number", (*MANY[:3], "filter=older-than=ninety", "--dry-run", *RUNS), "does not match"),
    Case("accounts-missing-file", (*MANY, "--dry-run", "--accounts", ACCOUNTS_FILE), "accounts.txt: no such file"),
    Case(
        "accounts-short-id",
        (*MANY, "--dry-run", "--accounts", ACCOUNTS_FILE),
        "accounts.txt:2: expected ACCOUNT_ID",
        {"accounts.txt": "111122223333\n12345\n"},
    ),
    Case(
        "accounts-bad-role",
        (*MANY, "--dry-run", "--accounts", ACCOUNTS_FILE),
        "accounts.txt:1: expected ACCOUNT_ID",
        {"accounts.txt": "111122223333,role with spaces\n"},
    ),
    Case(
        "accounts-duplicate",
        (*MANY, "--dry-run", "--accounts", ACCOUNTS_FILE),
        "account 111122223333 is already on line 1",
        {"accounts.txt": "111122223333\n# again:\n111122223333,Other\n"},
    ),
    Case(
        "accounts-only-comments",
        (*MANY, "--dry-run", "--accounts", ACCOUNTS_FILE),
        "lists no account",
        {"accounts.txt": "# none yet\n\n"},
    ),
    Case("accounts-and-org", (*MANY, "--dry-run", "--org", "--accounts", ACCOUNTS_FILE), "not both"),
    Case("fanout-concurrency-zero", (*MANY, "--dry-run", "--org", "--concurrency", "0"), "--concurrency must be 1"),
    Case("fanout-bad-role-name", (*MANY, "--dry-run", "--org", "--role-name", "a/b"), "is not an IAM role name"),
    Case("fanout-without-yes", (*MANY, "--org"), "review it with --dry-run, then re-run with --yes"),
    Case(
        "fanout-with-a-key",
        ("run", "leaked-long-term-key", "--key-file", KEY_FILE, "--org", "--dry-run", *RUNS),
        "a leaked key names its own account",
        {"key.txt": KEY},
    ),
    Case("sweep-org-and-accounts", ("sweep", "--org", "--accounts", ACCOUNTS_FILE), "not both"),
    Case("sweep-concurrency-huge", ("sweep", "--org", "--concurrency", "1000"), "--concurrency must be 1 to 64"),
    Case("org-not-in-use", (*MANY, "--dry-run", "--org"), "your account is not in an organization"),
    Case("run-no-such-profile", (*LONG, "--profile", "no-such"), "(no-such) could not be found", {"key.txt": KEY}),
    Case("sweep-no-such-profile", ("sweep", "--profile", "no-such"), "(no-such) could not be found"),
    Case("fanout-no-such-profile", (*MANY, "--dry-run", "--org", "--profile", "no-such"), "could not be found"),
]

CASES = playbook_cases() + PARAMETER_CASES + KEY_CASES + RUN_ID_CASES + OUTPUT_CASES + USAGE_CASES + FANOUT_CASES


# --------------------------------------------------------------------------------------------------------------
# Observing the account: every AWS operation the CLI sends, and what the account holds.


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every AWS operation sent by any Clients the CLI opens."""
    names: list[str] = []
    original = Clients.__init__

    def init(self: Clients, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)

        def record(model: Any, **_: Any) -> None:
            names.append(model.name)

        self.on_request(record)

    monkeypatch.setattr(Clients, "__init__", init)
    return names


_SESSION: list[boto3.session.Session] = []


@pytest.fixture
def iam(account: Seeded) -> Any:
    """conftest's `iam`, from one long-lived session: a new session per test reloads IAM's model (0.1 s each)."""
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0].client("iam", region_name="us-east-1")


def account_state(iam: Any) -> dict[str, Any]:
    """Every Bedrock credential with its status, and every user's, group's and role's policies: what a change would
    touch. Two calls, so the corpus stays fast."""
    details = iam.get_account_authorization_details()
    credentials = iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]
    return {
        "credentials": sorted((c["ServiceSpecificCredentialId"], c["Status"]) for c in credentials),
        **{k: v for k, v in details.items() if k.endswith("List") or k == "Policies"},
    }


def write_files(tmp_path: Path, files: Mapping[str, Content]) -> None:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is Special.DIRECTORY:
            path.mkdir()
        elif content is Special.UNREADABLE:
            path.write_text(KEY)
            path.chmod(0)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def invoke(args: list[str], via_main: bool = False) -> Outcome:
    """The CLI in-process: the Typer app under CliRunner, or the installed entry point with the same isolation."""
    if not via_main:
        result = runner.invoke(app, args)
        return Outcome(result.exit_code, result.stdout, result.stderr, result.exception)
    exception: BaseException | None = None
    code = 0
    # Typer installs its own sys.excepthook when called: put pytest's back afterwards.
    with runner.isolation() as (out, err, _), mock.patch.object(sys, "argv", ["responder", *args]):
        with mock.patch.object(sys, "excepthook", sys.excepthook):
            try:
                main()
            except SystemExit as exc:
                exception = exc
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except Exception as exc:
                exception, code = exc, 1
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return Outcome(code, stdout, stderr, exception)


def params(cases: list[Case]) -> list[ParameterSet]:
    return [pytest.param(c, id=c.id, marks=c.marks) for c in cases]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    case: Case, account: Seeded, iam: Any, sent: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Relative paths in the cases (`../x`) mean the same wherever the suite is run from.
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    before = account_state(iam)
    write_files(tmp_path, case.files)
    result = invoke([arg.replace("{tmp}", str(tmp_path)) for arg in case.args], case.via_main)

    everything = result.stdout + result.stderr + repr(result.exception)
    assert "Traceback" not in everything, everything[-3000:]
    assert result.exit_code == 2, everything[-3000:]
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no exception escaped the handler
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "internal error" not in lines[0], lines[0]
    assert case.message.replace("{tmp}", str(tmp_path)) in lines[0]
    assert len(lines[0].replace(str(tmp_path), "{tmp}")) <= case.max_line, f"{len(lines[0])}: {lines[0][:300]}"
    assert [op for op in sent if not is_read_only(op)] == []
    assert not case.before_aws or sent == [], sent
    assert account_state(iam) == before
    assert credential_status(iam, account.user_name, account.credential_id) == "Active"


# --------------------------------------------------------------------------------------------------------------
# The corpus and the checks above can fail: the inputs it breaks are valid, and the observers do see changes.


def test_the_corpus_is_large_and_each_case_distinct() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({c.args + tuple(map(repr, c.files.values())) for c in CASES}) == len(CASES)


def test_the_inputs_the_corpus_breaks_are_valid(account: Seeded, tmp_path: Path) -> None:
    (tmp_path / "pb.yaml").write_text(BASE_PLAYBOOK)
    (tmp_path / "key.txt").write_text(KEY)
    (tmp_path / "token.txt").write_text(TOKEN)
    runs = ["--runs-dir", str(tmp_path / "runs")]
    assert runner.invoke(app, ["validate", str(tmp_path / "pb.yaml")]).exit_code == 0
    long_term = runner.invoke(
        app, ["run", "leaked-long-term-key", "--key-file", str(tmp_path / "key.txt"), "--dry-run", *runs]
    )
    assert long_term.exit_code == 0 and "PLANNED" in long_term.stdout, long_term.output
    offline = runner.invoke(app, ["identify", str(tmp_path / "token.txt"), "--offline"])
    assert offline.exit_code == 0 and "ASIAQ3EGXYZEXAMPLE01" in offline.stdout, offline.output
    short_term = ["run", "leaked-short-term-key", "--key-file", str(tmp_path / "token.txt"), "--dry-run", *runs]
    unnamed = runner.invoke(app, short_term)  # parsed, then no CloudTrail event names its session: that is all
    assert unnamed.exit_code == 2 and "names access key ASIAQ3EGXYZEXAMPLE01" in unnamed.stderr, unnamed.output
    for name, content, _, _ in PLAYBOOK_FILES:
        assert content != BASE_PLAYBOOK, name


def test_the_observers_see_a_real_change(account: Seeded, iam: Any, sent: list[str], tmp_path: Path) -> None:
    before = account_state(iam)
    (tmp_path / "key.txt").write_text(account.key)
    args = ["run", "leaked-long-term-key", "--key-file", str(tmp_path / "key.txt"), "--yes"]
    result = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "UpdateServiceSpecificCredential" in [op for op in sent if not is_read_only(op)]
    assert account_state(iam) != before
