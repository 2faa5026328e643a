"""Who is asking, and may they: Rocket.Chat's header authentication and permission check.

A host with a user store of its own passes its own :class:`Authenticator` to the extension.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Request

from . import config
from .repository import Repository

_log = logging.getLogger("livechat_analytics")
#: Permissions whose stored ``roles`` was found unusable, so that each is logged once per process.
_WARNED: set[str] = set()


@dataclass(frozen=True)
class User:
    """The caller, as far as the API needs to know them."""

    id: str
    roles: tuple[str, ...] = field(default=())


class Authenticator(ABC):
    """The interface a host implements to bring its own users.

    :meth:`authenticate` answers who sent the request (None: 401), :meth:`authorize` whether
    that user may read the analytics (False: 403).
    """

    @abstractmethod
    def authenticate(self, request: Request) -> User | None:
        """The user who sent ``request``, or None when nobody is logged in."""

    @abstractmethod
    def authorize(self, user: User) -> bool:
        """Whether ``user`` may read the analytics."""


def hash_token(token: str) -> str:
    """Rocket.Chat's stored form of a resume token: base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(token.encode("utf-8")).digest()).decode("ascii")


class RocketChatAuthenticator(Authenticator):
    """``X-User-Id`` and ``X-Auth-Token`` against the users collection, and the permission's
    roles from the permissions collection, as Rocket.Chat checks them."""

    def __init__(
        self,
        repository: Repository,
        *,
        permission: str = config.PERMISSION,
        default_roles: Sequence[str] = config.DEFAULT_ROLES,
    ) -> None:
        self.repository = repository
        self.permission = permission
        self.default_roles = tuple(default_roles)

    def authenticate(self, request: Request) -> User | None:
        user_id = request.headers.get("X-User-Id")
        token = request.headers.get("X-Auth-Token")
        if not user_id or not token:
            return None
        document = self.repository.find_user(user_id, hash_token(token))
        # Rocket.Chat lets a deactivated user's old tokens in; we do not.
        if document is None or document.get("active") is not True:
            return None
        roles = document.get("roles")
        if not isinstance(roles, list):
            roles = []
        return User(id=user_id, roles=tuple(role for role in roles if isinstance(role, str)))

    def authorize(self, user: User) -> bool:
        roles = self.repository.permission_roles(self.permission)
        if roles is None:
            roles = self.default_roles
        elif not _is_role_list(roles):
            # A string would be read as its characters, and let in a user whose role is "l".
            if self.permission not in _WARNED:
                _WARNED.add(self.permission)
                _log.warning(
                    "The %r permission's roles are not a list of role names, so it grants nothing: %.100r",
                    self.permission,
                    roles,
                )
            roles = ()
        return not set(user.roles).isdisjoint(roles)


def _is_role_list(roles: Any) -> bool:
    return isinstance(roles, list) and all(isinstance(role, str) for role in roles)
