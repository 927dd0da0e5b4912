"""Typed model of ``sandbox.yaml`` and of data cards (PRODUCT.md sections 4 and 5).

Unknown keys are rejected everywhere (``extra="forbid"``); the loader in
``config.py`` turns pydantic's errors into ``file:line: key: message``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import InvalidInput

# the languages of sandbox.texts (a test keeps the two the same)
Language = Literal["en", "nl"]
SLUG = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
USERNAME = r"^[a-z0-9][a-z0-9._-]*$"
Slug = Annotated[str, Field(pattern=SLUG, max_length=63)]
Username = Annotated[str, Field(pattern=USERNAME, max_length=64)]

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$", re.IGNORECASE)
_MEMORY_FACTOR = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_ISO_PERIOD = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_duration(text: str) -> int:
    """'90s', '30m', '1h', '2d' -> seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 1h or 2d")
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


def parse_memory(text: str) -> int:
    """'512M', '2G', '2GiB' -> bytes."""
    match = _MEMORY.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a memory size like 512M or 2G")
    return int(float(match.group(1)) * _MEMORY_FACTOR[match.group(2).upper()])


# --------------------------------------------------------------------- sandbox.yaml


URI = r"^https?://\S+$"
HTTPS_URI = r"^https://[^/\s]+(/\S*)?$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TOOI = r"^https://identifier\.overheid\.nl/tooi/id/\S+$"
# the languages DCAT-AP-DONL lists (taxonomy/languages.ttl), as ISO 639-1 codes
MetadataLanguage = Literal["nl", "en", "fy", "de"]


class Organisation(Strict):
    name: str = Field(min_length=1)
    kind: Literal["government", "other"]
    processing_register: str | None = Field(
        default=None,
        pattern=URI,
        description="The organisation's register of processing activities (AVG art. 30); "
        "when set, personal data at tier 2 and up needs a data card processing_activity.",
    )
    contact_email: str | None = Field(
        default=None,
        pattern=EMAIL,
        description="Where the public asks about the organisation's algorithms; required by "
        "`sandbox export algoritmeregister` (the register's contact_email).",
    )
    website: str | None = Field(
        default=None,
        pattern=HTTPS_URI,
        description="The organisation's website (foaf:homepage in the DCAT-AP-DONL export).",
    )
    catalog_url: str | None = Field(
        default=None,
        pattern=HTTPS_URI,
        description="Where the catalog is published; required by `sandbox datasets export`: "
        "each dataset's identifier and access URL is <catalog_url>/<id>, and a public "
        "dataset's files are downloaded from <catalog_url>/<id>/<path>.",
    )
    tooi: str | None = Field(
        default=None,
        pattern=TOOI,
        description="The organisation's TOOI identifier (identifier.overheid.nl); the "
        "publisher of every data card that names none.",
    )
    language: MetadataLanguage = Field(
        default="nl",
        description="The language of the data and metadata unless a data card says otherwise.",
    )


class Network(Strict):
    egress: bool = True


class Resources(Strict):
    memory: str = "2G"
    cpus: float = Field(default=1.0, gt=0, le=64)
    pids: int = Field(default=512, ge=64, le=65536)

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if parse_memory(value) < 128 * 1024**2:
            raise ValueError("memory must be at least 128M")
        return value

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory)


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class Hub(Strict):
    """The proxy's public address: the only TCP port a sandbox listens on (the
    hub API, the proxy's API and the registry service use unix sockets)."""

    ip: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1024, le=65535)
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/\s]+/?$")

    @property
    def url(self) -> str:
        """Where people open the sandbox."""
        if self.public_url:
            return self.public_url.rstrip("/") + "/"
        return f"http://{self.ip}:{self.port}/"

    @property
    def behind_tls(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))

    @property
    def loopback_only(self) -> bool:
        return self.ip in LOOPBACK


LDAP_URI = r"^ldaps?://[^/\s]+/?$"
ABSOLUTE_PATH = r"^/"  # secret files live outside the config's folder (and its git)


