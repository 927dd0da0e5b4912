"""Team folders: each group's ``/shared/<group>``, a Docker volume of its own,
read-write for the group's members and mounted for nobody else.

``settings.team_folder_settings`` says which groups have one. At a server
start the spawner mounts the folders of the user's groups as of now: the
groups that list them as members, or with an identity provider the groups it
gave them at their last login. The hub makes a folder's volume at the first
start of a member, labelled with the sandbox and the group (so offboarding
finds it by its labels, never by a name another sandbox could share), and
gives its top folder to the servers' uid with mode 0770: Docker makes a new
volume's folder root's, which the servers could not write.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets import Bool, Dict, HasTraits, List, Unicode

from ..host import names

FOLDER_MODE = 0o770


class TeamFolders(HasTraits):
    team_folders = Dict(config=True, help="group -> the Docker volume of its team folder")
    member_groups = Dict(config=True, help="username -> the groups that list them as members")
    groups_at_login = Bool(
        False, config=True, help="the identity provider sets the user's groups at each login"
    )
    team_mounted = List(Unicode(), help="the groups whose team folders this start mounts")

    def team_groups(self) -> list[str]:
        """The groups whose team folder this user gets at this start."""
        user = self.user  # type: ignore[attr-defined]
        if self.groups_at_login:
            groups = [g.name for g in user.groups]
        else:
            groups = list(self.member_groups.get(user.name, []))
        return sorted(g for g in set(groups) if g in self.team_folders)

    def team_binds(self, groups: list[str]) -> dict[str, dict[str, str]]:
        return {self.team_folders[g]: {"bind": names.team_mount(g), "mode": "rw"} for g in groups}

    async def ensure_team_folders(self, groups: list[str], sandbox: str, uid: int) -> None:
        """Each folder's volume exists, labelled, its top folder the servers' (0770)."""
        for group in groups:
            volume = self.team_folders[group]
            labels = {names.LABEL_SANDBOX: sandbox, names.LABEL_GROUP: group}
            await self.docker("create_volume", name=volume, labels=labels)  # type: ignore[attr-defined]
            found = await self.docker("inspect_volume", volume)  # type: ignore[attr-defined]
            give_to_servers(Path(found["Mountpoint"]), uid)


def give_to_servers(folder: Path, uid: int) -> None:
    """The volume's top folder: owned by the servers' uid and gid, 0770."""
    info = folder.stat()
    if (info.st_uid, info.st_gid) != (uid, uid):
        os.chown(folder, uid, uid)
    if info.st_mode & 0o7777 != FOLDER_MODE:
        os.chmod(folder, FOLDER_MODE)
