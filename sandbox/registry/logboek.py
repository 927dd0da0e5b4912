"""The access log in the shape of the Logboek Dataverwerkingen (the Dutch
government standard for logging data processing; MinBZK/logboek-dataverwerkingen,
``sections/03-specificaties/02-component-logboek.md`` on ``develop``).

One record per access decision: a *Dataverwerking* with the standard's
fields (``trace_id`` 16 bytes and ``operation_id`` 8 bytes as lowercase hex,
``status_code``, ``name``, ``start_time`` and ``end_time`` in milliseconds,
``resource`` and ``attributes``). The mapping, and what cannot be filled, is
in docs/logboek.md.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from .access_log import AccessEntry

# The standard's status codes (0: STATUS_CODE_UNKNOWN, 2: STATUS_CODE_ERROR).
# A refusal is a processing handled as intended, not a technical error.
STATUS_OK = "STATUS_CODE_OK"
SERVICE = "data-sandbox"
OURS = "data_sandbox"  # the namespace of the attributes the standard does not define


def operation_id(entry: AccessEntry) -> str:
    """8 bytes, stable for one decision: from its trace, dataset and version."""
    key = f"{entry.trace_id}/{entry.dataset}/{entry.version}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


def milliseconds(entry: AccessEntry) -> str:
    """An RFC 3339 UTC time to the millisecond (protobuf's Timestamp in JSON)."""
    moment = entry.at.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


OPERATIONS = {"granted": "mount", "refused": "refuse", "revoked": "revoke"}


def record(entry: AccessEntry) -> dict[str, Any]:
    """One access decision as a Dataverwerking."""
    attributes: dict[str, str] = {}
    if entry.processing_activity:
        attributes["dpl.core.processing_activity_id"] = entry.processing_activity
    attributes |= {
        f"{OURS}.dataset": entry.dataset,
        f"{OURS}.dataset_version": entry.version,
        f"{OURS}.dataset_sha256": entry.sha256,
        f"{OURS}.decision": entry.decision,
        f"{OURS}.purpose": entry.purpose,
        f"{OURS}.legal_basis": entry.legal_basis,
    }
    if entry.reason:
        attributes[f"{OURS}.reason"] = entry.reason
    moment = milliseconds(entry)
    return {
        "trace_id": entry.trace_id,
        "operation_id": operation_id(entry),
        "status_code": STATUS_OK,
        "name": f"{OPERATIONS.get(entry.decision, entry.decision)} dataset "
        f"{entry.dataset} {entry.version}",
        "start_time": moment,
        "end_time": moment,
        "resource": {"attributes": {"service.name": SERVICE, f"{OURS}.sandbox": entry.sandbox}},
        "attributes": attributes,
    }