class Auth(Strict):
    """How people log in. ``oidc`` and ``ldap`` keys are read for their type
    only; secrets are files (0600 copies in the state directory), never values."""

    type: Literal["native", "shared-password", "per-user-password", "oidc", "ldap"] = Field(
        default="shared-password",
        description="shared-password: one password for all users (tier 0-1 only, rule 8); "
        "per-user-password: a password per user that `up` makes (0600 files; `sandbox "
        "credentials` prints them); native: jupyterhub-nativeauthenticator; oidc; ldap.",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Further traitlets of the authenticator class, passed as they are.",
    )
    issuer: str | None = Field(
        default=None,
        pattern=URI,
        description="oidc: the issuer URL; the hub reads <issuer>/.well-known/"
        "openid-configuration at start for the login, token and userinfo endpoints.",
    )
    client_id: str | None = Field(default=None, min_length=1, description="oidc: the client id.")
    client_secret_file: str | None = Field(
        default=None,
        pattern=ABSOLUTE_PATH,
        description="oidc: the absolute path of a file holding the client secret (`up` copies it "
        "0600 into the state directory; the secret never appears in hub.json or a log).",
    )
    username_claim: str = Field(
        default="preferred_username", description="oidc: the userinfo claim that is the username."
    )
    groups_claim: str = Field(
        default="groups", description="oidc: the userinfo claim listing the user's IdP groups."
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"],
        description="oidc: scopes asked for at login (add the one your IdP needs for groups).",
    )
    admin_idp_group: str | None = Field(
        default=None,
        min_length=1,
        description="oidc, ldap: members of this IdP group are hub admins (beside `admins`).",
    )
    server: str | None = Field(
        default=None,
        pattern=LDAP_URI,
        description="ldap: the directory, as ldap://host:port or ldaps://host:port.",
    )
    bind_dn_template: list[str] = Field(
        default_factory=list,
        description="ldap: DNs to bind as, {username} filled in (direct bind); "
        "leave empty for a search bind with bind_dn and user_base.",
    )
    bind_dn: str | None = Field(
        default=None, description="ldap: the account that searches for users and groups."
    )
    bind_password_file: str | None = Field(
        default=None,
        pattern=ABSOLUTE_PATH,
        description="ldap: the absolute path of a file holding bind_dn's password (copied 0600).",
    )
    user_base: str | None = Field(default=None, description="ldap: where users are searched.")
    user_attribute: str = Field(default="uid", description="ldap: the attribute of the username.")
    group_base: str | None = Field(
        default=None, description="ldap: where the groups that idp_group names are searched."
    )
    group_member_attribute: str = Field(
        default="member",
        description="ldap: the group attribute listing members (member: DNs, memberUid: names).",
    )

    @model_validator(mode="after")
    def _complete(self) -> Auth:
        if self.type == "oidc":
            missing = [
                k for k in ("issuer", "client_id", "client_secret_file") if not getattr(self, k)
            ]
            if missing:
                raise ValueError(f"oidc logins need {', '.join(missing)}")
        if self.type == "ldap":
            if not self.server:
                raise ValueError("ldap logins need server (ldap://host:port)")
            if not self.bind_dn_template and not (self.bind_dn and self.user_base):
                raise ValueError(
                    "ldap logins need bind_dn_template, or bind_dn and user_base for a search bind"
                )
        return self

    @property
    def personal(self) -> bool:
        """Whether each person logs in with credentials of their own."""
        return self.type != "shared-password"

    @property
    def maps_groups(self) -> bool:
        """Whether the identity provider says who is in which group (oidc, ldap)."""
        return self.type in ("oidc", "ldap")


class Grant(Strict):
    dataset: Slug
    purpose: str = Field(min_length=1)


class PartnerAgreement(Strict):
    reference: str = Field(min_length=1, description="The agreement's reference (SOK-2026-03).")
    valid_until: dt.date = Field(
        description="The last day the partner's members may start a server (rule 10)."
    )


class ExternalMember(Strict):
    """A member from another organisation (a chain partner), admitted under an
    agreement between the organisations."""

    name: Username = Field(description="The partner member's username in this sandbox.")
    organisation: str = Field(min_length=1, description="The organisation they come from.")
    agreement: PartnerAgreement | None = Field(
        default=None,
        description="The agreement they are admitted under; plan refuses a partner "
        "member without a valid one (rule 10).",
    )


class Group(Strict):
    name: Slug
    role: Literal["analyst", "manager", "steward"] = "analyst"
    members: list[Username | ExternalMember] = Field(default_factory=list)
    grants: list[Grant] = Field(default_factory=list)
    dpia: str | None = None
    idp_group: str | None = Field(
        default=None,
        min_length=1,
        description="oidc, ldap: the identity provider's group whose members are this group's "
        "members, as of each login (beside `members`).",
    )
    shared_folder: bool = True
    organisation: str | None = Field(default=None, min_length=1)
    agreement: PartnerAgreement | None = None

    @model_validator(mode="after")
    def _partner_group(self) -> Group:
        if self.agreement is not None and self.organisation is None:
            raise ValueError("a group's agreement needs its organisation (the partner's name)")
        return self

    @property
    def member_names(self) -> list[str]:
        return [m if isinstance(m, str) else m.name for m in self.members]

    @property
    def partners(self) -> list[ExternalMember]:
        return [m for m in self.members if isinstance(m, ExternalMember)]


