"""The quick start's filesystem broker: a worker never sees a message before it is whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

from later import filesystem_broker


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[Any]:
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection(
        "filesystem://", transport=filesystem_broker.Transport, transport_options=options
    ) as connection:
        yield connection.default_channel


def test_a_message_being_written_is_invisible_to_the_worker(
    channel: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kombu's own transport created the file under its final name before writing: a worker that
    # listed the folder then read "" and died (JSONDecodeError), stopping `make run`.
    seen_while_writing: list[list[str]] = []
    replace = os.replace

    def publish(source: str, target: str) -> None:
        seen_while_writing.append(sorted(os.listdir(tmp_path)))
        with pytest.raises(Empty):
            channel._get("celery")
        replace(source, target)

    monkeypatch.setattr(filesystem_broker.os, "replace", publish)
    channel._put("celery", {"body": "hello"})

    [names] = seen_while_writing
    assert len(names) == 1 and names[0].endswith(".celery.msg.part")
    assert channel._get("celery") == {"body": "hello"}
    assert os.listdir(tmp_path) == []
