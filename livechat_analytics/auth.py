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
from typing import Any, ClassVar

from flask import Request

from . import config
from .cache import Recent
from .repository import Repository

#: Rocket.Chat's permission to read the livechat dashboards and analytics.
MANAGER_PERMISSION = "view-livechat-manager"
#: Rocket.Chat's permission to read the conversation reports.
REPORTS_PERMISSION = "view-livechat-reports"
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
    that user holds the permission an endpoint asks for (False: 403). Each endpoint names its
    permission in Rocket.Chat's terms (``view-livechat-manager``, ``view-livechat-reports``): a host
    maps those to its own rules.
    """

    #: The OpenAPI security schemes of this way of logging in (name: scheme object), and
    #: :attr:`security`, the requirement every endpoint lists. None: the document names none.
    security_schemes: ClassVar[dict[str, dict[str, Any]] | None] = None
    security: ClassVar[list[dict[str, list[str]]] | None] = None

    @abstractmethod
    def authenticate(self, request: Request) -> User | None:
        """The user who sent ``request``, or None when nobody is logged in."""

    @abstractmethod
    def authorize(self, user: User, permission: str) -> bool:
        """Whether ``user`` holds ``permission``."""


def hash_token(token: str) -> str:
    """Rocket.Chat's stored form of a resume token: base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(token.encode("utf-8")).digest()).decode("ascii")


class RocketChatAuthenticator(Authenticator):
    """``X-User-Id`` and ``X-Auth-Token`` against the users collection, and the permission's
    roles from the permissions collection, as Rocket.Chat checks them.

    The user is read on every request; a permission's roles are reused for ``remember_seconds``
    after each read (0: read every request), as Rocket.Chat keeps permissions in memory.
    """

    security_schemes: ClassVar[dict[str, dict[str, Any]] | None] = {
        "userId": {
            "type": "apiKey",
            "in": "header",
            "name": "X-User-Id",
            "description": "The Rocket.Chat user's id.",
        },
        "authToken": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Auth-Token",
            "description": "One of the user's resume (login) tokens, as Rocket.Chat's REST API takes it.",
        },
    }
    #: Both headers together log a user in.
    security: ClassVar[list[dict[str, list[str]]] | None] = [{"userId": [], "authToken": []}]

    def __init__(
        self,
        repository: Repository,
        *,
        default_roles: Sequence[str] = config.DEFAULT_ROLES,
        remember_seconds: float = 0,
    ) -> None:
        self.repository = repository
        self.default_roles = tuple(default_roles)
        self._permissions = Recent(remember_seconds)

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

    def authorize(self, user: User, permission: str) -> bool:
        roles = self._permissions.get(permission, lambda: self.repository.permission_roles(permission))
        if roles is None:
            roles = self.default_roles
        elif not _is_role_list(roles):
            # A string would be read as its characters, and let in a user whose role is "l".
            if permission not in _WARNED:
                _WARNED.add(permission)
                _log.warning(
                    "The %r permission's roles are not a list of role names, so it grants nothing: %.100r",
                    permission,
                    roles,
                )
            roles = ()
        return not set(user.roles).isdisjoint(roles)


def _is_role_list(roles: Any) -> bool:
    return isinstance(roles, list) and all(isinstance(role, str) for role in roles)
