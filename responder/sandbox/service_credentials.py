"""IAM service-specific credentials (long-term Bedrock API keys) for moto's IAM emulation.

moto 5.2 implements none of the five operations. `install()` adds them to `IamResponse`, which both
`mock_aws()` and the moto server dispatch to, and what AWS does to credentials when their user changes:
DeleteUser refuses a user that still has credentials, and a renamed user takes its credentials along.
State lives on each account's IAM backend, so moto's reset clears it and accounts stay apart.
IAM's quotas and protected roles are in iam_limits.py.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import secrets
import string
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.exceptions import (
    DeleteConflictException,
    EntityAlreadyExists,
    IAMException,
    LimitExceededException,
    NotFoundException,
    ValidationError,
)
from moto.iam.models import IAMBackend, iam_backends
from moto.iam.responses import IamResponse

BEDROCK = "bedrock.amazonaws.com"
# The services with long-term API keys (IAM user guide, "API keys for AWS services"), and how the sandbox
# prefixes each one's keys: Bedrock's and Claude Platform's as found in real keys; AWS documents no prefix for
# CloudWatch's or CloudWatch Logs', so the sandbox makes them with stand-ins that no real key has (SBX...),
# which responder cannot recognise offline and must find by alias online (docs/key-families.md).
API_KEY_PREFIXES = {
    BEDROCK: "ABSK",
    "aws-external-anthropic.amazonaws.com": "AEAA",
    "cloudwatch.amazonaws.com": "SBXC",
    "logs.amazonaws.com": "SBXL",
}
# Services that get a user name and password. AWS answers NoSuchEntity for services outside these and
# Bedrock (LocalStack's AWS-validated tests); CloudWatch Logs API keys are not emulated.
_PASSWORD_SERVICES = frozenset({"codecommit.amazonaws.com", "cassandra.amazonaws.com"})
_PER_SERVICE_LIMIT = 2
_MAX_AGE_DAYS = 36_600
_SECRET_BYTES = 44
_STATE_ATTR = "_responder_service_credentials"  # BaseBackend.reset() empties __dict__: reset clears it
_INSTALLED_ATTR = "_responder_service_credentials_installed"
_ID_ALPHABET = string.ascii_uppercase + string.digits
_CREDENTIAL_ID = re.compile(r"\w+", re.ASCII)  # the model's [\w]+ is Java's: ASCII letters, digits, '_'
_install_lock = threading.Lock()


class _InvalidInput(IAMException):
    code = "InvalidInput"


def _now() -> datetime:
    """The emulator's clock; a function so tests can move it forward to expire credentials."""
    return datetime.now(timezone.utc)


@dataclasses.dataclass
class _Credential:
    seq: int  # creation order: the list order, and what the opaque Marker points at
    id: str
    user_name: str
    service_name: str
    create_date: datetime
    expiration_date: datetime | None
    status: str  # Active | Inactive as set; Expired is derived from the clock
    login: str  # ServiceCredentialAlias (Bedrock) or ServiceUserName
    secret: str = ""  # the whole ABSK key (Bedrock) or ServicePassword

    @property
    def api_key(self) -> bool:
        return self.service_name in API_KEY_PREFIXES

    def current_status(self) -> str:
        if self.expiration_date is not None and _now() >= self.expiration_date:
            return "Expired"
        return self.status

    def metadata(self) -> dict[str, Any]:
        """The ServiceSpecificCredentialMetadata shape: never the secret."""
        out: dict[str, Any] = {
            "ServiceSpecificCredentialId": self.id,
            "UserName": self.user_name,
            "Status": self.current_status(),
            "ServiceName": self.service_name,
            "CreateDate": self.create_date,
            "ServiceCredentialAlias" if self.api_key else "ServiceUserName": self.login,
        }
        if self.expiration_date is not None:
            out["ExpirationDate"] = self.expiration_date
        return out

    def with_secret(self) -> dict[str, Any]:
        """The ServiceSpecificCredential shape that create and reset return."""
        secret_field = "ServiceCredentialSecret" if self.api_key else "ServicePassword"
        return {**self.metadata(), secret_field: self.secret}

    def renew_secret(self) -> None:
        # A real key's secret part is 44 random bytes in standard base64: 60 characters, never a ':' (FACTS.md).
        # responder warns of a key whose secret part is shorter, so the emulator must not make one.
        part = base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()
        if not self.api_key:
            self.secret = part
            return
        self.secret = API_KEY_PREFIXES[self.service_name] + base64.b64encode(f"{self.login}:{part}".encode()).decode()


@dataclasses.dataclass
class _State:
    creds: dict[str, _Credential] = dataclasses.field(default_factory=dict)
    next_seq: int = 0


def _state(backend: IAMBackend) -> _State:
    state: _State = backend.__dict__.setdefault(_STATE_ATTR, _State())
    return state


