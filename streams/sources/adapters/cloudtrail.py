"""AWS CloudTrail management and data events: one element of a log file's ``Records``, or an EventBridge ``detail``.

The person is the IAM user, or for an assumed role (IAM Identity Center, SAML)
the role session's name, which is the person's sign-in name there. Calls made
by AWS services on their own are refused: there is no person to attribute.

Examples
--------
>>> to_events({"eventVersion": "1.09", "eventID": "3d3c2a1e-7e5f-4c1b-9d7e-1b0c2f0a9e11",
...            "eventTime": "2026-11-02T21:17:28Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
...            "awsRegion": "eu-central-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.13.5",
...            "userIdentity": {"type": "AssumedRole",
...                             "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Support/agent0021"},
...            "requestParameters": {"bucketName": "customer-exports", "key": "2026/11/customers.csv"},
...            "additionalEventData": {"bytesTransferredOut": 52431}, "readOnly": True})
... # doctest: +NORMALIZE_WHITESPACE
[{'event_id': '3d3c2a1e-7e5f-4c1b-9d7e-1b0c2f0a9e11', 'ts': '2026-11-02T21:17:28Z', 'user': 'agent0021',
  'action': 'file.download', 'outcome': 'success', 'resource': 's3:customer-exports',
  'record_id': '2026/11/customers.csv', 'bytes': 52431, 'src_ip': '198.51.100.7', 'app': 'aws-cli/2.13.5',
  'attrs': {'aws_event': 's3.amazonaws.com:GetObject', 'aws_region': 'eu-central-1', 'read_only': True}}]
"""

from __future__ import annotations

import ipaddress

from streams.contract import InvalidRecord
from streams.sources.adapters.fields import dig, required, text

FMT = "CloudTrail"
ACTIONS = {
    "ConsoleLogin": "login",
    "GetObject": "file.download",
    "PutObject": "file.upload",
    "AttachUserPolicy": "privilege.grant", "PutUserPolicy": "privilege.grant", "AttachRolePolicy": "privilege.grant",
    "PutRolePolicy": "privilege.grant", "AddUserToGroup": "privilege.grant", "CreateAccessKey": "privilege.grant",
    "CreateLoginProfile": "privilege.grant", "UpdateAssumeRolePolicy": "privilege.grant",
}


def to_events(record: dict) -> list[dict]:
    record = record.get("detail", record) if "detail-type" in record else record  # an EventBridge envelope
    name = text(required(record, "eventName", fmt=FMT))
    params = record.get("requestParameters") or {}
    failed = bool(record.get("errorCode")) or dig(record, "responseElements.ConsoleLogin") == "Failure"
    bucket = params.get("bucketName") if isinstance(params, dict) else None
    event = {
        "event_id": text(required(record, "eventID", fmt=FMT)),
        "ts": required(record, "eventTime", fmt=FMT),
        "user": _person(record),
        "action": ACTIONS.get(name, f"aws.{name}"),
        "outcome": "failure" if failed else "success",
        "resource": f"s3:{bucket}" if bucket else text(record.get("eventSource")),
        "record_id": text(params.get("key")) if isinstance(params, dict) else None,
        "bytes": dig(record, "additionalEventData.bytesTransferredOut"),
        "src_ip": _ip(record.get("sourceIPAddress")),
        "app": text(record.get("userAgent")),
        "attrs": {"aws_event": f"{record.get('eventSource')}:{name}", "aws_region": record.get("awsRegion"),
                  "read_only": record.get("readOnly")},
    }
    return [{k: v for k, v in event.items() if v is not None}]


def _person(record: dict) -> str:
    identity = record.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "IAMUser" and identity.get("userName"):
        return str(identity["userName"])
    if kind == "AssumedRole" and "/" in str(identity.get("arn", "")):
        return str(identity["arn"]).rsplit("/", 1)[1]  # the role session: the person's sign-in name
    if kind == "Root":
        return f"root@{identity.get('accountId', 'aws')}"
    if kind in ("IdentityCenterUser", "SAMLUser", "WebIdentityUser") and identity.get("userName"):
        return str(identity["userName"])
    raise InvalidRecord(f"CloudTrail userIdentity.type {kind!r} names no person (an AWS service acting on its own?)")


def _ip(value) -> str | None:
    """The caller's address; CloudTrail puts a service's name there when a service made the call."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
