"""moto's IAM, extended by responder.sandbox.service_credentials, behaves like AWS for long-term keys."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import moto
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.base_backend import BackendDict
from moto.iam.exceptions import IAMException
from moto.iam.models import IAMBackend, iam_backends
from moto.server import ThreadedMotoServer

from responder.sandbox import service_credentials as sc

ACCOUNT = "123456789012"  # moto's default account
OTHER_ACCOUNT = "210987654321"
BEDROCK = "bedrock.amazonaws.com"
CODECOMMIT = "codecommit.amazonaws.com"


@pytest.fixture
def iam() -> Iterator[Any]:
    sc.install()
    with moto.mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def _create(iam: Any, user: str, service: str = BEDROCK, **kwargs: Any) -> dict[str, Any]:
    cred: dict[str, Any] = iam.create_service_specific_credential(UserName=user, ServiceName=service, **kwargs)[
        "ServiceSpecificCredential"
    ]
    return cred


def _decode_key(key: str) -> tuple[str, str]:
    assert key.startswith("ABSK")
    payload = key[4:]
    assert len(payload) % 4 == 0  # standard base64 with padding
    alias, sep, secret = base64.b64decode(payload, validate=True).decode().partition(":")
    assert sep == ":"
    return alias, secret


def _list_all(iam: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Follow Marker/IsTruncated (boto3 has no paginator for this operation)."""
    items: list[dict[str, Any]] = []
    while True:
        page = iam.list_service_specific_credentials(**kwargs)
        items += page["ServiceSpecificCredentials"]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            return items
        kwargs["Marker"] = page["Marker"]


def test_create_returns_a_bedrock_api_key_that_decodes_to_alias_and_secret(iam: Any) -> None:
    iam.create_user(UserName="ci-bot")
    cred = _create(iam, "ci-bot")
    assert re.fullmatch(r"ACCA[A-Z0-9]{17}", cred["ServiceSpecificCredentialId"])
    assert cred["UserName"] == "ci-bot"
    assert cred["Status"] == "Active"
    assert cred["ServiceName"] == BEDROCK
    assert cred["ServiceCredentialAlias"] == f"ci-bot-at-{ACCOUNT}"
    assert "ExpirationDate" not in cred and "ServicePassword" not in cred
    alias, secret = _decode_key(cred["ServiceCredentialSecret"])
    assert alias == cred["ServiceCredentialAlias"]
    assert _decode_key(_create(iam, "ci-bot")["ServiceCredentialSecret"])[1] != secret


def test_the_secret_part_is_44_bytes_of_standard_base64_as_in_a_real_key(iam: Any) -> None:
    iam.create_user(UserName="ci-bot")
    for _ in range(2):  # a second key: '+' and '/' are likely in one of two
        _, secret = _decode_key(_create(iam, "ci-bot")["ServiceCredentialSecret"])
        assert len(secret) == 60 and re.fullmatch(r"[A-Za-z0-9+/]{59}=", secret), secret
        assert len(base64.b64decode(secret, validate=True)) == 44


