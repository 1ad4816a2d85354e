"""The chats the Telegram bot serves, and where each one's videos go.

Kept in the setting `telegram.chats` as {"<chat id>": {"account"|"group": NAME,
"route": R?}}; `piper telegram allow|list|deny` and the GUI's Telegram box change it
through `allow` / `deny`, which check the target before storing it. A chat id is
Telegram's: a private chat's is the user's id, a group's is negative
(-100… for supergroups).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..store.enums import JobRoute
from .errors import NotFound, ValidationError
from .intake import Target, target_accounts

if TYPE_CHECKING:
    from .services import Services
    from .settings import SettingsService

KEY = "telegram.chats"
CHAT_ID_HINT = "a Telegram chat id is a whole number, e.g. 123456789 or -1001234567890"


@dataclass(frozen=True)
class AllowedChat:
    chat_id: int
    target: Target

    def line(self) -> str:
        return f"{self.chat_id}  {self.target.describe()}"


def parse_chat_id(raw: Any, field: str = "chat_id") -> int:
    text = str(raw).strip() if raw is not None else ""
    body = text[1:] if text.startswith("-") else text
    if not body.isdigit() or len(body) > 20:
        raise ValidationError(field, f"{text!r} is not a chat id: {CHAT_ID_HINT}")
    return int(text)


def parse_route(raw: str | None) -> str | None:
    if raw in (None, ""):
        return None
    routes = [route.value for route in JobRoute]
    if raw not in routes:
        raise ValidationError("route", f"must be one of {', '.join(routes)}")
    return raw


def _target(field: str, value: Any) -> Target:
    if not isinstance(value, dict) or set(value) - {"account", "group", "route"}:
        raise ValidationError(field, "each chat needs {account or group, route?}")
    name = {k: v for k, v in value.items() if isinstance(v, str) and v}
    try:
        return Target(name.get("account"), name.get("group"), parse_route(name.get("route")))
    except ValidationError as exc:
        raise ValidationError(field, exc.reason) from None


def parse_chats(field: str, value: Any) -> dict[str, dict[str, str]] | None:
    """The setting's value, checked: chat ids as text keys, one target each."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(field, "must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValidationError(field, "must map chat ids to {account or group, route?}")
    out: dict[str, dict[str, str]] = {}
    for key, target in value.items():
        chat = parse_chat_id(key, field)
        checked = _target(field, target)
        out[str(chat)] = _stored(checked)
    return out


def _stored(target: Target) -> dict[str, str]:
    stored = {"account": target.account} if target.account else {"group": str(target.group)}
    return stored | ({"route": target.route} if target.route else {})


def allowed_chats(settings: SettingsService) -> dict[int, Target]:
    stored = settings.get(KEY) or {}
    chats: dict[int, Target] = {}
    for key, value in stored.items():
        try:
            chats[parse_chat_id(key)] = _target(KEY, value)
        except ValidationError:
            continue  # stored by hand and broken: that chat is not served
    return chats


def listed(settings: SettingsService) -> list[AllowedChat]:
    return [AllowedChat(chat, target) for chat, target in sorted(allowed_chats(settings).items())]


def allow(
    services: Services,
    chat_id: Any,
    *,
    account: str | None = None,
    group: str | None = None,
    route: str | None = None,
) -> AllowedChat:
    """Serve `chat_id`, queueing its videos on the account or group (checked now)."""
    chat = parse_chat_id(chat_id)
    if account is not None and not account.strip():
        raise ValidationError("account", "give the account's name")
    if group is not None and not group.strip():
        raise ValidationError("group", "give the group's name")
    target = Target(account, group, parse_route(route))
    target_accounts(services, target)  # an unknown account or an empty group is refused
    if target.account:
        # stored as the account's own key, so a later rename of the typed form still finds it
        found = services.accounts.find(target.account)
        target = Target(f"{found.platform}:{found.username}", None, target.route)
    chats = {str(k): _stored(v) for k, v in allowed_chats(services.settings).items()}
    chats[str(chat)] = _stored(target)
    services.settings.set(KEY, chats)
    return AllowedChat(chat, target)


def deny(services: Services, chat_id: Any) -> int:
    chat = parse_chat_id(chat_id)
    chats = {str(k): _stored(v) for k, v in allowed_chats(services.settings).items()}
    if str(chat) not in chats:
        raise NotFound("chat", chat)
    del chats[str(chat)]
    services.settings.set(KEY, chats or None)
    return chat
