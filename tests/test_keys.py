from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from responder.actions.base import Regions
from responder.errors import UserError
from responder.keys import REGION, ShortTermKey, fingerprint, parse_key, parse_long_term_key, read_key_file
from responder.redaction import SECRETS
from tests.factories import make_key, make_token

# Short made-up secrets are the point of several tests here; the notice they draw is tested in test_pasted_keys.py.
pytestmark = pytest.mark.filterwarnings("ignore::responder.keys.KeyNotice")
REGION_LIST: TypeAdapter[list[str]] = TypeAdapter(Regions)


def test_decodes_user_and_account_from_the_alias() -> None:
    key = parse_long_term_key(make_key("bedrock-api-key-test-at-595842667825"))
    assert (key.user_name, key.account_id) == ("bedrock-api-key-test", "595842667825")
    assert key.alias == "bedrock-api-key-test-at-595842667825"


def test_user_names_may_contain_at() -> None:
    key = parse_long_term_key(make_key("data-at-scale-at-267815792746"))
    assert key.user_name == "data-at-scale"


def test_alias_suffix_after_the_account_is_tolerated() -> None:
    assert parse_long_term_key(make_key("alice-at-267815792746-v2")).account_id == "267815792746"


@given(pad=st.booleans(), secret=st.text(st.characters(codec="ascii", exclude_characters=":\n\r"), min_size=8))
def test_padding_is_optional_and_the_secret_is_not_kept(pad: bool, secret: str) -> None:
    # A "secret" that is a word of every key's repr ("fingerpr", of "fingerprint") says nothing about keeping it.
    assume(secret not in repr(parse_long_term_key(make_key("BedrockAPIKey-xqq4-at-267815792746", "~" * 60))))
    raw = make_key("BedrockAPIKey-xqq4-at-267815792746", secret, pad)
    key = parse_long_term_key(raw)
    assert key.user_name == "BedrockAPIKey-xqq4"
    assert key.fingerprint == fingerprint(raw.strip())
    assert raw not in repr(key) and secret not in repr(key)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "long-term key starts with ABSK"),
        ("ABSK!!!notbase64", "not valid base64"),
        ("ABSK" + base64.b64encode(b"\xff\xfe\x00binary").decode(), "not text"),
        ("ABSK" + base64.b64encode(b"no-colon-here").decode(), "'<alias>:<secret>'"),
        (make_key("alice-at-12345"), "-at-<12-digit account id>"),
        (make_key("alice"), "-at-<12-digit account id>"),
        (make_key("bad name!-at-123456789012"), "valid IAM user name"),
        (
            "bedrock-api-key-" + base64.b64encode(b"bedrock.amazonaws.com/?Action=CallWithBearerToken").decode(),
            "short-term",
        ),
        ("ABSK", "not valid base64"),
    ],
)
def test_rejects_what_is_not_a_long_term_key(raw: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        parse_long_term_key(raw)
    assert raw[4:] not in str(caught.value) or len(raw) <= 8


def test_read_key_file_errors_are_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="no such key file"):
        read_key_file(str(tmp_path / "missing.txt"))
    with pytest.raises(UserError, match="is a directory"):
        read_key_file(str(tmp_path))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(UserError, match="empty"):
        read_key_file(str(empty))
    two = tmp_path / "two.txt"
    two.write_text(make_key("a-at-123456789012") + "\n" + make_key("b-at-123456789012"))
    with pytest.raises(UserError, match="one key"):
        read_key_file(str(two))


def test_registered_secrets_are_redacted_everywhere() -> None:
    raw = make_key("carol-at-123456789012", "TopSecretPart0987654321")
    parse_long_term_key(raw)
    text = f"boom: {raw} and TopSecretPart0987654321"
    redacted = SECRETS.redact(text)
    assert raw not in redacted and "TopSecretPart0987654321" not in redacted


def test_unregistered_keys_are_caught_by_pattern() -> None:
    stranger = make_key("dave-at-123456789012", "NeverRegisteredSecret123")
    assert stranger[4:] not in SECRETS.redact(f"error mentioning {stranger}")


# Regions: every partition's, from botocore's own data; nothing else.
PARTITION_REGIONS = ["eusc-de-east-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "us-east-1"]
NOT_REGIONS = ["US-EAST-1", "us-east-1\n", "../../x", "aws-global", "xx-east-1", "us-east-1;rm", "us-ea_st-1", ""]


@pytest.mark.parametrize("region", PARTITION_REGIONS)
def test_regions_of_every_partition_are_regions(region: str) -> None:
    assert REGION.fullmatch(region)
    assert REGION_LIST.validate_python(f"us-east-1,{region}") == ["us-east-1", region]  # -p regions=...


@pytest.mark.parametrize("region", NOT_REGIONS)
def test_what_no_partition_names_is_not_a_region(region: str) -> None:
    assert REGION.fullmatch(region) is None


def test_every_region_botocore_lists_is_a_region() -> None:
    """The names come from botocore's partition data, so they grow with botocore, not with this code."""
    import botocore.session

    partitions = botocore.session.get_session().get_data("partitions")["partitions"]
    listed = [r for p in partitions for r in p["regions"] if not r.endswith("-global")]  # -global: no region
    assert len(listed) > 30 and "eusc-de-east-1" in listed
    assert [r for r in listed if not REGION.fullmatch(r)] == []


def test_a_short_term_key_from_the_eusc_partition_parses() -> None:
    key = parse_key(make_token("ASIAQ3EGXYZEXAMPLE01", region="eusc-de-east-1"))
    assert isinstance(key, ShortTermKey) and key.region == "eusc-de-east-1"
