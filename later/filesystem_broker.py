"""The quick start's Celery broker: kombu's filesystem transport, with messages that appear whole.

kombu writes a message by creating the file under its final name and then writing into it. A
worker that lists the folder in between takes the empty file, reads "" and stops with
JSONDecodeError ("Unrecoverable error", which ended `make run`), and the message is lost. Here a
message is written under a name the worker ignores and renamed into place: one atomic step.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL_SUFFIX = ".part"  # the worker only takes names ending in ".<queue>.msg"


class Channel(filesystem.Channel):
    # Typed as kombu's filesystem.Channel; its stubs disagree with their own virtual base there.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            with open(path + PARTIAL_SUFFIX, "wb") as partial:
                partial.write(str_to_bytes(dumps(payload)))
            os.replace(path + PARTIAL_SUFFIX, path)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
