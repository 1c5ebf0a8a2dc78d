"""The fake Bot API's chat members: joins (chat_member updates and new_chat_members service
messages), administrators, profile photos served as real image bytes, restrictions, deleted
messages, and Telegram's flood limit per group (429 with retry_after past it).

Mixed into FakeTelegram (tests/fake_telegram.py); field names follow the Bot API and
python-telegram-bot's de_json (ChatMemberUpdated, ChatMemberRestricted, UserProfilePhotos, File).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import time
from collections import deque
from typing import Any

from aiohttp import web
from PIL import Image

JSON = dict[str, Any]


class BotApiError(Exception):
    """An error answer of the Bot API (fake_telegram re-exports it)."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


INSIDE = ("member", "administrator", "creator", "restricted")
ADMIN_STATUSES = ("administrator", "creator")
# ChatPermissions' fields; a restricted member has each of them false until lifted.
PERMISSIONS = ("can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
               "can_send_videos", "can_send_video_notes", "can_send_voice_notes",
               "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
               "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics")


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


class MemberMethods:
    """State and methods of the member world; FakeTelegram provides _chat, push, _message,
    members, chats and BotApiError-raising helpers."""

    members: dict[tuple[int, int], JSON]
    me: JSON
    token: str

    def _init_members(self) -> None:
        self.photos: dict[int, list[bytes]] = {}  # user id -> profile photos, newest first
        self.files: dict[str, bytes] = {}  # file_path -> bytes, as the file server serves them
        self.downloads = 0  # file downloads served
        self.deleted: set[tuple[int, int]] = set()
        self.flood: tuple[int, float] | None = None  # (messages, seconds) per group, as Telegram
        self.floods = 0  # 429s answered for a group over its limit
        self._sent_at: dict[int, deque[float]] = {}
        self._file_ids = itertools.count(1)

    def member_methods(self) -> dict[str, Any]:
        return {
            "getChatAdministrators": self._get_chat_administrators,
            "getUserProfilePhotos": self._get_user_profile_photos,
            "getFile": self._get_file,
            "restrictChatMember": self._restrict_chat_member,
            "deleteMessage": self._delete_message,
        }

    def add_file_route(self, app: web.Application) -> None:
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    # --- the methods ----------------------------------------------------------------------------

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        chat = self._chat(params.get("chat_id"))  # type: ignore[attr-defined]
        return [member for (chat_id, _user), member in self.members.items()
                if chat_id == chat["id"] and member["status"] in ADMIN_STATUSES]

    def _get_user_profile_photos(self, params: JSON) -> JSON:
        user_id = int(params.get("user_id") or 0)
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        photos = self.photos.get(user_id, [])
        chosen = photos[offset : offset + limit]
        return {"total_count": len(photos), "photos": [[self._photo_size(data)] for data in chosen]}

    def _photo_size(self, data: bytes) -> JSON:
        unique = hashlib.sha256(data).hexdigest()[:16]
        width, height = image_size(data)
        return {"file_id": f"AgAC{unique}", "file_unique_id": f"AQAD{unique}",
                "width": width, "height": height, "file_size": len(data)}

    def _get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id", ""))
        found = next((data for photos in self.photos.values() for data in photos
                      if self._photo_size(data)["file_id"] == file_id), None)
        if found is None:
            raise self._bad("Bad Request: invalid file_id")
        path = f"photos/file_{next(self._file_ids)}.jpg"
        self.files[path] = found
        return {"file_id": file_id, "file_unique_id": self._photo_size(found)["file_unique_id"],
                "file_size": len(found), "file_path": path}

    async def _download(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["path"])
        if request.match_info["token"] != self.token or data is None:
            return web.Response(status=404, text="Not Found")
        self.downloads += 1
        return web.Response(body=data, content_type="image/jpeg")

    def _restrict_chat_member(self, params: JSON) -> bool:
        chat = self._chat(params.get("chat_id"))  # type: ignore[attr-defined]
        self._need_admin_right(chat, "can_restrict_members",
                               "not enough rights to restrict/unrestrict chat member")
        user_id = int(params.get("user_id") or 0)
        member = self.members.get((chat["id"], user_id))
        if member is None:
            raise self._bad("Bad Request: user not found")
        if member["status"] in ADMIN_STATUSES:
            raise self._bad("Bad Request: user is an administrator of the chat")
        allowed = params.get("permissions")
        if not isinstance(allowed, dict):
            raise self._bad("Bad Request: can't parse permissions JSON object")
        if all(allowed.get(name) for name in PERMISSIONS if name != "can_manage_topics"):
            self.members[(chat["id"], user_id)] = {"status": "member", "user": member["user"]}
            return True
        self.members[(chat["id"], user_id)] = {
            "status": "restricted", "user": member["user"], "is_member": True,
            "until_date": int(params.get("until_date") or 0),
            **{name: bool(allowed.get(name)) for name in PERMISSIONS},
        }
        return True

    def _delete_message(self, params: JSON) -> bool:
        chat = self._chat(params.get("chat_id"))  # type: ignore[attr-defined]
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self._messages or key in self.deleted:  # type: ignore[attr-defined]
            raise self._bad("Bad Request: message to delete not found")
        self._need_admin_right(chat, "can_delete_messages", "message can't be deleted")
        self.deleted.add(key)
        return True

    def _need_admin_right(self, chat: JSON, right: str, refusal: str) -> None:
        bot = self.members.get((chat["id"], self.me["id"]), {})
        if bot.get("status") != "creator" and not bot.get(right):
            raise self._bad(f"Bad Request: {refusal}")

    def _bad(self, description: str) -> BotApiError:
        return BotApiError(400, description)

    def check_flood(self, chat: JSON) -> None:
        """Telegram's per-group limit on the bot's messages: past it, 429 with retry_after."""
        if self.flood is None or chat["type"] == "private":
            return
        count, seconds = self.flood
        now = time.monotonic()
        sent = self._sent_at.setdefault(chat["id"], deque())
        while sent and sent[0] <= now - seconds:
            sent.popleft()
        if len(sent) >= count:
            self.floods += 1
            retry = max(1, math.ceil(sent[0] + seconds - now))
            raise BotApiError(429, f"Too Many Requests: retry after {retry}",
                              {"retry_after": retry})
        sent.append(now)

    # --- what tests set up and push --------------------------------------------------------------

    def set_photo(self, user: JSON, data: bytes) -> None:
        """user's newest profile photo becomes data (a real PNG or JPEG)."""
        self.photos.setdefault(user["id"], []).insert(0, data)

    def bot_is_admin(self, chat: JSON) -> None:
        self.join(chat, self.me, "administrator")  # type: ignore[attr-defined]

    async def member_joins(self, chat: JSON, user: JSON,
                           service_message: bool = True) -> JSON | None:
        """user joins chat: the chat_member update (sent to bots that are administrators, as
        Telegram does) and, unless hidden, the new_chat_members service message (returned)."""
        old = self.members.get((chat["id"], user["id"]), {"status": "left", "user": user})
        self.join(chat, user)  # type: ignore[attr-defined]
        await self._member_changed(chat, user, old, self.members[(chat["id"], user["id"])])
        if not service_message:
            return None
        message: JSON = self._message(chat, user, "")  # type: ignore[attr-defined]
        del message["text"]
        message["new_chat_members"] = [user]
        await self.push({"message": message})  # type: ignore[attr-defined]
        return message

    async def promote(self, chat: JSON, user: JSON, status: str = "administrator") -> None:
        """user becomes an administrator (or, with status "member", is demoted)."""
        old = self.members.get((chat["id"], user["id"]), {"status": "left", "user": user})
        self.join(chat, user, status)  # type: ignore[attr-defined]
        await self._member_changed(chat, user, old, self.members[(chat["id"], user["id"])])

    async def _member_changed(self, chat: JSON, user: JSON, old: JSON, new: JSON) -> None:
        if self.members.get((chat["id"], self.me["id"]), {}).get("status") not in ADMIN_STATUSES:
            return  # Telegram sends chat_member updates to administrator bots only
        await self.push({"chat_member": {  # type: ignore[attr-defined]
            "chat": chat, "from": user, "date": int(time.time()),
            "old_chat_member": old, "new_chat_member": new,
        }})