def test_credential_age_days_sets_expiration_and_is_range_checked(iam: Any) -> None:
    iam.create_user(UserName="alice")
    cred = _create(iam, "alice", CredentialAgeDays=30)
    assert cred["ExpirationDate"] - cred["CreateDate"] == timedelta(days=30)
    with pytest.raises(ClientError) as excinfo:
        _create(iam, "alice", CredentialAgeDays=36_601)
    assert _error(excinfo) == "ValidationError"
    unchecked = boto3.client("iam", region_name="us-east-1", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as excinfo:
        _create(unchecked, "alice", CredentialAgeDays=0)
    assert _error(excinfo) == "ValidationError"


def test_password_services_get_user_name_and_password_and_others_are_refused(iam: Any) -> None:
    iam.create_user(UserName="dev")
    cred = _create(iam, "dev", CODECOMMIT)
    assert cred["ServiceUserName"] == f"dev-at-{ACCOUNT}"
    assert len(cred["ServicePassword"]) >= 40
    assert "ServiceCredentialSecret" not in cred and "ServiceCredentialAlias" not in cred
    with pytest.raises(ClientError) as excinfo:
        _create(iam, "dev", "lambda.amazonaws.com")
    assert _error(excinfo) == "NoSuchEntity"
    with pytest.raises(ClientError) as excinfo:
        _create(iam, "dev", CODECOMMIT, CredentialAgeDays=5)
    assert _error(excinfo) == "ValidationError"


def test_create_for_a_missing_user_is_no_such_entity(iam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        _create(iam, "ghost")
    assert _error(excinfo) == "NoSuchEntity"


def test_at_most_two_credentials_per_service_per_user(iam: Any) -> None:
    for user in ("alice", "bob"):
        iam.create_user(UserName=user)
    first, _ = _create(iam, "alice"), _create(iam, "alice")
    with pytest.raises(ClientError) as excinfo:
        _create(iam, "alice")
    assert _error(excinfo) == "LimitExceeded"
    _create(iam, "alice", CODECOMMIT)  # the limit is per service
    _create(iam, "bob")  # and per user
    iam.delete_service_specific_credential(
        UserName="alice", ServiceSpecificCredentialId=first["ServiceSpecificCredentialId"]
    )
    _create(iam, "alice")


def test_list_by_user_filters_and_never_returns_a_secret(iam: Any) -> None:
    for user in ("alice", "bob"):
        iam.create_user(UserName=user)
    key = _create(iam, "alice", CredentialAgeDays=7)
    password = _create(iam, "alice", CODECOMMIT)
    _create(iam, "bob")
    response = iam.list_service_specific_credentials(UserName="alice")
    listed = response["ServiceSpecificCredentials"]
    assert {c["ServiceSpecificCredentialId"] for c in listed} == {
        key["ServiceSpecificCredentialId"],
        password["ServiceSpecificCredentialId"],
    }
    assert response["IsTruncated"] is False
    text = repr(response)
    assert key["ServiceCredentialSecret"] not in text and password["ServicePassword"] not in text
    assert not {"ServiceCredentialSecret", "ServicePassword"} & {k for c in listed for k in c}
    bedrock_only = iam.list_service_specific_credentials(UserName="alice", ServiceName=BEDROCK)
    [only] = bedrock_only["ServiceSpecificCredentials"]
    assert only["ServiceCredentialAlias"] == key["ServiceCredentialAlias"]
    assert only["ExpirationDate"] == key["ExpirationDate"]
    assert only["Status"] == "Active"


def test_list_errors_and_the_caller_default(iam: Any) -> None:
    iam.create_user(UserName="alice")
    cred = _create(iam, "alice")
    with pytest.raises(ClientError) as excinfo:
        iam.list_service_specific_credentials(UserName="ghost")
    assert _error(excinfo) == "NoSuchEntity"
    with pytest.raises(ClientError) as excinfo:
        iam.list_service_specific_credentials(UserName="alice", AllUsers=True)
    assert _error(excinfo) == "ValidationError"
    # Without UserName AWS lists the caller's own credentials; moto's default caller is no IAM user.
    assert iam.list_service_specific_credentials()["ServiceSpecificCredentials"] == []
    access_key = iam.create_access_key(UserName="alice")["AccessKey"]
    as_alice = boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id=access_key["AccessKeyId"],
        aws_secret_access_key=access_key["SecretAccessKey"],
    )
    [own] = as_alice.list_service_specific_credentials()["ServiceSpecificCredentials"]
    assert own["ServiceSpecificCredentialId"] == cred["ServiceSpecificCredentialId"]


def test_list_all_users_paginates_over_more_than_one_hundred(iam: Any) -> None:
    created = set()
    for i in range(53):
        iam.create_user(UserName=f"user-{i:02d}")
        for _ in range(2):
            created.add(sc.create_credential(ACCOUNT, f"user-{i:02d}")["ServiceSpecificCredentialId"])
    assert len(created) == 106
    first = iam.list_service_specific_credentials(AllUsers=True)
    assert len(first["ServiceSpecificCredentials"]) == 100  # the default MaxItems
    assert first["IsTruncated"] is True
    marker = first["Marker"]
    assert not any(c in marker for c in created)  # opaque
    second = iam.list_service_specific_credentials(AllUsers=True, Marker=marker)
    again = iam.list_service_specific_credentials(AllUsers=True, Marker=marker)  # stable
    assert again["ServiceSpecificCredentials"] == second["ServiceSpecificCredentials"]
    assert len(second["ServiceSpecificCredentials"]) == 6 and second["IsTruncated"] is False
    first_ids = {c["ServiceSpecificCredentialId"] for c in first["ServiceSpecificCredentials"]}
    assert first_ids | {c["ServiceSpecificCredentialId"] for c in second["ServiceSpecificCredentials"]} == created
    ids = [c["ServiceSpecificCredentialId"] for c in _list_all(iam, AllUsers=True, MaxItems=7)]
    assert len(ids) == len(set(ids)) and set(ids) == created
    # A marker stays valid when the credential it points after is deleted.
    page = iam.list_service_specific_credentials(AllUsers=True, MaxItems=50)
    last = page["ServiceSpecificCredentials"][-1]
    iam.delete_service_specific_credential(
        UserName=last["UserName"], ServiceSpecificCredentialId=last["ServiceSpecificCredentialId"]
    )
    rest = _list_all(iam, AllUsers=True, Marker=page["Marker"])
    assert len(rest) == 56
    with pytest.raises(ClientError) as excinfo:
        iam.list_service_specific_credentials(AllUsers=True, Marker="not-a-marker")
    assert _error(excinfo) == "ValidationError"


def test_update_status_is_reversible_and_checks_the_credential(iam: Any) -> None:
    for user in ("alice", "bob"):
        iam.create_user(UserName=user)
    cred_id = _create(iam, "alice")["ServiceSpecificCredentialId"]

    def status() -> str:
        [cred] = iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"]
        return str(cred["Status"])

    iam.update_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=cred_id, Status="Inactive")
    assert status() == "Inactive"
    iam.update_service_specific_credential(ServiceSpecificCredentialId=cred_id, Status="Active")  # no UserName
    assert status() == "Active"
    for user, cred, new_status, code in [
        ("bob", cred_id, "Inactive", "NoSuchEntity"),  # someone else's credential
        ("alice", "ACCA" + "0" * 17, "Inactive", "NoSuchEntity"),
        ("alice", cred_id, "Expired", "ValidationError"),  # only the clock expires a credential
    ]:
        with pytest.raises(ClientError) as excinfo:
            iam.update_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred, Status=new_status)
        assert _error(excinfo) == code
    assert status() == "Active"
    with pytest.raises(ClientError) as excinfo:
        iam.update_service_specific_credential(ServiceSpecificCredentialId="ACCA" + "0" * 17, Status="Active")
    assert "ACCA" + "0" * 17 in excinfo.value.response["Error"]["Message"]


