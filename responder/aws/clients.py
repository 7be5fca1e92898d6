"""The one place boto3 (botocore, its core) is imported: sessions, clients, and the translation of AWS errors.

Everything else receives a `Clients` and is testable without AWS.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sts import STSClient

ClientError = botocore.exceptions.ClientError
DEFAULT_REGION = "us-east-1"
# Read-only operations by their name; anything else changes the account. Dry-run refuses the rest.
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Simulate", "Head")
# AssumeRole changes no account: it lends a session, which a fan-out's dry run needs to read member accounts.
READ_ONLY_OPERATIONS = frozenset({"AssumeRole"})

MAX_ATTEMPTS = 8  # IAM may throttle, and 5xx happen: botocore's adaptive retry backs off for us
# CloudTrail answers LookupEvents at most 2 times a second per account and region (FACTS.md): pacing to that is
# faster than being throttled and backing off.
LOOKUP_EVENTS_PER_SECOND = 2


def _config(max_attempts: int) -> botocore.config.Config:
    return botocore.config.Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=30,
        user_agent_extra="responder",
    )


def is_read_only(operation_name: str) -> bool:
    return operation_name.startswith(READ_ONLY_PREFIXES) or operation_name in READ_ONLY_OPERATIONS


class MutationRefused(RuntimeError):
    """Raised before a mutating request is sent by clients opened read-only (dry-run)."""


@dataclass(frozen=True)
class RoleSession:
    """Temporary credentials from sts:AssumeRole (a fan-out's way into a member account)."""

    role_arn: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


@dataclass(frozen=True)
class AwsOptions:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = MAX_ATTEMPTS
    session: RoleSession | None = None  # set: use these credentials instead of the profile's
    # sts:AssumeRole's ExternalId when reaching other accounts (a fan-out), as the AWS CLI's `external_id`
    external_id: str | None = None


def session_name(run_id: str) -> str:
    """The role session's name: it shows in each account's CloudTrail and ties the calls to the run."""
    return f"responder-{run_id}"[:64]


def assume_role(options: AwsOptions, role_arn: str, session_name: str, sts: Any = None) -> AwsOptions:
    """Options for the same endpoint and region, signed as a session of role_arn, assumed with `sts` (a client
    shared across a fan-out's threads: botocore clients are thread-safe) or a new client for `options`."""
    from responder.errors import ResponderError
    from responder.redaction import SECRETS

    sts = sts if sts is not None else Clients(options).sts
    try:
        extra = {"ExternalId": options.external_id} if options.external_id is not None else {}
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name, **extra)["Credentials"]
    except ClientError as exc:
        if error_code(exc) not in ("AccessDenied", "AccessDeniedException"):
            raise
        raise ResponderError(
            f"cannot assume {role_arn} (AccessDenied): the role does not exist there, does not trust your principal, "
            "or you lack sts:AssumeRole on it (or its trust policy wants another --external-id); name another role "
            "with --role-name or ACCOUNT_ID,ROLE_NAME"
        ) from None
    SECRETS.register(answer["SecretAccessKey"], answer["SessionToken"])
    session = RoleSession(role_arn, answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])
    return dataclasses.replace(options, profile=None, session=session, external_id=None)


_shared: dict[str, Any] = {}
_shared_lock = threading.Lock()
_per_thread = threading.local()


class _ModelLoader(botocore.loaders.Loader):
    """botocore's loader without its census. Before the first model of each kind (the service's API, its endpoint
    rules), botocore lists every service it has, about 450 directories each listed and probed for the file, only
    to name them all in the error for a service that does not exist: a quarter of the CPU the run's first client
    costs, before its first request. responder names only services botocore has; a name it lacks still fails
    with botocore's own UnknownServiceError."""

    @botocore.loaders.instance_cache
    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        if api_version is None:
            try:
                api_version = self.determine_latest_version(service_name, type_name)
            except botocore.exceptions.DataNotFoundError:
                raise botocore.exceptions.UnknownServiceError(
                    service_name=service_name, known_service_names="(not listed)"
                ) from None
        model = self.load_data(os.path.join(service_name, api_version, type_name))
        extras = self._find_extras(service_name, type_name, api_version)  # type: ignore[attr-defined]  # private
        self._extras_processor.process(model, extras)  # type: ignore[attr-defined]  # as botocore's own does
        return model


