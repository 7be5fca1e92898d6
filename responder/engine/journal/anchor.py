"""The chain's head kept outside the run directory: `--anchor s3://BUCKET/PREFIX` writes each head a command ends
with to an S3 object under Object Lock, which nobody (the operator included) can overwrite or delete before its
retention ends; `audit verify --anchor` then checks the journal against every head anchored for the run. A journal
rewritten and re-hashed afterwards no longer holds them.

Objects: PREFIX/RUN_ID/RECORDS-HEAD.json (the count first, so they list in the order they were written). The bucket
must have Object Lock enabled (it can only be turned on for the bucket; see the README). GOVERNANCE mode for
ANCHOR_DAYS days: a bucket default retention in COMPLIANCE mode makes it stricter still.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from responder.aws.clients import ClientError, error_code
from responder.errors import UserError
from responder.redaction import shown

ANCHOR_DAYS = 400  # over a year: an incident's record outlives the yearly audit that asks for it
_ANCHOR = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?")
_OBJECT = re.compile(r"(\d{8})-([0-9a-f]{64})\.json")


@dataclass(frozen=True)
class Anchor:
    bucket: str
    prefix: str  # "" or ending in "/"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        match = _ANCHOR.fullmatch(text)
        if match is None:
            raise UserError(f"--anchor must be s3://BUCKET or s3://BUCKET/PREFIX, not {shown(text)}")
        prefix = (match.group(2) or "").strip("/")
        return cls(match.group(1), f"{prefix}/" if prefix else "")

    def folder(self, run_id: str) -> str:
        return f"{self.prefix}{run_id}/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class AnchoredHead:
    records: int
    head: str
    address: str  # s3://BUCKET/KEY


def write_anchor(s3: Any, anchor: Anchor, run_id: str, head: str, records: int) -> str:
    """Put the head under Object Lock; returns the object's s3:// address. A bucket without Object Lock is refused
    by S3 itself (InvalidRequest): said in one line."""
    key = f"{anchor.folder(run_id)}{records:08d}-{head}.json"
    body = json.dumps({"run_id": run_id, "head": head, "records": records}, sort_keys=True)
    until = datetime.now(timezone.utc) + timedelta(days=ANCHOR_DAYS)
    try:
        s3.put_object(
            Bucket=anchor.bucket,
            Key=key,
            Body=body.encode("utf-8"),
            ContentType="application/json",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=until,
        )
    except ClientError as exc:
        raise UserError(
            f"cannot anchor the head in {anchor} ({error_code(exc)}): the bucket must exist, have Object Lock "
            "enabled, and allow you s3:PutObject and s3:PutObjectRetention"
        ) from None
    return f"s3://{anchor.bucket}/{key}"


def read_anchors(s3: Any, anchor: Anchor, run_id: str) -> list[AnchoredHead]:
    """Every head anchored for the run, oldest first; only objects still under Object Lock count."""
    found: list[AnchoredHead] = []
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=anchor.bucket, Prefix=anchor.folder(run_id))
        for page in pages:
            for item in page.get("Contents", []):
                match = _OBJECT.fullmatch(item["Key"].rsplit("/", 1)[-1])
                if match is None:
                    continue
                if _locked(s3, anchor.bucket, item["Key"]):
                    address = f"s3://{anchor.bucket}/{item['Key']}"
                    found.append(AnchoredHead(int(match.group(1)), match.group(2), address))
    except ClientError as exc:
        raise UserError(f"cannot read the anchors in {anchor} ({error_code(exc)})") from None
    return sorted(found, key=lambda a: a.records)


def _locked(s3: Any, bucket: str, key: str) -> bool:
    """Whether the object is under Object Lock retention now: an unlocked object anyone could have rewritten.
    (HeadObject: moto's GetObjectRetention answers 500, and the head carries the same two fields.)"""
    head = s3.head_object(Bucket=bucket, Key=key)
    until = head.get("ObjectLockRetainUntilDate")
    return head.get("ObjectLockMode") in ("GOVERNANCE", "COMPLIANCE") and (
        until is None or until > datetime.now(timezone.utc)
    )