def _answer(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    """What AWS answered: HTTP status, error code, message."""
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


MALFORMED = "$(id)-not-a-credential-id"  # long enough for botocore's own length check, not [\w]+


@pytest.mark.parametrize("operation", ["update", "reset", "delete"])
def test_a_malformed_credential_id_is_a_validation_error_and_an_unknown_one_no_such_entity(
    iam: Any, operation: str
) -> None:
    """AWS's recorded answers (FACTS.md, "The emulator"), through botocore as responder sees them."""
    iam.create_user(UserName="alice")
    _create(iam, "alice")
    call = {
        "update": lambda cred_id: iam.update_service_specific_credential(
            UserName="alice", ServiceSpecificCredentialId=cred_id, Status="Inactive"
        ),
        "reset": lambda cred_id: iam.reset_service_specific_credential(ServiceSpecificCredentialId=cred_id),
        "delete": lambda cred_id: iam.delete_service_specific_credential(ServiceSpecificCredentialId=cred_id),
    }[operation]
    with pytest.raises(ClientError) as excinfo:
        call(MALFORMED)
    assert _answer(excinfo) == (
        400,
        "ValidationError",
        f"1 validation error detected: Value '{MALFORMED}' at 'serviceSpecificCredentialId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w]+",
    )
    unknown = "ACCA" + "0" * 17
    with pytest.raises(ClientError) as excinfo:
        call(unknown)
    assert _answer(excinfo) == (404, "NoSuchEntity", f"No such credential {unknown} exists")


def test_a_short_malformed_id_breaks_both_constraints_when_botocore_does_not_check_first(iam: Any) -> None:
    unchecked = boto3.client("iam", region_name="us-east-1", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as excinfo:
        unchecked.delete_service_specific_credential(ServiceSpecificCredentialId="a/b")
    status, code, message = _answer(excinfo)
    assert (status, code) == (400, "ValidationError")
    assert message.startswith("2 validation errors detected: Value 'a/b' at 'serviceSpecificCredentialId'")
    assert message.endswith("Member must have length greater than or equal to 20")


def test_reset_replaces_the_secret_and_keeps_the_credential(iam: Any) -> None:
    iam.create_user(UserName="alice")
    old = _create(iam, "alice")
    new = iam.reset_service_specific_credential(
        UserName="alice", ServiceSpecificCredentialId=old["ServiceSpecificCredentialId"]
    )["ServiceSpecificCredential"]
    assert new["ServiceCredentialSecret"] != old["ServiceCredentialSecret"]
    assert _decode_key(new["ServiceCredentialSecret"])[0] == old["ServiceCredentialAlias"]
    assert _decode_key(new["ServiceCredentialSecret"])[1] != _decode_key(old["ServiceCredentialSecret"])[1]
    assert new["ServiceSpecificCredentialId"] == old["ServiceSpecificCredentialId"]
    assert new["CreateDate"] == old["CreateDate"]
    password = _create(iam, "alice", CODECOMMIT)
    reset = iam.reset_service_specific_credential(ServiceSpecificCredentialId=password["ServiceSpecificCredentialId"])
    assert reset["ServiceSpecificCredential"]["ServicePassword"] != password["ServicePassword"]
    with pytest.raises(ClientError) as excinfo:
        iam.reset_service_specific_credential(ServiceSpecificCredentialId="ACCA" + "0" * 17)
    assert _error(excinfo) == "NoSuchEntity"


def test_an_expired_key_lists_as_expired_and_cannot_be_reset(iam: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    iam.create_user(UserName="alice")
    cred = _create(iam, "alice", CredentialAgeDays=1)
    later = datetime.now(timezone.utc) + timedelta(days=2)
    monkeypatch.setattr(sc, "_now", lambda: later)
    [listed] = iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"]
    assert listed["Status"] == "Expired"
    with pytest.raises(ClientError) as excinfo:
        iam.reset_service_specific_credential(ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    assert _error(excinfo) == "InvalidInput"


def test_delete_removes_the_credential_and_unblocks_delete_user(iam: Any) -> None:
    iam.create_user(UserName="alice")
    cred_id = _create(iam, "alice")["ServiceSpecificCredentialId"]
    with pytest.raises(ClientError) as excinfo:
        iam.delete_user(UserName="alice")
    assert _answer(excinfo) == (409, "DeleteConflict", "Cannot delete entity, must remove referenced objects first.")
    iam.delete_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=cred_id)
    assert iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"] == []
    with pytest.raises(ClientError) as excinfo:
        iam.delete_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=cred_id)
    assert _error(excinfo) == "NoSuchEntity"
    iam.delete_user(UserName="alice")


def test_renaming_a_user_takes_its_credentials_along_and_keeps_their_alias(iam: Any) -> None:
    for user in ("alice", "bob"):
        iam.create_user(UserName=user)
    cred = _create(iam, "alice")
    iam.update_user(UserName="alice", NewUserName="alice-renamed")
    [listed] = iam.list_service_specific_credentials(UserName="alice-renamed")["ServiceSpecificCredentials"]
    assert listed["ServiceSpecificCredentialId"] == cred["ServiceSpecificCredentialId"]
    assert listed["UserName"] == "alice-renamed"
    assert listed["ServiceCredentialAlias"] == f"alice-at-{ACCOUNT}"  # as issued: the old key still names alice
    [every] = iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]
    assert every["UserName"] == "alice-renamed"
    with pytest.raises(ClientError) as excinfo:
        iam.list_service_specific_credentials(UserName="alice")
    assert _error(excinfo) == "NoSuchEntity"
    iam.update_service_specific_credential(
        UserName="alice-renamed", ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"], Status="Inactive"
    )
    with pytest.raises(ClientError) as excinfo:  # the credentials still hold the renamed user back
        iam.delete_user(UserName="alice-renamed")
    assert _error(excinfo) == "DeleteConflict"
    with pytest.raises(ClientError) as excinfo:  # no two users merge into one, credentials and all
        iam.update_user(UserName="bob", NewUserName="alice-renamed")
    assert _error(excinfo) == "EntityAlreadyExists"
    assert iam.list_service_specific_credentials(UserName="bob")["ServiceSpecificCredentials"] == []
    iam.update_user(UserName="bob", NewPath="/moved/")  # a new path alone moves no credential
    assert len(iam.list_service_specific_credentials(UserName="alice-renamed")["ServiceSpecificCredentials"]) == 1


def test_accounts_are_separate(iam: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    iam.create_user(UserName="alice")
    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    iam.create_user(UserName="alice")
    other = sc.create_credential(OTHER_ACCOUNT, "alice")
    assert other["ServiceCredentialAlias"] == f"alice-at-{OTHER_ACCOUNT}"
    assert _decode_key(other["ServiceCredentialSecret"])[0] == f"alice-at-{OTHER_ACCOUNT}"
    [listed] = iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]
    assert listed["ServiceSpecificCredentialId"] == other["ServiceSpecificCredentialId"]
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"] == []
    with pytest.raises(ClientError) as excinfo:
        iam.delete_service_specific_credential(ServiceSpecificCredentialId=other["ServiceSpecificCredentialId"])
    assert _error(excinfo) == "NoSuchEntity"
    with pytest.raises(IAMException, match="cannot be found"):  # moto's error, not a ClientError
        sc.create_credential(OTHER_ACCOUNT, "bob")


def test_moto_reset_clears_the_credentials() -> None:
    sc.install()
    with moto.mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="alice")
        _create(iam, "alice")
        backend: IAMBackend = iam_backends[ACCOUNT]["aws"]
        backend.reset()  # what moto's reset does to every backend
        iam.create_user(UserName="alice")
        assert iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"] == []
        _create(iam, "alice")
    with moto.mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="alice")
        assert iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"] == []
        iam.delete_user(UserName="alice")  # no DeleteConflict from the earlier mock's credential