def _loader(core: botocore.session.Session) -> Any:
    """One loader of service models per process: each new session would otherwise parse them again (~0.1 s of
    CPU per client), and a fan-out opens clients in every account. It searches where the session's own would
    (AWS_DATA_PATH, the `data_path` setting, then botocore's models)."""
    with _shared_lock:
        if "loader" not in _shared:
            paths = core.get_config_variable("data_path")
            extra = [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)] if paths else []
            _shared["loader"] = _ModelLoader(extra_search_paths=extra)
        return _shared["loader"]


def _new_core_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader(core))
    return core


def _as_boto3(core: botocore.session.Session) -> None:
    """Name the session's requests as boto3.Session names them (Boto3/VERSION ... Botocore/VERSION): what CloudTrail
    records as the operator's user agent. boto3 itself is not imported: it imports s3transfer and, with it,
    multiprocessing, ~17 ms of CPU before a run's first request, for a session that adds nothing else to
    IAM, STS or CloudTrail clients."""
    if core.user_agent_name == "Botocore":  # as boto3.Session.__init__ does
        botocore_info = f"Botocore/{core.user_agent_version}"
        core.user_agent_extra = f"{core.user_agent_extra} {botocore_info}" if core.user_agent_extra else botocore_info
        core.user_agent_name = "Boto3"
        core.user_agent_version = _boto3_version()


@functools.cache
def _boto3_version() -> str:
    try:
        return importlib.metadata.version("boto3")
    except importlib.metadata.PackageNotFoundError:  # installed without its metadata (a frozen build): ask boto3
        import boto3

        version: str = boto3.__version__
        return version


def _thread_core_session() -> botocore.session.Session:
    """A botocore session of this thread's, reused for every client signed with explicit (assumed-role)
    credentials: a session costs ~15 ms of CPU to set up, a fan-out's per-account price under the GIL."""
    core: botocore.session.Session | None = getattr(_per_thread, "core", None)
    if core is None:
        core = _per_thread.core = _new_core_session()
    return core


class Clients:
    """AWS clients for one run. Opened read-only, they refuse to send any mutating request.

    The operator's clients come from a botocore session of their profile, set up as boto3.Session sets it up; a
    fan-out's, from this thread's botocore session with the assumed role's credentials. Hooks go on each client,
    never on a shared session.
    """

    def __init__(self, options: AwsOptions, read_only: bool = False) -> None:
        from responder.errors import UserError
        from responder.keys import REGION

        if options.region is not None and not REGION.fullmatch(options.region):
            raise UserError(f"--region {options.region!r} is not an AWS region name (e.g. us-east-1)")
        self.options = options
        self.read_only = read_only
        self._hooks: list[Any] = [_refuse_mutation] if read_only else []
        # How a client is made: this thread's session with the role's credentials, or the profile's session.
        self._make: Any
        if options.session is not None:
            core = _thread_core_session()
            self._make = functools.partial(
                core.create_client,
                aws_access_key_id=options.session.access_key_id,
                aws_secret_access_key=options.session.secret_access_key,
                aws_session_token=options.session.session_token,
            )
            region = options.region or core.get_config_variable("region")
        else:
            core = _new_core_session()
            _as_boto3(core)
            if options.profile is not None:
                core.set_config_variable("profile", options.profile)
            if options.region is not None:
                core.set_config_variable("region", options.region)
            try:
                core.get_scoped_config()  # a missing --profile fails here, as bad input, not at the first call
            except botocore.exceptions.ProfileNotFound as exc:
                raise UserError(str(exc)) from None
            self._make = core.create_client
            region = core.get_config_variable("region")
        self.region: str = region or DEFAULT_REGION
        self._config = _config(options.max_attempts)
        self._clients: dict[tuple[str, str], Any] = {}
        self._making = threading.Lock()  # steps run on several threads; botocore sessions are not thread-safe

    def client(self, service: str) -> Any:
        return self.client_in(service, self.region)

    def client_in(self, service: str, region: str) -> Any:
        """A client, made once per service and region (CloudTrail is regional: one run may read several)."""
        key = (service, region)
        with self._making:
            if key not in self._clients:
                made = self._make(
                    service, region_name=region, endpoint_url=self.options.endpoint_url, config=self._config
                )
                for hook in self._hooks:
                    made.meta.events.register("before-call", hook)
                if service == "cloudtrail":
                    made.meta.events.register("before-call.cloudtrail.LookupEvents", _pacer(self.options, region))
                self._clients[key] = made
            return self._clients[key]

    @property
    def iam(self) -> IAMClient:
        client: IAMClient = self.client("iam")
        return client

    @property
    def sts(self) -> STSClient:
        client: STSClient = self.client("sts")
        return client

    def on_request(self, handler: Any) -> None:
        """Call handler(model=...) before every request of these clients (used by tests and the audit)."""
        self._hooks.append(handler)
        for made in self._clients.values():
            made.meta.events.register("before-call", handler)


