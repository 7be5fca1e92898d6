"""What AWS names may look like: IAM user and role names, account ids, region names. Shared by every layer."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path

# An IAM user or role name (IAM's own pattern): for regexes of pydantic fields, IAM_NAME_PATTERN anchors it.
IAM_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
IAM_NAME_PATTERN = rf"^{IAM_NAME.pattern}$"
ACCOUNT_ID = re.compile(r"\d{12}")


class RegionNames:
    """What an AWS region name may be, from botocore's partition data: each partition's `regionRegex` (aws,
    aws-cn, aws-us-gov, aws-iso*, aws-eusc, ...), so eusc-de-east-1 and a region launched after this release
    both pass, and a typo or a path does not.

    botocore may be imported only in responder/aws; its partition data is plain JSON beside it, read here
    without importing it, once, on first use. `fullmatch` answers as a compiled pattern's would."""

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        spec = importlib.util.find_spec("botocore")
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        data = [Path(location) / "data" / "partitions.json" for location in locations]
        found = next((path for path in data if path.is_file()), None)
        if found is None:
            raise RuntimeError("botocore's partition data (botocore/data/partitions.json) is missing: reinstall boto3")
        partitions = json.loads(found.read_text(encoding="utf-8"))["partitions"]
        shapes = [str(p["regionRegex"]).removeprefix("^").removesuffix("$") for p in partitions]
        # The lookahead keeps names lower case (botocore's \w would let US-EAST-1 through, which AWS refuses).
        return re.compile(rf"(?=[a-z0-9-]+\Z)(?:{'|'.join(shapes)})", re.ASCII)

    def fullmatch(self, name: str) -> re.Match[str] | None:
        return self.pattern.fullmatch(name)


REGION = RegionNames()
