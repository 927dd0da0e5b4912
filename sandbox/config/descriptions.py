"""What each configuration key means: one sentence per key of ``sandbox.yaml``
and of a data card, keyed as docs/configuration.md shows it
(``sandboxes[].auth.type``: ``[]`` is an item of a list).

The reference and ``sandbox schema`` read them from here, not from the model,
so the model stays a model. A key added to the model without a sentence here
fails tests/unit/test_config_descriptions.py. ``Extra`` entries document keys
inside a value the model leaves free (a Frictionless Table Schema).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extra:
    """A documented key the model does not type: its type, text and default."""

    type: str
    description: str
    required: bool = False
    default: str = ""


SANDBOX_YAML: dict[str, str | Extra] = {
    "organisation": "The organisation that runs the sandboxes and owns the data.",
    "organisation.name": "Its name, as shown on exports and data cards.",
    "organisation.kind": "government may not rely on legitimate-interest as a legal basis "
    "(rule 2); other may.",
    "organisation.processing_register": "The organisation's register of processing "
    "activities (AVG art. 30, a URL); when set, personal data at tier 2 and up needs a "
    "data card processing_activity.",
    "organisation.contact_email": "Where the public asks about the organisation's "
    "algorithms; required by `sandbox export algoritmeregister` (the register's "
    "contact_email).",
    "organisation.website": "The organisation's website, an https URL (foaf:homepage in "
    "the DCAT-AP-DONL export).",
    "organisation.catalog_url": "Where the catalog is published, an https URL; required by "
    "`sandbox datasets export`: each dataset's identifier and access URL is "
    "`<catalog_url>/<id>`, and a public dataset's files are downloaded from "
    "`<catalog_url>/<id>/<path>`.",
    "organisation.tooi": "The organisation's TOOI identifier "
    "(https://identifier.overheid.nl/tooi/id/...); the publisher of every data card that "
    "names none.",
    "organisation.language": "The language of the data and metadata unless a data card "
    "says otherwise (ISO 639-1).",
    "sandboxes": "The sandboxes: each one JupyterHub with its own users, groups and "
    "datasets; at least one.",
    "sandboxes[].name": "The sandbox's name: lowercase letters, digits and hyphens, at "
    "most 63 characters, unique in the file.",
    "sandboxes[].description": "What the sandbox is for, in a line.",
    "sandboxes[].max_tier": "The highest dataset tier this sandbox may hold (0 public, 1 not "
    "public, 2 pseudonymised, 3 identifiable or special personal data); a grant of a "
    "higher tier is refused (rule 1).",
    "sandboxes[].expires": "The last day the sandbox is used (YYYY-MM-DD): after it no "
    "server starts and running servers are stopped; required from tier 2 (rule 6).",
    "sandboxes[].spawner": "Where users' servers run: docker (a container each), swarm "
    "(Docker Swarm services) or local (processes on the host, no isolation: tier 1 and "
    "below only).",
    "sandboxes[].lang": "The language of the hub's pages and notices.",
    "sandboxes[].image": "The notebook image: a folder under images/.",
    "sandboxes[].network": "The network of users' containers.",
    "sandboxes[].network.egress": "Whether containers may reach addresses outside the "
    "sandbox; must be false from tier 2 (rule 6).",
    "sandboxes[].resources": "Limits per user container.",
    "sandboxes[].resources.memory": "Memory per container, like 512M or 2G (at least 128M).",
    "sandboxes[].resources.cpus": "CPUs per container (fractions allowed).",
    "sandboxes[].resources.pids": "The most processes and threads a container may run.",
    "sandboxes[].idle_timeout": "How long an idle server keeps running before it is "
    "stopped, like 30m, 1h or 2d; null keeps idle servers running (tier 1 and below only, "
    "rule 6).",
    "sandboxes[].hub": "The proxy's public address: the only TCP port a sandbox listens "
    "on (the hub API, the proxy's API and the registry service use unix sockets).",
    "sandboxes[].hub.ip": "The address the proxy listens on.",
    "sandboxes[].hub.port": "The port the proxy listens on; unique among the sandboxes, "
    "and free on the host (plan and up check).",
    "sandboxes[].hub.public_url": "Where people reach the sandbox when a TLS-terminating "
    "reverse proxy stands in front of it (https://host, no path): the hub builds its links "
    "and login redirects on it. A tier 2+ hub on a non-loopback ip needs an https one "
    "(rule 9).",
    "sandboxes[].auth": "How people log in. Secrets are files (copied 0600 into the state "
    "directory), never values in this file.",
    "sandboxes[].auth.type": "shared-password: one password for all users (tier 0-1 only); "
    "per-user-password: a password per user that `up` makes (0600 files; `sandbox "
    "credentials` prints them); native: jupyterhub-nativeauthenticator (users sign up, "
    "an admin approves); oidc or ldap: the organisation's identity provider (the keys "
    "below marked oidc or ldap).",
    "sandboxes[].auth.settings": "Further traitlets of the authenticator class, passed as "
    "they are.",
    "sandboxes[].auth.issuer": "oidc: the issuer URL; the hub reads "
    "`<issuer>/.well-known/openid-configuration` at start for the login, token and userinfo "
    "endpoints.",
    "sandboxes[].auth.client_id": "oidc: the client id registered at the identity provider.",
    "sandboxes[].auth.client_secret_file": "oidc: the absolute path of a file holding the "
    "client secret (`up` copies it 0600 into the state directory; the secret never appears "
    "in hub.json or a log).",
    "sandboxes[].auth.username_claim": "oidc: the userinfo claim that is the username.",
    "sandboxes[].auth.groups_claim": "oidc: the userinfo claim listing the user's IdP groups.",
    "sandboxes[].auth.scopes": "oidc: the scopes asked for at login (default openid, "
    "profile, email; add the one your IdP needs for groups).",
    "sandboxes[].auth.admin_idp_group": "oidc, ldap: members of this IdP group are hub "
    "admins (beside `admins`).",
    "sandboxes[].auth.server": "ldap: the directory, as ldap://host:port or ldaps://host:port.",
    "sandboxes[].auth.bind_dn_template": "ldap: DNs to bind as, {username} filled in "
    "(direct bind); leave empty for a search bind with bind_dn and user_base.",
    "sandboxes[].auth.bind_dn": "ldap: the account that searches for users and groups.",
    "sandboxes[].auth.bind_password_file": "ldap: the absolute path of a file holding "
    "bind_dn's password (copied 0600).",
    "sandboxes[].auth.user_base": "ldap: where users are searched.",
    "sandboxes[].auth.user_attribute": "ldap: the attribute that holds the username.",
    "sandboxes[].auth.group_base": "ldap: where the groups that idp_group names are searched.",
    "sandboxes[].auth.group_member_attribute": "ldap: the group attribute listing its "
    "members (member: DNs, memberUid: names).",
    "sandboxes[].airlock": "The output airlock: how big a request may be and the "
    "disclosure rules its tables are checked against (ACRO's defaults).",
    "sandboxes[].airlock.max_bytes": "The largest file or folder one request may take out: "
    "a size like 100M or 1G (as resources.memory) or a number of bytes (default 100M).",
    "sandboxes[].airlock.threshold": "A table cell made by fewer rows than this fails the check.",
    "sandboxes[].airlock.p_ratio": "The p-ratio rule: a cell fails when its total minus its "
    "two largest contributions is less than this share of the largest.",
    "sandboxes[].airlock.nk": "The N-K dominance rule as [n, k]: a cell fails when its n "
    "largest contributions make k (0-1) or more of its total. n is 1 or 2 (a table's "
    "evidence keeps each cell's two largest contributions); a larger n is refused.",
    "sandboxes[].offboarding": "What happens to a user's home when they leave: when a user "
    "removed from every group has been gone for grace, and at `down --purge`.",
    "sandboxes[].offboarding.homes": "archive: a 0600 tarball with its sha256 in the state "
    "directory, then the volume is removed; destroy: the volume is removed. Both are "
    "recorded.",
    "sandboxes[].offboarding.grace": "How long a removed user's home is kept (ISO-8601 "
    "period: P30D, P6W, P3M); a user added back within it finds their home as they left it.",
    "sandboxes[].admins": "Usernames of the hub's administrators.",
    "sandboxes[].groups": "The groups of users; datasets are granted to a group.",
    "sandboxes[].groups[].name": "The group's name: lowercase letters, digits and hyphens, "
    "unique in the sandbox.",
    "sandboxes[].groups[].role": "analyst: works with the granted data (the group is a team "
    "in the experiment registry); manager: also sees the managers' dashboard; steward: also "
    "approves airlock requests and reads the access log.",
    "sandboxes[].groups[].members": "Usernames in the group (lowercase letters, digits, "
    "dot, underscore, hyphen), or members from another organisation as {name, organisation, "
    "agreement: {reference, valid_until}} (chain partners, rule 10).",
    "sandboxes[].groups[].members[].name": "A partner member's username in this sandbox.",
    "sandboxes[].groups[].members[].organisation": "The organisation the member comes from.",
    "sandboxes[].groups[].members[].agreement": "The agreement the member is admitted under; "
    "plan refuses a partner member without one that is still valid (rule 10).",
    "sandboxes[].groups[].members[].agreement.reference": "The agreement's reference, "
    "such as SOK-2026-03.",
    "sandboxes[].groups[].members[].agreement.valid_until": "The agreement's last day: after "
    "it, the member's server starts are refused and recorded (rule 10).",
    "sandboxes[].groups[].grants": "The datasets the group's members get, mounted "
    "read-only under `/data/<dataset>/`.",
    "sandboxes[].groups[].grants[].dataset": "The id of a data card in the datasets folder.",
    "sandboxes[].groups[].grants[].purpose": "Why the group uses it: one of the data "
    "card's purposes (rule 4, purpose limitation).",
    "sandboxes[].groups[].dpia": "The reference of the DPIA for linking datasets: required "
    "when the group is granted two or more datasets with personal data (rule 5).",
    "sandboxes[].groups[].idp_group": "oidc, ldap: the identity provider's group whose "
    "members are this group's members, as of each login (beside `members`).",
    "sandboxes[].groups[].organisation": "A chain partner's group: the organisation all its "
    "members come from (with idp_group: whoever the identity provider puts in it).",
    "sandboxes[].groups[].agreement": "The agreement a partner group's members are admitted "
    "under; plan refuses a partner group without a valid one, and after valid_until its "
    "members start no server (rule 10).",
    "sandboxes[].groups[].agreement.reference": "The agreement's reference, such as SOK-2026-03.",
    "sandboxes[].groups[].agreement.valid_until": "The agreement's last day: after "
    "it, the member's server starts are refused and recorded (rule 10).",
    "sandboxes[].groups[].shared_folder": "docker, swarm: the group's team folder, "
    "/shared/<group>, read-write for its members only (a Docker volume of its own); "
    "false: no team folder.",
    "datasets": "The folder of data cards (`<id>.yaml`) and their files (`<id>/`), relative "
    "to this file.",
}

DATA_CARD: dict[str, str | Extra] = {
    "id": "The dataset's id: lowercase letters, digits and hyphens; the card's file name "
    "(`<id>.yaml`) and its files' folder (`<id>/`).",
    "title": "The dataset's title (dct:title).",
    "description": "What the data is, where it comes from and what it is not fit for "
    "(dct:description).",
    "version": "The version of the data (letters, digits, dot, underscore, hyphen); a new "
    "version is staged beside the old one.",
    "owner": "The accountable owner: the department that decides about the data.",
    "steward": "The data steward who answers questions about the data (a name or e-mail).",
    "contact_point": "Where users ask about the dataset (dcat:contactPoint), e.g. an "
    "e-mail address.",
    "publisher": "The publisher's TOOI URI (dct:publisher); default: organisation.tooi.",
    "license": "An SPDX licence id such as CC-BY-4.0, or proprietary.",
    "access_rights": "Who may see the data outside the sandbox (DONL access rights): "
    "publiek, onder-voorwaarden or niet-publiek; only publiek data can be tier 0.",
    "themes": "DONL theme slugs (overheid:TaxonomieBeleidsagenda), such as wonen; the "
    "catalog export needs one it knows.",
    "classification": "The Dutch government classification of the data.",
    "classification.rubricering": "The BIR rubricering; dep-vertrouwelijk and higher is "
    "tier 4, never allowed in a sandbox.",
    "classification.biv": "The BIV classification: availability, integrity and "
    "confidentiality needs.",
    "classification.biv.beschikbaarheid": "Availability need (beschikbaarheid).",
    "classification.biv.integriteit": "Integrity need (integriteit).",
    "classification.biv.vertrouwelijkheid": "Confidentiality need (vertrouwelijkheid).",
    "personal_data": "Whether and how the data holds personal data (AVG/GDPR); with the "
    "classification it sets the dataset's tier.",
    "personal_data.kind": "none; regular personal data; special categories (GDPR art. 9); "
    "criminal (art. 10); national-id (BSN). special, criminal and national-id are tier 3.",
    "personal_data.identifiability": "How far people can be identified; for regular "
    "personal data identifiable is tier 3, pseudonymised tier 2, aggregated or anonymous "
    "tier 1; required unless kind is none.",
    "personal_data.special_categories": "The GDPR art. 9 categories the data holds, like "
    "health; required when kind is special, and only then.",
    "personal_data.art9_exception": "The GDPR art. 9(2) exception that allows processing "
    "them; required when kind is special.",
    "legal_basis": "The GDPR art. 6 grounds for processing; required when the data holds "
    "personal data (rule 2).",
    "legal_basis[].ground": "The ground; a government organisation may not rely on "
    "legitimate-interest.",
    "legal_basis[].reference": "Where the ground is laid down, like a law on wetten.overheid.nl.",
    "purposes": "What the data may be used for (purpose limitation): a grant names one of "
    "them; at least one.",
    "dpia": "The data protection impact assessment; personal data needs status done, or "
    "not-required with a reference (rule 3).",
    "dpia.status": "done, not-required or required (still to be done).",
    "dpia.reference": "The DPIA's document reference.",
    "dpia.date": "When the DPIA was concluded (YYYY-MM-DD).",
    "retention": "How long copies of the data may be kept, and what happens to them after "
    "(Archiefwet).",
    "retention.period": "An ISO-8601 period, like P7Y or P18M, counted from issued (else "
    "from staging).",
    "retention.action": "destroy the copy, or mark it for transfer to the archive.",
    "retention.basis": "Where the period comes from, like a Selectielijst entry.",
    "agreement": "The data sharing agreement the data is received under, if any.",
    "agreement.reference": "The agreement's reference.",
    "agreement.valid_until": "Its last day (YYYY-MM-DD); after it the data is not mounted "
    "(rule 7).",
    "processing_activity": "The processing activity in the organisation's register this "
    "data is used under (a URI); logged with every grant (Logboek Dataverwerkingen).",
    "language": "The languages of the data (dct:language); default: the organisation's.",
    "issued": "When the data was first published (dct:issued), YYYY-MM-DD.",
    "modified": "When the data last changed (dct:modified), YYYY-MM-DD.",
    "quality": "What validate and plan do when a file fails its Table Schema (a duplicate "
    "key, a value out of range, a date that does not exist): warn, or refuse (strict); "
    "`datasets verify` fails on it only with strict.",
    "files": "The data files, each checked against its sha256 at validate, staging, every "
    "server start and `datasets verify`; at least one.",
    "files[].path": "The file's path relative to `datasets/<id>/` (never absolute, no '..', "
    "no symlink out).",
    "files[].sha256": "The file's sha256 in lowercase hex (`sandbox datasets hash FILE` "
    "prints it).",
    "files[].schema": "A Frictionless Table Schema the file is checked against (rule 11); "
    "`sandbox datasets add` drafts one.",
    "files[].schema.fields": Extra(
        "list of object",
        "The file's columns in order, as Frictionless Table Schema fields.",
        required=True,
    ),
    "files[].schema.fields[].name": Extra(
        "string", "The column's name as in the header.", required=True
    ),
    "files[].schema.fields[].type": Extra(
        "string / integer / number / boolean / date / datetime / ...",
        "The Table Schema type the values must have.",
        default="string",
    ),
    "files[].schema.fields[].constraints": Extra(
        "object",
        "Table Schema constraints: required, unique, enum, minimum, maximum, pattern, "
        "minLength, maxLength.",
    ),
    "files[].schema.fields[].pii": Extra(
        "boolean",
        "true marks a column holding personal data: the airlock fails an output whose "
        "header names such a column of a dataset granted in the sandbox, and the quality "
        "report lists it (`datasets add` marks columns whose names look personal).",
        default="false",
    ),
    "files[].schema.primaryKey": Extra(
        "string or list of string", "The column(s) whose values identify a row."
    ),
    "files[].schema.missingValues": Extra(
        "list of string", 'The values read as empty (default: the empty string "").'
    ),
}
