"""Redis ACL users for the operations centres: one user per centre that may read only its own stream and
consumer groups, and the pipeline's own user; their passwords generated once and kept (mode 0600).

:func:`plan_acl` says what ``maritime redis-acl`` will do (a preview) and :func:`apply_acl` does it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maritime.config import Settings, Subscription
from maritime.delivery.subscriptions import channel, stream_key


class AclSecrets:
    """The Redis ACL users' passwords, generated once and kept in a JSON file readable by its owner only."""

    def __init__(self, passwords: dict[str, str] | None = None) -> None:
        self.passwords: dict[str, str] = dict(passwords or {})

    @classmethod
    def load(cls, path: Path) -> AclSecrets:
        """The kept passwords (none when the file does not exist); ValueError when it is not ours."""
        if not path.exists():
            return cls()
        doc = json.loads(path.read_text(encoding="utf-8"))
        users = doc.get("users") if isinstance(doc, dict) else None
        if not isinstance(users, dict) or not all(isinstance(v, str) and v for v in users.values()):
            raise ValueError('not a secrets file of maritime redis-acl (expected {"users": {"name": "password"}})')
        return cls(users)

    def fill(self, wanted: dict[str, str | None]) -> set[str]:
        """Give every user in ``wanted`` a password: the one given, else the kept one, else a new one.

        Returns the users whose password is new (given and different, or generated)."""
        import secrets

        new = set()
        for user, given in wanted.items():
            pw = given or self.passwords.get(user) or secrets.token_urlsafe(24)
            if self.passwords.get(user) != pw:
                new.add(user)
            self.passwords[user] = pw
        return new

    def save(self, path: Path) -> None:
        """Write the file with mode 0600 (created so: never readable by others, even for a moment)."""
        from maritime.paths import write_private

        write_private(path, json.dumps({"users": self.passwords}, indent=1, sort_keys=True) + "\n")


def acl_commands(subscriptions: list[Subscription], passwords: dict[str, str], pipeline_user: str,
                 pipeline_password: str) -> list[list[str]]:
    """``ACL SETUSER`` argument lists: one user per centre that may read only its own stream and
    consumer groups (and its own live channel), and the pipeline's own user."""
    out = [["ACL", "SETUSER", pipeline_user, "reset", "on", f">{pipeline_password}", "~mda:*", "&mda:*", "+@all",
            "-@dangerous"]]
    for sub in subscriptions:
        out.append([
            "ACL", "SETUSER", f"centre-{sub.id}", "reset", "on", f">{passwords[sub.id]}",
            f"~{stream_key(sub.id)}", "resetchannels", f"&{channel(sub.id)}", "-@all",
            "+ping", "+hello", "+auth", "+client|setname", "+client|id", "+xreadgroup", "+xread", "+xack",
            "+xgroup|create", "+xgroup|createconsumer", "+xautoclaim", "+xclaim", "+xpending", "+xinfo|stream",
            "+xinfo|groups", "+xinfo|consumers", "+xrange", "+xrevrange", "+xlen", "+subscribe", "+unsubscribe",
        ])
    return out


@dataclass
class AclUser:
    """One user of the plan: its ``ACL SETUSER`` command, whether it is set, and what is said of it."""

    name: str
    command: list[str]
    todo: bool
    state: str
    new_password: bool


@dataclass
class AclPlan:
    """What ``maritime redis-acl`` does: the users, their commands, and the secrets file to keep."""

    users: list[AclUser]
    secrets: AclSecrets
    path: Path
    new_users: set[str] = field(default_factory=set)

    @property
    def todo(self) -> list[list[str]]:
        """The commands to run."""
        return [u.command for u in self.users if u.todo]


def plan_acl(settings: Settings, path: Path, pipeline_user: str = "mda-pipeline",
             pipeline_password: str | None = None, existing: set[str] | None = None, reset: bool = False) -> AclPlan:
    """The plan for the centres of ``settings``: users in ``existing`` are kept unless ``reset``.

    ``path`` is the secrets file (read here; ValueError or OSError when it cannot be read). A user that exists
    but whose password was never kept here gets no password in the file (``reset`` sets a new one)."""
    kept = AclSecrets.load(path)
    wanted: dict[str, str | None] = {f"centre-{sub.id}": sub.redis_password for sub in settings.subscriptions}
    wanted[pipeline_user] = pipeline_password
    new_users = kept.fill(wanted)
    passwords = {sub.id: kept.passwords[f"centre-{sub.id}"] for sub in settings.subscriptions}
    cmds = acl_commands(list(settings.subscriptions), passwords, pipeline_user, kept.passwords[pipeline_user])
    existing = existing or set()
    users = []
    for c in cmds:
        user = c[2]
        todo = reset or user not in existing
        state = ("set again (--reset)" if user in existing else "create") if todo else "exists: kept"
        if not todo and user in new_users:  # its password was never kept here: do not keep a wrong one
            kept.passwords.pop(user)
            new_users.discard(user)
            state += f" (its password is not in {path}; --reset sets a new one)"
        users.append(AclUser(user, c, todo, state, user in new_users))
    return AclPlan(users, kept, path, new_users)


def acl_user_names(settings: Settings, pipeline_user: str = "mda-pipeline") -> list[str]:
    """The users the plan is about: the pipeline's, then one per centre (``centre-<id>``)."""
    return [pipeline_user, *(f"centre-{sub.id}" for sub in settings.subscriptions)]


def existing_users(client: Any, names: list[str]) -> set[str]:
    """The users of ``names`` that exist on the Redis server (``ACL GETUSER``)."""
    return {n for n in names if client.execute_command("ACL", "GETUSER", n) is not None}


def apply_acl(client: Any, plan: AclPlan) -> int:
    """Keep the new passwords (0600), then run the plan's commands; returns how many were run."""
    if plan.new_users:
        plan.secrets.save(plan.path)
    for c in plan.todo:
        client.execute_command(*c)
    return len(plan.todo)