def _invalid(value: object, field: str, *constraints: str) -> ValidationError:
    """AWS's wording for request members that break the service model's constraints, all of them at once."""
    count = f"{len(constraints)} validation error{'s' if len(constraints) > 1 else ''} detected"
    broken = "; ".join(f"Value '{value}' at '{field}' failed to satisfy constraint: {c}" for c in constraints)
    return ValidationError(f"{count}: {broken}")


def _checked_id(cred_id: str) -> None:
    """The model's constraints on a credential id (pattern [\\w]+, 20 to 128 characters), checked as AWS does:
    a malformed id is a 400 ValidationError, not a NoSuchEntity (FACTS.md, "The emulator")."""
    constraints = []
    if not _CREDENTIAL_ID.fullmatch(cred_id):
        constraints.append("Member must satisfy regular expression pattern: [\\w]+")
    if len(cred_id) < 20:
        constraints.append("Member must have length greater than or equal to 20")
    elif len(cred_id) > 128:
        constraints.append("Member must have length less than or equal to 128")
    if constraints:
        raise _invalid(cred_id, "serviceSpecificCredentialId", *constraints)


def _check_service(service_name: str) -> None:
    if service_name not in API_KEY_PREFIXES and service_name not in _PASSWORD_SERVICES:
        raise NotFoundException(f"No such service {service_name} is supported for Service Specific Credentials")


def _create(backend: IAMBackend, user_name: str, service_name: str, age_days: int | None) -> _Credential:
    backend.get_user(user_name)  # NoSuchEntity for a missing user
    _check_service(service_name)
    if age_days is not None:
        if service_name not in API_KEY_PREFIXES:  # only API keys expire (botocore doc of CredentialAgeDays)
            raise _invalid(age_days, "credentialAgeDays", "Only valid for services with long-term API keys")
        if not 1 <= age_days <= _MAX_AGE_DAYS:
            raise _invalid(age_days, "credentialAgeDays", f"Member must be between 1 and {_MAX_AGE_DAYS}")
    state = _state(backend)
    same = [c for c in state.creds.values() if c.user_name == user_name and c.service_name == service_name]
    if len(same) >= _PER_SERVICE_LIMIT:
        raise LimitExceededException(f"Cannot exceed quota for ServiceSpecificCredentialsPerUser: {_PER_SERVICE_LIMIT}")
    now = _now().replace(microsecond=0)
    cred = _Credential(
        seq=state.next_seq,
        id="ACCA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17)),
        user_name=user_name,
        service_name=service_name,
        create_date=now,
        expiration_date=None if age_days is None else now + timedelta(days=age_days),
        status="Active",
        # A user's second credential's alias is `<user>+1-at-<account>` (FACTS.md, "A user's second key").
        login=f"{user_name}{f'+{len(same)}' if same else ''}-at-{backend.account_id}",
    )
    cred.renew_secret()
    state.next_seq += 1
    state.creds[cred.id] = cred
    return cred


def _find(backend: IAMBackend, cred_id: str, user_name: str | None) -> _Credential:
    _checked_id(cred_id)
    if user_name:
        backend.get_user(user_name)
    cred = _state(backend).creds.get(cred_id)
    # Without UserName AWS assumes the caller; the emulator searches the whole account instead, since
    # moto's default caller is no IAM user and seeded scenarios act on other users' credentials.
    if cred is None or (user_name and cred.user_name != user_name):
        raise NotFoundException(f"No such credential {cred_id} exists")  # AWS's words (FACTS.md)
    return cred


def _requested(response: IamResponse) -> _Credential:
    return _find(response.backend, response._get_param("ServiceSpecificCredentialId"), response._get_param("UserName"))


def _encode_marker(seq: int) -> str:
    return base64.urlsafe_b64encode(f"ssc-after:{seq}".encode()).decode()


def _decode_marker(marker: str) -> int:
    try:
        prefix, _, seq = base64.urlsafe_b64decode(marker.encode()).decode().partition(":")
        if prefix == "ssc-after":
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise _invalid(marker, "marker", "Member must be a Marker returned by a previous call")


# ---- IamResponse methods: BaseResponse.call_action maps Action=FooBar to foo_bar, found by
# inspect.getmembers(cls, inspect.isfunction), so plain functions set on the class are served.


def create_service_specific_credential(self: IamResponse) -> ActionResult:
    age = self._get_param("CredentialAgeDays")
    cred = _create(
        self.backend, self._get_param("UserName"), self._get_param("ServiceName"), None if age is None else int(age)
    )
    return ActionResult({"ServiceSpecificCredential": cred.with_secret()})


