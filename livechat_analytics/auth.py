"""Who is asking, and may they: Rocket.Chat's header authentication and permission check.

A host with a user store of its own passes its own :class:`Authenticator` to the extension.
"""

from __future__ import annotations

import base64
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import Request

from . import config
from .repository import Repository


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
        return not set(user.roles).isdisjoint(self.default_roles if roles is None else roles)
