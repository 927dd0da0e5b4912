"""Names that the Python code, the playbooks and Docker share, stated once.

Python imports them from here; the roles never spell them:
``sandbox/provisioning/ansible.py`` hands them over as extravars
(``sandbox_labels``, each hub's ``home_volume_prefix``, each dataset's
``marker``, each network's ``design_label``). Standard library only: this
module is imported on target hosts too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Docker labels. Every container, swarm service and network of a sandbox
# carries LABEL_SANDBOX (``sandbox down`` finds them by it); a server's
# container also LABEL_USER; an image built for the sandboxes LABEL_IMAGE
# (its image folder's name); a sandbox's network LABEL_DESIGN, which says how
# the network was made (another value means it is made again).
LABEL_SANDBOX = "org.data-sandbox.sandbox"
LABEL_USER = "org.data-sandbox.user"
LABEL_IMAGE = "org.data-sandbox.image"
LABEL_DESIGN = "org.data-sandbox.design"
LABEL_GROUP = "org.data-sandbox.group"  # a team folder's volume, with its group's name
# the same, by role, as the playbooks receive them (extravar sandbox_labels)
LABELS = {
    "sandbox": LABEL_SANDBOX,
    "user": LABEL_USER,
    "image": LABEL_IMAGE,
    "design": LABEL_DESIGN,
    "group": LABEL_GROUP,
}

# The file a finished staged copy of a dataset version holds (its manifest):
# a copy without it was never completed and is staged again.
STAGED_MARKER = ".staged"

# Docker's network of a container that has none, only its own loopback.
NO_NETWORK = "none"

# What the spawners substitute with the user's name in a name template.
USERNAME = "{username}"


def network_name(sandbox: str) -> str:
    """The sandbox's own Docker network (for sandboxes that have one)."""
    return f"sandbox-{sandbox}"


def staged_label(sandbox: str) -> str:
    """The swarm node label saying which of the sandbox's dataset versions are
    staged and verified on that node; its value is their ``staged_digest``.
    Servers run only on nodes whose label matches (docs/swarm.md)."""
    return f"org.data-sandbox.staged.{sandbox}"


def staged_digest(folders: Iterable[str]) -> str:
    """Short digest of a set of staged dataset folders (each names its version)."""
    return hashlib.sha256("\n".join(sorted(folders)).encode()).hexdigest()[:16]


def relay_name(server: str) -> str:
    """The relay container of a swarm server (named ``server``) on the hub's
    node. ``--`` never occurs in an escaped user name (``-`` is always
    followed by two hex digits there), so no server is named so."""
    return _dns_label(f"{server}--relay")


def server_network(server: str) -> str:
    """The overlay network only a swarm server and its relay join."""
    return _dns_label(f"{server}--net")


def _dns_label(name: str) -> str:
    """Swarm names must be DNS labels: at most 63 characters."""
    if len(name) <= 63:
        return name
    return f"{name[:40]}--{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def container_prefix(sandbox: str) -> str:
    """What the name of every server container (or swarm service) of the
    sandbox starts with; the user's name follows."""
    return f"sandbox-{sandbox}-"


def container_name(sandbox: str, user: str) -> str:
    return container_prefix(sandbox) + user


def home_volume_prefix(sandbox: str) -> str:
    """What the name of every home volume of the sandbox starts with; the
    user's name follows. Not unique on its own: sandbox ``a``'s prefix also
    starts the volumes of sandbox ``a-home-b`` (see ``home_volume_user``)."""
    return f"sandbox-{sandbox}-home-"


_DOCKER_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def docker_escaped(user: str) -> str:
    """A username as DockerSpawner writes it into volume names (its default
    escape: a character other than a-z0-9 becomes -XX per UTF-8 byte, so
    ``k.devries`` is ``k-2edevries``)."""
    return "".join(
        c if c in _DOCKER_SAFE else "".join(f"-{b:02x}" for b in c.encode()) for c in user
    )


def docker_unescaped(escaped: str) -> str | None:
    """The username ``escaped`` was made from; None when it was made otherwise."""
    data, at = bytearray(), 0
    while at < len(escaped):
        if escaped[at] == "-":
            digits = escaped[at + 1 : at + 3]
            if len(digits) != 2 or not all(c in "0123456789abcdef" for c in digits):
                return None
            data.append(int(digits, 16))
            at += 3
        else:
            data += escaped[at].encode()
            at += 1
    try:
        user = data.decode()
    except UnicodeDecodeError:
        return None
    return user if docker_escaped(user) == escaped else None


def longer_home_prefixes(sandbox: str, others: Iterable[str]) -> list[str]:
    """The home prefixes of ``others`` that start with the prefix of ``sandbox``
    (sandbox ``a-home-b`` for ``a``): their volumes are not ``sandbox``'s."""
    prefix = home_volume_prefix(sandbox)
    found = {home_volume_prefix(o) for o in others if o != sandbox}
    return sorted(p for p in found if p.startswith(prefix) and p != prefix)


def home_volume_user(sandbox: str, volume: str, others: Iterable[str] = ()) -> str | None:
    """Whose home in ``sandbox`` ``volume`` is; None when it is not a home of
    ``sandbox`` (also when it is one of another sandbox of ``others``)."""
    prefix = home_volume_prefix(sandbox)
    if not volume.startswith(prefix) or volume.startswith(
        tuple(longer_home_prefixes(sandbox, others))
    ):
        return None
    return volume[len(prefix) :] or None


def foreign_homes_pattern(sandbox: str, others: Iterable[str]) -> str:
    """A regular expression for the volumes under the sandbox's prefix that
    belong to another sandbox (for the playbooks); ``^$`` matches none."""
    longer = longer_home_prefixes(sandbox, others)
    return "^(" + "|".join(longer) + ")" if longer else "^$"


def home_volume(sandbox: str, user: str) -> str:
    return home_volume_prefix(sandbox) + user


# A team folder's volume carries LABEL_SANDBOX and LABEL_GROUP: found by its
# labels, never by its name's prefix (which another sandbox's name could share).
TEAM_FOLDERS = "/shared"


def team_volume(sandbox: str, group: str) -> str:
    """The Docker volume of a group's team folder (group names are slugs)."""
    return f"sandbox-{sandbox}-shared-{group}"


def team_mount(group: str) -> str:
    """Where a team folder is in its members' containers."""
    return f"{TEAM_FOLDERS}/{group}"
