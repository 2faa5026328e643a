"""Rocket.Chat's Omnichannel analytics REST API as a Flask extension."""

from __future__ import annotations

from .auth import Authenticator, RocketChatAuthenticator, User, hash_token
from .extension import LivechatAnalytics

__all__ = ["Authenticator", "LivechatAnalytics", "RocketChatAuthenticator", "User", "hash_token"]
__version__ = "0.2.0.dev0"
