"""Who is asking, and may they: Rocket.Chat's header authentication and permission check.

A host with a user store of its own passes its own :class:`Authenticator` to the extension.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
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
#: The roles that see every department, and the one that a business unit restricts.
UNRESTRICTED_ROLES = ("admin", "livechat-manager")
MONITOR_ROLE = "livechat-monitor"
_UNITS_EXIST = ("units exist",)
_log = logging.getLogger("livechat_analytics")
#: Permissions whose stored ``roles`` was found unusable, so that each is logged once per process.
_WARNED: set[str] = set()


@dataclass(frozen=True)
class User:
    """The caller, as far as the API needs to know them."""

    id: str
    roles: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Scope:
    """The rooms a restricted caller may see: those of ``departments``, and those whose
    ``departmentAncestors`` hold one of ``units`` (Rocket.Chat's business units). Nothing else: an
    empty scope sees no room. ``agents`` are the agents whose activity and status the caller may
    see; None lets the extension read them (the agents of ``departments``)."""

    departments: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    agents: frozenset[str] | None = None


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

    def scope(self, user: User) -> Scope | Iterable[str] | None:
        """What ``user`` may see: None for everything (the default), else a :class:`Scope`, or the
        ids of the departments whose rooms they may see. Asked on every request after
        :meth:`authorize`, within its deadline."""
        return None


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
        self._scopes = Recent(remember_seconds)

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


    def scope(self, user: User) -> Scope | None:
        """Rocket.Chat's rule: once a business unit exists, a ``livechat-monitor`` who is neither
        ``admin`` nor ``livechat-manager`` sees the rooms of the units they monitor (by the rooms'
        ``departmentAncestors``) and of those units' departments, and (an improvement, which the
        reference means and does not do) of the departments they serve as an agent. Read at most
        once per ``remember_seconds`` for each user."""
        if not set(user.roles).isdisjoint(UNRESTRICTED_ROLES) or MONITOR_ROLE not in user.roles:
            return None
        if not self._scopes.get(_UNITS_EXIST, self.repository.units_exist):
            return None
        return self._scopes.get(user.id, lambda: self._monitor_scope(user.id))  # type: ignore[no-any-return]

    def _monitor_scope(self, user_id: str) -> Scope:
        units = self.repository.monitored_units(user_id)
        departments = {*self.repository.unit_departments(units), *self.repository.served_departments(user_id)}
        return Scope(departments=frozenset(departments), units=frozenset(units))


def _is_role_list(roles: Any) -> bool:
    return isinstance(roles, list) and all(isinstance(role, str) for role in roles)