def list_service_specific_credentials(self: IamResponse) -> ActionResult:
    backend: IAMBackend = self.backend
    user_name: str | None = self._get_param("UserName")
    service_name: str | None = self._get_param("ServiceName")
    all_users = self._get_bool_param("AllUsers", False)
    max_items = int(self._get_param("MaxItems") or 100)
    marker: str | None = self._get_param("Marker")
    if all_users and user_name:
        raise ValidationError("AllUsers cannot be specified together with UserName.")
    if not 1 <= max_items <= 1000:
        raise _invalid(max_items, "maxItems", "Member must be between 1 and 1000")
    if service_name:
        _check_service(service_name)
    if user_name:
        backend.get_user(user_name)
    elif not all_users:
        # AWS assumes the caller's own user. Resolve it from the request's access key; moto's default
        # credentials belong to no IAM user, and then the answer is an empty list, not an error.
        caller = backend.get_user_from_access_key_id(self.get_access_key())
        user_name = caller.name if caller is not None else None
        if user_name is None:
            return ActionResult({"ServiceSpecificCredentials": [], "IsTruncated": False})
    after = -1 if marker is None else _decode_marker(marker)
    matching = [
        c
        for c in sorted(_state(backend).creds.values(), key=lambda c: c.seq)
        if c.seq > after
        and (all_users or c.user_name == user_name)
        and (not service_name or c.service_name == service_name)
    ]
    page = matching[:max_items]
    result: dict[str, Any] = {
        "ServiceSpecificCredentials": [c.metadata() for c in page],
        "IsTruncated": len(matching) > max_items,
    }
    if result["IsTruncated"]:
        result["Marker"] = _encode_marker(page[-1].seq)
    return ActionResult(result)


def update_service_specific_credential(self: IamResponse) -> ActionResult:
    status = self._get_param("Status")
    if status not in ("Active", "Inactive"):  # Expired is in the enum, but only the clock sets it
        raise _invalid(status, "status", "Member must satisfy enum value set: [Active, Inactive]")
    _requested(self).status = status
    return EmptyResult()


def reset_service_specific_credential(self: IamResponse) -> ActionResult:
    cred = _requested(self)
    if cred.current_status() == "Expired":
        # AWS refuses to reset an expired key; its code is undocumented (the model declares only
        # NoSuchEntity). InvalidInput is IAM's code for a valid request the entity's state forbids.
        raise _InvalidInput(f"The Service Specific Credential with id {cred.id} has expired; it cannot be reset.")
    cred.renew_secret()
    return ActionResult({"ServiceSpecificCredential": cred.with_secret()})


def delete_service_specific_credential(self: IamResponse) -> ActionResult:
    del _state(self.backend).creds[_requested(self).id]
    return EmptyResult()


_RESPONSE_METHODS: tuple[Callable[[IamResponse], ActionResult], ...] = (
    create_service_specific_credential,
    list_service_specific_credentials,
    update_service_specific_credential,
    reset_service_specific_credential,
    delete_service_specific_credential,
)

# ---- IAMBackend wrappers: on the backend, so every path that deletes or renames a user is covered.


def _guarded_delete_user(original: Callable[[IAMBackend, str], None]) -> Callable[[IAMBackend, str], None]:
    def delete_user(self: IAMBackend, user_name: str) -> None:
        if any(c.user_name == user_name for c in _state(self).creds.values()):
            raise DeleteConflictException("Cannot delete entity, must remove referenced objects first.")  # AWS's words
        original(self, user_name)

    return delete_user


def _renaming_user(original: Callable[..., None]) -> Callable[..., None]:
    """UpdateUser with NewUserName: the user's credentials follow it, their alias stays as created (AWS keeps the
    ServiceCredentialAlias it issued, so an old key still names the old user). moto renames a user onto an existing
    one silently; AWS refuses, and merging two users' credentials would hide which key is whose."""

    def update_user(
        self: IAMBackend, user_name: str, new_path: str | None = None, new_user_name: str | None = None
    ) -> None:
        if new_user_name and new_user_name != user_name and new_user_name in self.users:
            raise EntityAlreadyExists(f"User {new_user_name} already exists")
        original(self, user_name, new_path, new_user_name)
        if new_user_name:
            for cred in _state(self).creds.values():
                if cred.user_name == user_name:
                    cred.user_name = new_user_name

    return update_user


def install() -> None:
    """Patch moto's IAM once per process; safe to call any number of times."""
    with _install_lock:
        if getattr(IamResponse, _INSTALLED_ATTR, False):
            return
        for method in _RESPONSE_METHODS:
            setattr(IamResponse, method.__name__, method)
        wrappers: dict[str, Callable[..., None]] = {
            "delete_user": _guarded_delete_user(IAMBackend.delete_user),
            "update_user": _renaming_user(IAMBackend.update_user),
        }
        for name, wrapper in wrappers.items():
            setattr(IAMBackend, name, wrapper)
        setattr(IamResponse, _INSTALLED_ATTR, True)


def create_credential(
    account_id: str, user_name: str, service_name: str = BEDROCK, age_days: int | None = None
) -> dict[str, Any]:
    """Seed a credential straight on the account's IAM backend; returns what CreateServiceSpecificCredential
    would (secret included). The user must exist in that account."""
    install()
    return _create(iam_backends[account_id]["aws"], user_name, service_name, age_days).with_secret()
