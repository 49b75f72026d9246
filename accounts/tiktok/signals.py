"""What happens to a TikTok connection, told to the apps that care (calendar_app flags posts).

`accounts` never reaches into other apps' models: it sends these inside the transaction that
changes the account (so a receiver's writes commit or roll back with it), and each app connects
its own receivers in its `AppConfig.ready`. Every signal is sent with
`sender=TikTokAccount`, `account=` (the row) and, where it helps, `previous_label=` (how the
account was named before a reconnect renamed it).
"""

from __future__ import annotations

from django.dispatch import Signal

#: TikTok stopped accepting the Login Kit connection; posting is impossible until reconnected.
account_needs_reconnect = Signal()
#: A member connected the account again (the Login Kit token is usable once more).
account_reconnected = Signal()
#: A member disconnected the account; its tokens are gone.
account_disconnected = Signal()

#: TikTok reported news about a post it is publishing (`post.publish.*` webhook). Sent with
#: `open_id=` (Login Kit open_id of the creator), `publish_id=` and `event=`, outside any
#: transaction; receivers should make the pipeline ask TikTok now rather than trust the order.
publish_event = Signal()
#: TikTok reported a comment change on a Business account's video (`comment.update`). Sent with
#: `account=`, `video_id=` and `comment_id=`.
comment_event = Signal()