class _Pacer:
    """Lets at most `rate` requests start in any one second (a sliding window), sleeping the caller until then."""

    def __init__(self, rate: int, window: float = 1.05) -> None:
        self.rate, self.window = rate, window  # a little over a second: clocks and the wire are not exact
        self._starts: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, **_: Any) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self._starts = [t for t in self._starts if now - t < self.window]
                if len(self._starts) < self.rate:
                    self._starts.append(now)
                    return
                wait = self.window - (now - self._starts[0])
            time.sleep(wait)


_pacers: dict[tuple[str | None, str | None, str], _Pacer] = {}


def _pacer(options: AwsOptions, region: str) -> _Pacer:
    """One pacer per account (the role a fan-out assumed, or the profile) and region for the whole process."""
    who = options.session.role_arn if options.session else options.profile
    with _shared_lock:
        return _pacers.setdefault((options.endpoint_url, who, region), _Pacer(LOOKUP_EVENTS_PER_SECOND))


def service_regions(service: str, partition: str = "aws") -> list[str]:
    """The regions botocore's endpoint data says `service` is offered in, in one partition (no request)."""
    return list(_new_core_session().get_available_regions(service, partition))


def _refuse_mutation(model: Any, **_: Any) -> None:
    if not is_read_only(model.name):
        raise MutationRefused(f"dry-run refused to send the mutating request {model.name}")


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        code: str | None = exc.response.get("Error", {}).get("Code")
        return code
    return None


def request_id(response: Any) -> str | None:
    rid: str | None = response.get("ResponseMetadata", {}).get("RequestId")
    return rid


def describe_aws_error(exc: BaseException) -> tuple[str, bool] | None:
    """A one-line description of an AWS failure, and whether it is the operator's input or setup."""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE, use --profile, or export AWS_ACCESS_KEY_ID", True
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return f"cannot reach AWS: {exc}", True
    if isinstance(exc, botocore.exceptions.ParamValidationError):
        return f"invalid request parameters: {exc}", True
    if isinstance(exc, ClientError):
        code = error_code(exc) or "Unknown"
        op = exc.operation_name
        message = exc.response.get("Error", {}).get("Message", "")
        if code in ("ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"):
            return f"your own AWS credentials were rejected ({code}): refresh them and retry", True
        if code in ("AccessDenied", "AccessDeniedException"):
            return f"AccessDenied on {op}: the operator lacks the permission for it ({message})", False
        return f"{code} on {op}: {message}", False
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return f"AWS client error: {exc}", False
    return None
