"""A TikTok simulator in its own process, with N business creators and their tokens.

For benchmarks whose background load (a comment sync of thousands of accounts) must not share
the Python process, and so the GIL, of the simulator the measured work talks to: TikTok's own
side is never what two kinds of work compete for. Prints one JSON line ``{"port": ...}`` once
it serves; the tokens are written to ``--out`` (one JSON object per line) before that.

    .venv/bin/python bench/_sim_process.py --accounts 10000 --out var/sync-tokens.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.publish_throughput import LatencySim  # noqa: E402
from tiktok_client.config import BUSINESS_SCOPES  # noqa: E402
from tiktok_client.simulator.app import create_app  # noqa: E402
from tiktok_client.simulator.models import Creator  # noqa: E402
from tiktok_client.simulator.server import build_server  # noqa: E402
from tiktok_client.simulator.state import DEFAULT_BUSINESS_APP_ID  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--comments-per-video", type=int, default=5)
    parser.add_argument("--latency-ms", default="30-80")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    low, high = (float(x) / 1000 for x in args.latency_ms.split("-"))
    sim = create_app(moderation_delay=0.0)
    with Path(args.out).open("w") as out, sim.state.lock:
        for n in range(args.accounts):
            open_id = f"sync-{n:05d}"
            creator = sim.state.creators[open_id] = Creator(
                open_id=open_id,
                username=f"sync.{n}",
                nickname=f"Sync {n}",
                bio="",
                is_business=True,
                is_private=False,
                seeded_videos=args.videos,
                fan_comments_per_video=args.comments_per_video,
            )
            sim.state._seed_videos(creator)  # what the simulator does for its own creators
            login = sim.state.issue_tokens(open_id=open_id, scopes=("user.info.basic",))
            business = sim.state.issue_business_tokens(
                creator_id=open_id, scopes=tuple(BUSINESS_SCOPES), app_id=DEFAULT_BUSINESS_APP_ID
            )
            out.write(json.dumps({"open_id": open_id, "login": login, "business": business}))
            out.write("\n")
    server = build_server(LatencySim(sim, low, high), port=0)  # type: ignore[arg-type]
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
