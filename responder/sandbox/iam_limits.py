"""IAM's refusals that moto lacks and responder's fallbacks meet: size budgets, quotas, protected roles.

- All inline policies of a user together 2,048 characters, of a role 10,240, whitespace not counted: `LimitExceeded`,
  which sends the bearer-token deny to its managed-policy fallback.
- At most 10 managed policies attached to a user or a role (IAM's default quota): `LimitExceeded`, which is where
  that fallback itself runs out.
- Roles of IAM Identity Center (`AWSReservedSSO_*`) are modifiable by AWS alone: `UnmodifiableEntity`.

Each is a wrapper on moto's IAMBackend, so the in-process mock and the HTTP server both refuse.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from moto.iam.exceptions import IAMException, LimitExceededException
from moto.iam.models import IAMBackend

_INLINE_BUDGET = {"user": 2_048, "role": 10_240}
_MANAGED_QUOTA = {"user": ("PoliciesPerUser", 10), "role": ("PoliciesPerRole", 10)}
# Identity Center names the roles it makes in each account so; responder recognises them by the same prefix.
SSO_ROLE_PREFIX = "AWSReservedSSO_"
_INSTALLED_ATTR = "_responder_iam_limits_installed"
_install_lock = threading.Lock()

_Entity = Callable[[IAMBackend, str], Any]
_Call = Callable[..., None]


class UnmodifiableEntity(IAMException):
    code = "UnmodifiableEntity"  # HTTP 400 in IAM's service model, which moto serializes from


def _guarded(original: _Call, refuse: Callable[[IAMBackend, dict[str, Any]], None]) -> _Call:
    """`original`, after `refuse` has seen its arguments by name: moto's responses pass them by position, its
    CloudFormation models by keyword."""
    signature = inspect.signature(original)

    def call(self: IAMBackend, *args: Any, **kwargs: Any) -> None:
        refuse(self, signature.bind(self, *args, **kwargs).arguments)
        original(self, *args, **kwargs)

    return call


def _inline_budget(kind: str, entity: _Entity) -> Callable[[IAMBackend, dict[str, Any]], None]:
    limit = _INLINE_BUDGET[kind]

    def refuse(backend: IAMBackend, given: dict[str, Any]) -> None:
        name = given[f"{kind}_name"]
        documents = {**entity(backend, name).policies, given["policy_name"]: given["policy_json"]}  # same name replaces
        if sum(len("".join(str(doc).split())) for doc in documents.values()) > limit:
            raise LimitExceededException(f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")

    return refuse


def _managed_quota(kind: str, entity: _Entity) -> Callable[[IAMBackend, dict[str, Any]], None]:
    """Refused once the principal has its quota of managed policies, unless this one is already among them
    (attaching it again changes nothing, and AWS lets it pass)."""
    quota_name, quota = _MANAGED_QUOTA[kind]

    def refuse(backend: IAMBackend, given: dict[str, Any]) -> None:
        attached = entity(backend, given[f"{kind}_name"]).managed_policies
        if given["policy_arn"] not in attached and len(attached) >= quota:
            raise LimitExceededException(f"Cannot exceed quota for {quota_name}: {quota}")

    return refuse


def _protected_role(backend: IAMBackend, given: dict[str, Any]) -> None:
    role_name = str(given["role_name"])
    if role_name.startswith(SSO_ROLE_PREFIX):
        raise UnmodifiableEntity(
            f"Cannot perform the operation on the protected role '{role_name}' - this role is only modifiable by AWS"
        )


def _both(*refusals: Callable[[IAMBackend, dict[str, Any]], None]) -> Callable[[IAMBackend, dict[str, Any]], None]:
    def refuse(backend: IAMBackend, given: dict[str, Any]) -> None:
        for each in refusals:
            each(backend, given)

    return refuse


def install() -> None:
    """Patch moto's IAMBackend once per process; safe to call any number of times."""
    with _install_lock:
        if getattr(IAMBackend, _INSTALLED_ATTR, False):
            return
        backend = IAMBackend
        user_quota, role_quota = _managed_quota("user", backend.get_user), _managed_quota("role", backend.get_role)
        refusals: dict[str, Callable[[IAMBackend, dict[str, Any]], None]] = {
            "put_user_policy": _inline_budget("user", backend.get_user),
            "put_role_policy": _both(_protected_role, _inline_budget("role", backend.get_role)),
            "delete_role_policy": _protected_role,
            "attach_user_policy": user_quota,
            "attach_role_policy": _both(_protected_role, role_quota),
            "detach_role_policy": _protected_role,
        }
        wrappers = {name: _guarded(getattr(backend, name), refuse) for name, refuse in refusals.items()}
        for name, wrapper in wrappers.items():
            setattr(backend, name, wrapper)
        setattr(backend, _INSTALLED_ATTR, True)
