"""Rocket.Chat's Omnichannel analytics REST API as a Flask extension."""

from __future__ import annotations

from .auth import Authenticator, RocketChatAuthenticator, Scope, User, hash_token
from .extension import LivechatAnalytics
from .version import __version__

__all__ = [
    "Authenticator",
    "LivechatAnalytics",
    "RocketChatAuthenticator",
    "Scope",
    "User",
    "__version__",
    "hash_token",
]
