"""Console passwords (login profiles) as IAM keeps them, for moto's IAM emulation.

moto 5.2 answers a login profile's `CreateDate` with its user's creation time and ignores `PasswordResetRequired`
on `CreateLoginProfile`. A password made during a key's exposure window is a foothold only IAM's own `CreateDate`
can date, so `install()` keeps both on the user (moto's reset clears them with the backend) and answers
`CreateLoginProfile` / `GetLoginProfile` in the botocore model's `LoginProfile` shape.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse

CREATED_ATTR = "_responder_login_profile_created"  # where the password's own CreateDate is kept
_INSTALLED_ATTR = "_responder_login_profiles_installed"
_lock = threading.Lock()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _profile(user: Any) -> dict[str, Any]:
    return {
        "UserName": user.name,
        "CreateDate": getattr(user, CREATED_ATTR, None) or user.create_date,
        "PasswordResetRequired": bool(user.password_reset_required),
    }


def create_login_profile(self: IamResponse) -> ActionResult:
    user = self.backend.create_login_profile(self._get_param("UserName"), self._get_param("Password"))
    user.password_reset_required = self._get_bool_param("PasswordResetRequired", False)
    setattr(user, CREATED_ATTR, _now())
    return ActionResult({"LoginProfile": _profile(user)})


def get_login_profile(self: IamResponse) -> ActionResult:
    return ActionResult({"LoginProfile": _profile(self.backend.get_login_profile(self._get_param("UserName")))})


def seed_login_profile(account_id: str, user_name: str, created: datetime) -> None:
    """A console password made on the user at `created` (the emulator's clock is now)."""
    from moto.iam.models import iam_backends

    install()
    user = iam_backends[account_id]["aws"].create_login_profile(user_name, "Seeded-password-1!")
    setattr(user, CREATED_ATTR, created)


def install() -> None:
    """Patch moto's IAM once per process; safe to call any number of times."""
    with _lock:
        if not getattr(IamResponse, _INSTALLED_ATTR, False):
            setattr(IamResponse, "create_login_profile", create_login_profile)  # noqa: B010
            setattr(IamResponse, "get_login_profile", get_login_profile)  # noqa: B010
            setattr(IamResponse, _INSTALLED_ATTR, True)
