"""The AWS operation a request on the wire calls, for every protocol the sandbox serves: `Action=` of a query form
(IAM, STS), the suffix of `X-Amz-Target` (JSON: CloudTrail, Cost Explorer), `/operation/NAME` of the RPC v2 CBOR
path (CloudWatch), or, for REST (Bedrock, Account), the method and path matched against the botocore model's
`requestUri` of the service the signature's credential scope names. What the request log and tests' proxies read.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qs

import botocore.exceptions
import botocore.session

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/")  # the credential scope: region, service
_LABEL = re.compile(r"\{[^}+]+\}")
_GREEDY = re.compile(r"\{[^}]+\+\}")


def scope_of(authorization: str) -> tuple[str | None, str | None]:
    """(region, signing service) of a SigV4 Authorization header."""
    match = _SCOPE.search(authorization)
    return (match.group(1), match.group(2)) if match else (None, None)


@functools.cache
def _routes(service: str) -> list[tuple[str, re.Pattern[str], str]]:
    """Each REST operation of the service the credential scope names (its botocore name, as for Bedrock and
    Account): (HTTP method, path pattern, name), the longest literal paths first."""
    try:
        model = botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return []
    if model.protocol not in ("rest-json", "rest-xml"):
        return []
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = re.escape(str(http.get("requestUri", "/")).split("?")[0]).replace(r"\{", "{").replace(r"\}", "}")
        pattern = _LABEL.sub("[^/]+", _GREEDY.sub(".+", path))
        found.append((str(http.get("method", "GET")), re.compile(pattern + "/?"), name))
    return sorted(found, key=lambda r: -len(r[1].pattern.replace("[^/]+", "").replace(".+", "")))


def operation_of(method: str, path: str, headers: dict[str, str], body: bytes) -> str | None:
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:
        return target.rpartition(".")[2]
    bare = path.split("?", 1)[0]
    if "/operation/" in bare:  # RPC v2 CBOR: /service/NAME/operation/OPERATION
        return bare.rsplit("/operation/", 1)[1]
    for source in (body.decode("utf-8", "replace"), path.partition("?")[2]):
        actions = parse_qs(source).get("Action")
        if actions:
            return actions[0]
    _, service = scope_of(headers.get("Authorization") or headers.get("authorization") or "")
    for verb, pattern, name in _routes(service or ""):
        if verb == method and pattern.fullmatch(bare):
            return name
    return None
