"""A throwaway OpenLDAP server for tests: Debian's slapd with an mdb database
loaded by slapadd, on ldap://127.0.0.1:<free port>, stopped and gone after."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUFFIX = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "ldap-admin-password-5c1e0b"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
NOBODY = f"cn=nobody,{SUFFIX}"
# user -> (password, directory groups)
USERS = {
    "ana": ("ana-password", ["tax-analysts"]),
    "piet": ("piet-password", ["public-space"]),
    "mallory": ("mallory-password", ["facilities"]),
}
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


def config(folder: Path) -> str:
    includes = "".join(f"include /etc/ldap/schema/{name}.schema\n" for name in SCHEMAS)
    return f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args

database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {folder}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


def entries() -> str:
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
    ]
    members: dict[str, list[str]] = {}
    for user, (password, groups) in USERS.items():
        blocks.append(
            f"dn: uid={user},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {user}\n"
            f"cn: {user}\nsn: {user}\nuserPassword: {password}"
        )
        for group in groups:
            members.setdefault(group, []).append(f"uid={user},{PEOPLE}")
    for group, dns in members.items():
        # groupOfNames needs a member: a placeholder lets a test empty a group
        member_lines = "".join(f"\nmember: {dn}" for dn in [NOBODY, *dns])
        blocks.append(
            f"dn: cn={group},{GROUPS}\nobjectClass: groupOfNames\ncn: {group}{member_lines}"
        )
    return "\n\n".join(blocks) + "\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_slapd(folder: Path) -> Iterator[str]:
    """Start slapd in ``folder``; yield its URL."""
    if not shutil.which("slapd", path="/usr/sbin:/usr/bin"):
        raise RuntimeError("slapd is not installed (apt-get install slapd ldap-utils)")
    (folder / "db").mkdir(parents=True)
    conf = folder / "slapd.conf"
    conf.write_text(config(folder))
    ldif = folder / "directory.ldif"
    ldif.write_text(entries())
    subprocess.run(
        ["/usr/sbin/slapadd", "-f", str(conf), "-l", str(ldif)],
        check=True,
        capture_output=True,
    )
    url = f"ldap://127.0.0.1:{free_port()}"
    # -d 0: in the foreground, so the test owns the process and stops it
    server = subprocess.Popen(
        ["/usr/sbin/slapd", "-f", str(conf), "-h", f"{url}/", "-d", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        host, port = url.removeprefix("ldap://").split(":")
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"slapd did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)