def test_install_is_idempotent() -> None:
    sc.install()
    patched = (IAMBackend.delete_user, IAMBackend.update_user)
    sc.install()
    assert (IAMBackend.delete_user, IAMBackend.update_user) == patched


def test_the_moto_server_serves_the_operations() -> None:
    sc.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        iam = boto3.client(
            "iam",
            region_name="us-east-1",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        iam.create_user(UserName="served")
        cred = _create(iam, "served", CredentialAgeDays=90)
        alias, _ = _decode_key(cred["ServiceCredentialSecret"])
        assert alias == f"served-at-{ACCOUNT}" == cred["ServiceCredentialAlias"]
        cred_id = cred["ServiceSpecificCredentialId"]
        [listed] = iam.list_service_specific_credentials(UserName="served")["ServiceSpecificCredentials"]
        assert listed["ExpirationDate"] == cred["ExpirationDate"]
        assert "ServiceCredentialSecret" not in listed
        iam.update_service_specific_credential(ServiceSpecificCredentialId=cred_id, Status="Inactive")
        reset = iam.reset_service_specific_credential(ServiceSpecificCredentialId=cred_id)
        assert reset["ServiceSpecificCredential"]["Status"] == "Inactive"
        assert reset["ServiceSpecificCredential"]["ServiceCredentialSecret"] != cred["ServiceCredentialSecret"]
        with pytest.raises(ClientError) as excinfo:
            iam.delete_user(UserName="served")
        assert _error(excinfo) == "DeleteConflict"
        iam.delete_service_specific_credential(ServiceSpecificCredentialId=cred_id)
        iam.delete_user(UserName="served")
    finally:
        server.stop()
        BackendDict.reset()  # the server shares this process's backends