class Airlock(Strict):
    """The output airlock: how big a request may be and the disclosure rules
    its tables are checked against (ACRO's defaults)."""

    max_bytes: int = Field(default=100 * 1024**2, ge=1)
    threshold: int = Field(default=10, ge=1)
    p_ratio: float = Field(default=0.10, ge=0, le=1)
    nk: tuple[int, float] = (2, 0.90)

    @field_validator("max_bytes", mode="before")
    @classmethod
    def _max_bytes(cls, value: Any) -> Any:
        """A size like 100M (as resources.memory), or a number of bytes."""
        if not isinstance(value, str):
            return value
        try:
            return parse_memory(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a size like 100M or 1G (or a number of bytes)"
            ) from None

    @field_validator("nk")
    @classmethod
    def _nk(cls, value: tuple[int, float]) -> tuple[int, float]:
        # a table's evidence keeps each cell's two largest contributions: an n
        # over 2 would be checked as 2, a weaker rule than the one configured
        if value[0] not in (1, 2) or not 0 < value[1] <= 1:
            raise ValueError(
                "nk is [n, k]: the n (1 or 2) largest contributions holding k (0-1) or"
                " more of a cell"
            )
        return value


def add_period(day: dt.date, period: str) -> dt.date:
    """``day`` plus an ISO-8601 period like P30D, P6W, P18M or P7Y (a month
    end stays within its month: 31 January plus P1M is 28 or 29 February)."""
    match = _ISO_PERIOD.match(period)
    if not match:
        raise ValueError(f"{period!r} is not an ISO-8601 period like P30D or P7Y")
    years, months, weeks, days = (int(g[:-1]) if g else 0 for g in match.groups())
    total = day.year * 12 + day.month - 1 + years * 12 + months
    year, month = divmod(total, 12)
    last = (dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - dt.timedelta(days=1)).day
    moved = dt.date(year, month + 1, min(day.day, last))
    return moved + dt.timedelta(weeks=weeks, days=days)


class Offboarding(Strict):
    """What happens to a user's home when they leave: when a user removed from
    every group has been gone for ``grace``, and at ``down --purge``."""

    homes: Literal["archive", "destroy"] = Field(
        default="destroy",
        description="archive: a 0600 tarball with its sha256 in the state directory, "
        "then the volume is removed; destroy: the volume is removed. Both are recorded.",
    )
    grace: str = Field(
        default="P30D",
        description="How long a removed user's home is kept (ISO-8601 period: P30D, P6W, P3M); "
        "a user added back within it finds their home as they left it.",
    )

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        if not _ISO_PERIOD.match(value):
            raise ValueError(f"{value!r} is not an ISO-8601 period like P30D or P6W")
        return value


