"""Governance policy: dataset tiers and the rules (``RULES``, listed in docs/guide.md).

Pure functions over the loaded model. Each violation names the rule, the
sandbox, group and dataset it concerns, and where in the YAML it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ..config.loader import LoadedCard, LoadedConfig
from ..config.model import DataCard, Organisation, PartnerAgreement, Sandbox
from ..errors import PolicyViolation, Problem

NEVER_ALLOWED_TIER = 4
ISOLATION_TIER = 2
PERSONAL_CREDENTIALS_TIER = 2  # rule 8: the access log must name a person
TLS_TIER = 2  # rule 9: logins and personal data cross the network encrypted

RULES = {
    1: "tier within the sandbox's max_tier; tier 4 never allowed",
    2: "personal data needs a lawful basis",
    3: "personal data needs a DPIA",
    4: "purpose limitation: a grant's purpose must be one of the dataset's purposes",
    5: "linking personal datasets needs a DPIA reference on the group",
    6: "tier 2 and up needs isolation, no egress, an expiry date and an idle timeout",
    7: "no expired data agreements; no new servers after the sandbox expires",
    8: "tier 2 and up needs personal credentials (per-user-password, oidc, ldap, native)",
    9: "a tier 2 and up hub on a non-loopback address needs TLS (an https hub.public_url)",
    10: "a member from another organisation needs an agreement that has not ended",
    11: "data quality: files meet their Table Schema (a warning; an error with quality: strict)",
}


def dataset_tier(card: DataCard) -> int:
    """Derive the tier (0-4) of a dataset; never typed in by hand."""
    if card.classification.rubricering != "ongerubriceerd":
        return 4
    personal = card.personal_data
    if personal.kind in ("special", "criminal", "national-id"):
        return 3
    if personal.kind == "regular":
        return {"identifiable": 3, "pseudonymised": 2}.get(personal.identifiability or "", 1)
    return 0 if card.access_rights == "publiek" else 1


def has_personal_data(card: DataCard) -> bool:
    return card.personal_data.kind != "none"


@dataclass(frozen=True)
class Violation:
    rule: int
    message: str
    problem: Problem
    sandbox: str | None = None
    group: str | None = None
    dataset: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        subject = ", ".join(
            f"{label} {value}"
            for label, value in (
                ("sandbox", self.sandbox),
                ("group", self.group),
                ("dataset", self.dataset),
            )
            if value
        )
        return (
            f"{self.problem.file}:{self.problem.line}: rule {self.rule} ({subject}): {self.message}"
        )

    def as_problem(self) -> Problem:
        subject = "/".join(v for v in (self.sandbox, self.group, self.dataset) if v)
        return Problem(
            self.problem.file,
            self.problem.line,
            self.problem.key,
            f"rule {self.rule} [{subject}]: {self.message}",
        )


def evaluate(loaded: LoadedConfig, today: date) -> list[Violation]:
    """Every violation of every rule (errors and warnings), in config order."""
    found: list[Violation] = []
    organisation = loaded.config.organisation
    for card in loaded.cards.values():
        users = _granted_to(loaded, card.card.id)
        found.extend(
            replace(v, message=f"{v.message} (granted to {users})") if users else v
            for v in _dataset_rules(card, organisation)
        )
    for s, sandbox in enumerate(loaded.config.sandboxes):
        found.extend(_sandbox_rules(loaded, s, sandbox, today))
    for card in loaded.cards.values():
        found.extend(_quality_rule(card))
    return found


# file digests and schema -> the check's first errors: a file's quality only
# changes with its content or its schema (validate and plan both ask)
_QUALITY_SEEN: dict[str, list[tuple[int, str]]] = {}


def _quality_rule(loaded: LoadedCard) -> list[Violation]:
    """Rule 11: each file against its Table Schema; a warning unless the card
    says ``quality: strict``."""
    import json

    from .quality import check_dataset

    card = loaded.card
    if not any(f.table_schema for f in card.files):
        return []
    key = json.dumps(
        [str(loaded.data_dir), card.model_dump(mode="json", include={"files"})], sort_keys=True
    )
    if key not in _QUALITY_SEEN:
        result = check_dataset(loaded.data_dir, card)
        _QUALITY_SEEN[key] = [
            (index, _quality_message(item))
            for index, item in enumerate(result.files)
            if item.checked and not item.valid
        ]
    strict = card.quality == "strict"
    return [
        Violation(
            11,
            message + ("" if strict else " (a warning; quality: strict on the card refuses it)"),
            loaded.doc.problem(("files", index, "schema"), ""),
            dataset=card.id,
            warning=not strict,
        )
        for index, message in _QUALITY_SEEN[key]
    ]


def _quality_message(item) -> str:
    count = f"{item.error_count}{'+' if item.error_limit_reached else ''}"
    shown = "; ".join(item.first_errors[:3])
    more = f"; and {item.error_count - 3} more" if item.error_count > 3 else ""
    return f"{item.path} fails its schema ({count} problem(s)): {shown}{more}"


def _granted_to(loaded: LoadedConfig, dataset_id: str) -> str:
    """'demo/belastingen, demo/leefomgeving': where a dataset is granted."""
    return ", ".join(
        f"{sandbox.name}/{group.name}"
        for sandbox in loaded.config.sandboxes
        for group in sandbox.groups
        if any(grant.dataset == dataset_id for grant in group.grants)
    )


def errors(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if not v.warning]


def _dataset_rules(loaded: LoadedCard, organisation: Organisation) -> list[Violation]:
    card, doc = loaded.card, loaded.doc
    org_kind = organisation.kind
    out: list[Violation] = []
    if not has_personal_data(card):
        return out

    def add(rule: int, loc: tuple[str | int, ...], message: str) -> None:
        out.append(Violation(rule, message, doc.problem(loc, ""), dataset=card.id))

    if not card.legal_basis:
        add(2, ("legal_basis",), "personal data needs a non-empty legal_basis")
    for index, basis in enumerate(card.legal_basis):
        if org_kind == "government" and basis.ground == "legitimate-interest":
            add(
                2,
                ("legal_basis", index, "ground"),
                "a government organisation may not rely on legitimate-interest (AVG art. 6(1))",
            )
    if card.personal_data.kind == "special" and not (
        card.personal_data.special_categories and card.personal_data.art9_exception
    ):
        add(2, ("personal_data",), "special data needs special_categories and art9_exception")
    register = organisation.processing_register
    if register and dataset_tier(card) >= ISOLATION_TIER and not card.processing_activity:
        add(
            2,
            ("personal_data",),
            f"personal data at tier {dataset_tier(card)} needs a processing_activity: its "
            f"entry in the register of processing activities ({register}, AVG art. 30)",
        )
    dpia = card.dpia
    if dpia is None:
        add(3, ("personal_data",), "personal data needs a dpia entry")
    elif dpia.status == "required":
        add(3, ("dpia", "status"), "the DPIA is required but not done")
    elif dpia.status == "not-required" and not dpia.reference:
        add(3, ("dpia", "reference"), "dpia status not-required needs a reference to the decision")
    return out


def _sandbox_rules(loaded: LoadedConfig, s: int, sandbox: Sandbox, today: date) -> list[Violation]:
    doc = loaded.doc
    out: list[Violation] = []
    base = ("sandboxes", s)
    highest = 0
    for g, group in enumerate(sandbox.groups):
        personal: list[str] = []
        for i, grant in enumerate(group.grants):
            loaded_card = loaded.cards.get(grant.dataset)
            if loaded_card is None:
                continue  # reported by the config loader
            card = loaded_card.card
            loc = (*base, "groups", g, "grants", i)
            tier = dataset_tier(card)
            highest = max(highest, tier)

            def add(rule: int, key: str, message: str, warning: bool = False) -> None:
                out.append(
                    Violation(
                        rule,
                        message,
                        doc.problem((*loc, key), ""),  # noqa: B023 (called right away)
                        sandbox.name,
                        group.name,  # noqa: B023
                        card.id,  # noqa: B023
                        warning,
                    )
                )

            if tier >= NEVER_ALLOWED_TIER:
                add(1, "dataset", f"tier 4 ({card.classification.rubricering}) is never allowed")
            elif tier > sandbox.max_tier:
                add(1, "dataset", f"dataset tier {tier} exceeds max_tier {sandbox.max_tier}")
            if grant.purpose not in card.purposes:
                allowed = ", ".join(card.purposes)
                add(4, "purpose", f"purpose {grant.purpose!r} is not one of: {allowed}")
            if card.agreement and card.agreement.valid_until < today:
                add(
                    7,
                    "dataset",
                    f"agreement {card.agreement.reference} expired on "
                    f"{card.agreement.valid_until.isoformat()}",
                )
            if has_personal_data(card) and card.id not in personal:
                personal.append(card.id)
        if len(personal) >= 2 and not group.dpia:
            out.append(
                Violation(
                    5,
                    f"links personal datasets {', '.join(personal)} without a dpia reference",
                    doc.problem((*base, "groups", g, "name"), ""),
                    sandbox.name,
                    group.name,
                )
            )
    out.extend(_isolation_rules(doc, base, sandbox, highest))
    out.extend(_partner_rules(doc, base, sandbox, today))
    out.extend(_credentials_rule(doc, base, sandbox, highest))
    out.extend(_tls_rule(doc, base, sandbox, highest))
    if sandbox.expires and sandbox.expires < today:
        out.append(
            Violation(
                7,
                f"expired on {sandbox.expires.isoformat()}: no new servers will start",
                doc.problem((*base, "expires"), ""),
                sandbox.name,
                warning=True,
            )
        )
    return out


def _isolation_rules(
    doc, base: tuple[str | int, ...], sandbox: Sandbox, highest: int
) -> list[Violation]:
    if highest < ISOLATION_TIER:
        return []
    needs = []
    if sandbox.spawner == "local":
        needs.append(("spawner", "container isolation (spawner docker or swarm, not local)"))
    if sandbox.network.egress:
        needs.append(("network", "network.egress: false"))
    if sandbox.expires is None:
        needs.append(("name", "an expires date"))
    if sandbox.idle_timeout is None:
        needs.append(("name", "an idle_timeout"))
    return [
        Violation(
            6,
            f"holds tier {highest} data, so it needs {what}",
            doc.problem((*base, key), ""),
            sandbox.name,
        )
        for key, what in needs
    ]


def _credentials_rule(
    doc, base: tuple[str | int, ...], sandbox: Sandbox, highest: int
) -> list[Violation]:
    """Rule 8: a sandbox that may hold tier 2 data (by its max_tier or its
    grants) logs people in with credentials of their own, so that every grant
    in the access log names the person who got the data."""
    tier = max(sandbox.max_tier, highest)
    if tier < PERSONAL_CREDENTIALS_TIER or sandbox.auth.personal:
        return []
    key = "auth" if "auth" in sandbox.model_fields_set else "max_tier"
    return [
        Violation(
            8,
            f"may hold tier {tier} data, so everyone needs credentials of their own: "
            f"auth type per-user-password, oidc or ldap instead of {sandbox.auth.type}",
            doc.problem((*base, key), ""),
            sandbox.name,
        )
    ]


def _tls_rule(doc, base: tuple[str | int, ...], sandbox: Sandbox, highest: int) -> list[Violation]:
    """Rule 9: a sandbox that may hold tier 2 data and listens beyond this
    machine is reached through TLS: a reverse proxy that terminates it, named
    by an https ``hub.public_url``."""
    tier = max(sandbox.max_tier, highest)
    hub = sandbox.hub
    if tier < TLS_TIER or hub.loopback_only or hub.behind_tls:
        return []
    key = "public_url" if hub.public_url else "ip"
    return [
        Violation(
            9,
            f"may hold tier {tier} data and listens on {hub.ip}, beyond this machine, "
            "without TLS: keep hub.ip 127.0.0.1 behind a TLS-terminating reverse proxy and "
            "set hub.public_url: https://<its name> (docs/guide.md, HTTPS)",
            doc.problem((*base, "hub", key), ""),
            sandbox.name,
        )
    ]


def _partner_rules(
    doc, base: tuple[str | int, ...], sandbox: Sandbox, today: date
) -> list[Violation]:
    """Rule 10: members from other organisations: each is admitted under an
    agreement that has not expired."""
    out = []
    for g, group in enumerate(sandbox.groups):
        if group.organisation is not None:
            refusal = partner_refusal(
                group.organisation,
                group.agreement.reference if group.agreement else None,
                group.agreement.valid_until if group.agreement else None,
                today,
            )
            if refusal:
                key = ("agreement", "valid_until") if group.agreement else ("organisation",)
                out.append(
                    Violation(
                        10,
                        f"partner group {group.name}: {refusal.removesuffix(' (rule 10)')}",
                        doc.problem((*base, "groups", g, *key), ""),
                        sandbox.name,
                        group.name,
                    )
                )
        for i, member in enumerate(group.members):
            if isinstance(member, str):
                continue
            loc: tuple[str | int, ...] = (*base, "groups", g, "members", i)
            until = member.agreement.valid_until if member.agreement else None
            refusal = partner_refusal(
                member.organisation,
                member.agreement.reference if member.agreement else None,
                until,
                today,
            )
            if refusal:
                where = (*loc, "agreement", "valid_until") if member.agreement else (*loc, "name")
                out.append(
                    Violation(
                        10,
                        f"partner member {member.name}: {refusal.removesuffix(' (rule 10)')}",
                        doc.problem(where, ""),
                        sandbox.name,
                        group.name,
                    )
                )
    return out


def partner_listing(sandbox: Sandbox, today: date) -> list[dict[str, Any]]:
    """Everyone admitted from another organisation, with the agreement they
    are under and whether it still holds: listed partner members, the listed
    members of a partner group, and a partner group an identity provider
    fills (its members known at login only)."""
    rows = []
    for group in sandbox.groups:
        entries: list[tuple[str, str, PartnerAgreement | None]] = []
        if group.organisation is not None:
            plain = [m for m in group.members if isinstance(m, str)]
            entries += [(name, group.organisation, group.agreement) for name in plain]
            if group.idp_group:
                via = f"idp_group {group.idp_group}"
                entries.append((via, group.organisation, group.agreement))
        entries += [(m.name, m.organisation, m.agreement) for m in group.partners]
        for who, organisation, agreement in entries:
            refusal = partner_refusal(
                organisation,
                agreement.reference if agreement else None,
                agreement.valid_until if agreement else None,
                today,
            )
            rows.append(
                {
                    "member": who,
                    "group": group.name,
                    "organisation": organisation,
                    "reference": agreement.reference if agreement else None,
                    "valid_until": agreement.valid_until.isoformat() if agreement else None,
                    "admitted": refusal is None,
                }
            )
    return rows


def partner_refusal(
    organisation: str, reference: str | None, valid_until: date | None, today: date
) -> str | None:
    """Rule 10 for a member from another organisation: why they may not be
    admitted (at plan time) or start a server (at every start), or None."""
    if reference is None or valid_until is None:
        return f"admitted from {organisation} without an agreement (rule 10)"
    if valid_until < today:
        return (
            f"the agreement {reference} with {organisation} expired on "
            f"{valid_until.isoformat()} (rule 10)"
        )
    return None


def sandbox_tier(loaded: LoadedConfig, sandbox: Sandbox) -> int:
    """Highest tier among the datasets granted in this sandbox (0 if none)."""
    tiers = [
        dataset_tier(loaded.cards[grant.dataset].card)
        for group in sandbox.groups
        for grant in group.grants
        if grant.dataset in loaded.cards
    ]
    return max(tiers, default=0)


def enforce(loaded: LoadedConfig, today: date) -> list[Violation]:
    """Raise ``PolicyViolation`` listing every error; return the warnings."""
    found = evaluate(loaded, today)
    bad = errors(found)
    if bad:
        raise PolicyViolation([v.as_problem() for v in bad])
    return [v for v in found if v.warning]


def mount_refusal(valid_until: date | None, file_problems: list[str], today: date) -> str | None:
    """Rule 7 at server start: why a granted dataset must not be mounted, or None."""
    if valid_until is not None and valid_until < today:
        return f"its data agreement expired on {valid_until.isoformat()} (rule 7)"
    if file_problems:
        return "its files fail their checksums: " + "; ".join(file_problems) + " (rule 7)"
    return None