class Sandbox(Strict):
    name: Slug
    description: str = ""
    max_tier: int = Field(default=1, ge=0, le=3)
    expires: dt.date | None = None
    spawner: Literal["docker", "swarm", "local"] = "docker"
    lang: Language = "en"
    image: Slug = "notebook"
    network: Network = Network()
    resources: Resources = Resources()
    idle_timeout: str | None = "1h"
    hub: Hub = Hub()
    auth: Auth = Auth()
    airlock: Airlock = Airlock()
    offboarding: Offboarding = Offboarding()
    admins: list[Username] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)

    @field_validator("idle_timeout")
    @classmethod
    def _idle(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _unique_groups(self) -> Sandbox:
        names = [g.name for g in self.groups]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate group names: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _idp_groups_need_an_idp(self) -> Sandbox:
        bound = [g.name for g in self.groups if g.idp_group]
        if bound and not self.auth.maps_groups:
            raise ValueError(
                f"groups {', '.join(bound)} name an idp_group, which needs auth type oidc or "
                f"ldap (this sandbox uses {self.auth.type})"
            )
        return self

    @property
    def idle_seconds(self) -> int | None:
        return parse_duration(self.idle_timeout) if self.idle_timeout else None

    @property
    def users(self) -> list[str]:
        """Everyone allowed to log in: group members and admins, sorted."""
        names = set(self.admins)
        for group in self.groups:
            names.update(group.member_names)
        return sorted(names)

    def groups_of(self, user: str) -> list[Group]:
        return [g for g in self.groups if user in g.member_names]

    def partner(self, user: str) -> ExternalMember | None:
        """The user as a member from another organisation, or None."""
        for group in self.groups:
            for member in group.partners:
                if member.name == user:
                    return member
        return None


class SandboxConfig(Strict):
    organisation: Organisation
    sandboxes: list[Sandbox] = Field(min_length=1)
    datasets: str = "datasets/"

    @model_validator(mode="after")
    def _unique_sandboxes(self) -> SandboxConfig:
        names = [s.name for s in self.sandboxes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate sandbox names: {', '.join(duplicates)}")
        for longer in names:
            for shorter in (n for n in names if longer.startswith(f"{n}-home-")):
                raise ValueError(
                    f"sandboxes {shorter} and {longer}: the home volumes of {longer} would be "
                    f"named like those of {shorter}; rename {longer}"
                )
        ports: dict[int, str] = {}
        for sandbox in self.sandboxes:
            port = sandbox.hub.port
            if port in ports:
                raise ValueError(f"sandboxes {ports[port]} and {sandbox.name} both use port {port}")
            ports[port] = sandbox.name
        return self

    def sandbox(self, name: str) -> Sandbox:
        for sandbox in self.sandboxes:
            if sandbox.name == name:
                return sandbox
        known = ", ".join(s.name for s in self.sandboxes)
        raise InvalidInput(f"no sandbox named {name!r} (known: {known})")


# ------------------------------------------------------------------------ data card

Level = Literal["laag", "midden", "hoog"]


class Biv(Strict):
    beschikbaarheid: Level
    integriteit: Level
    vertrouwelijkheid: Level


class Classification(Strict):
    rubricering: Literal[
        "ongerubriceerd", "dep-vertrouwelijk", "stg-confidentieel", "stg-geheim", "stg-zeer-geheim"
    ]
    biv: Biv


class PersonalData(Strict):
    kind: Literal["none", "regular", "special", "criminal", "national-id"]
    identifiability: Literal["identifiable", "pseudonymised", "aggregated", "anonymous"] | None = (
        None
    )
    special_categories: list[str] = Field(default_factory=list)
    art9_exception: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PersonalData:
        if self.kind != "none" and self.identifiability is None:
            raise ValueError("identifiability is required when kind is not none")
        if self.kind == "special" and not self.special_categories:
            raise ValueError("special data needs special_categories")
        if self.kind != "special" and self.special_categories:
            raise ValueError("special_categories is only allowed when kind is special")
        if self.kind == "special" and not self.art9_exception:
            raise ValueError("special data needs art9_exception")
        return self

    @property
    def present(self) -> bool:
        return self.kind != "none"


class LegalBasis(Strict):
    ground: Literal[
        "consent",
        "contract",
        "legal-obligation",
        "vital-interest",
        "public-task",
        "legitimate-interest",
    ]
    reference: str = Field(min_length=1)


class Dpia(Strict):
    status: Literal["done", "not-required", "required"]
    reference: str | None = None
    date: dt.date | None = None


class Retention(Strict):
    period: str
    action: Literal["destroy", "transfer"]
    basis: str = Field(min_length=1)

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if not _ISO_PERIOD.match(value):
            raise ValueError(f"{value!r} is not an ISO-8601 period like P7Y or P18M")
        return value


class Agreement(Strict):
    reference: str = Field(min_length=1)
    valid_until: dt.date


class DataFile(Strict):
    path: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    table_schema: dict[str, Any] | None = Field(default=None, alias="schema")


class DataCard(Strict):
    id: Slug
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    version: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    owner: str = Field(min_length=1)
    steward: str = Field(min_length=1)
    contact_point: str = Field(min_length=1)
    publisher: str | None = None
    license: str = Field(min_length=1)
    access_rights: Literal["publiek", "onder-voorwaarden", "niet-publiek"]
    themes: list[str] = Field(default_factory=list)
    classification: Classification
    personal_data: PersonalData
    legal_basis: list[LegalBasis] = Field(default_factory=list)
    purposes: list[str] = Field(min_length=1)
    dpia: Dpia | None = None
    retention: Retention
    agreement: Agreement | None = None
    processing_activity: str | None = Field(
        default=None,
        pattern=URI,
        description="The processing activity in the organisation's register this data is "
        "used under (a URI); logged with every grant (Logboek Dataverwerkingen).",
    )
    language: list[MetadataLanguage] = Field(
        default_factory=list,
        description="The languages of the data (dct:language); default: the organisation's.",
    )
    issued: dt.date | None = Field(
        default=None, description="When the data was first published (dct:issued)."
    )
    modified: dt.date | None = Field(
        default=None, description="When the data last changed (dct:modified)."
    )
    files: list[DataFile] = Field(min_length=1)
    quality: Literal["warn", "strict"] = Field(
        default="warn",
        description="What validate and plan do when a file fails its Table Schema (a duplicate "
        "key, a value out of range, a date that does not exist): warn, or refuse (strict).",
    )
