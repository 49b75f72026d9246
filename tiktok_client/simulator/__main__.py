"""``python -m tiktok_client.simulator --port 8765``"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from pathlib import Path
from typing import Any

from tiktok_client.simulator.app import create_app
from tiktok_client.simulator.models import RedirectUriRefused
from tiktok_client.simulator.persistence import PeriodicSaver, load_state_or_start_fresh
from tiktok_client.simulator.server import build_server
from tiktok_client.simulator.state import (
    DEFAULT_BUSINESS_APP_ID,
    DEFAULT_BUSINESS_APP_SECRET,
    DEFAULT_CLIENT_KEY,
    DEFAULT_CLIENT_SECRET,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local TikTok API simulator")
    parser.add_argument("--host", default=os.environ.get("TIKTOK_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TIKTOK_SIM_PORT", "8765")))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--token-profile",
        choices=["A", "B"],
        default="B",
        help="Login Kit lifetimes: B = 2 h / 180 d (current docs), A = 24 h / 365 d (older)",
    )
    parser.add_argument(
        "--lenient-rotation",
        action="store_true",
        help="keep old refresh tokens usable after a refresh",
    )
    parser.add_argument("--moderation-delay", type=float, default=10.0)
    parser.add_argument("--public-base-url", default=os.environ.get("TIKTOK_SIM_PUBLIC_URL"))
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="extra redirect URI to register on both apps (repeatable); refused as TikTok's "
        "portal refuses it, except http and a port on localhost/127.0.0.1",
    )
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("TIKTOK_SIM_WEBHOOK_URL"),
        help="callback URL for both apps' webhooks (Login Kit and Business)",
    )
    parser.add_argument(
        "--business-webhook-url",
        default=os.environ.get("TIKTOK_SIM_BUSINESS_WEBHOOK_URL"),
        help="callback URL for the Business app's webhooks, when it is not --webhook-url",
    )
    parser.add_argument(
        "--refuse-multi-chunk",
        action="store_true",
        help="refuse multi-chunk FILE_UPLOAD plans (the 2026-08 report in the fact sheet)",
    )
    parser.add_argument(
        "--verified-url-prefix",
        action="append",
        default=[],
        help="URL prefix (https://…/) or domain verified for PULL_FROM_URL (repeatable; "
        "default https://media.later.test/)",
    )
    parser.add_argument(
        "--pull-resolve",
        default=os.environ.get("TIKTOK_SIM_PULL_RESOLVE"),
        help="where pulls of a verified prefix are fetched, 'https://media.later.test/="
        "http://127.0.0.1:8000/public-media/' (a TLS-terminating proxy in front of the product)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=os.environ.get("TIKTOK_SIM_STATE_FILE"),
        help="keep users, tokens, publishes, videos and comments in this file across restarts "
        "(loaded at start, saved periodically and on stop); without it the state is memory only",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app = create_app(
        seed=args.seed,
        speed=args.speed,
        token_profile=args.token_profile,
        strict_rotation=not args.lenient_rotation,
        moderation_delay=args.moderation_delay,
        public_base_url=args.public_base_url,
        refuse_multi_chunk=args.refuse_multi_chunk,
        pull_resolve=args.pull_resolve,
    )
    app.faults.latency_seconds = args.latency
    saver = None
    if args.state_file is not None:
        if load_state_or_start_fresh(app.state, args.state_file):
            print(f"Simulator state loaded from {args.state_file}", flush=True)
        saver = PeriodicSaver(app.state, args.state_file)
    extra = [
        *args.redirect_uri,
        *filter(None, os.environ.get("TIKTOK_SIM_REDIRECT_URIS", "").split(",")),
    ]
    prefixes = [
        *args.verified_url_prefix,
        *filter(None, os.environ.get("TIKTOK_SIM_VERIFIED_URL_PREFIXES", "").split(",")),
    ]
    for sim_app in app.state.apps.values():
        if prefixes:
            sim_app.verified_url_prefixes = tuple(prefixes)
        try:
            sim_app.register_redirect_uris(extra)
        except RedirectUriRefused as exc:
            parser.error(str(exc))
        business = sim_app.kind == "business" and args.business_webhook_url
        sim_app.webhook_url = (args.business_webhook_url if business else args.webhook_url) or None
    if any(sim_app.webhook_url for sim_app in app.state.apps.values()):
        app.state.webhooks.ensure_running()
    server = build_server(app, host=args.host, port=args.port, quiet=not args.verbose)
    url = f"http://{args.host}:{server.server_address[1]}"
    print(f"TikTok simulator listening on {url}", flush=True)
    print(f"  Login Kit app:    client_key={DEFAULT_CLIENT_KEY} "
          f"client_secret={DEFAULT_CLIENT_SECRET}", flush=True)  # fmt: skip
    print(f"  API for Business: app_id={DEFAULT_BUSINESS_APP_ID} "
          f"secret={DEFAULT_BUSINESS_APP_SECRET}", flush=True)  # fmt: skip
    for sim_app in app.state.apps.values():
        if sim_app.webhook_url:
            print(f"  Webhooks of {sim_app.client_key}: {sim_app.webhook_url}", flush=True)
    for creator in app.state.creators.values():
        kind = "business" if creator.is_business else "personal"
        print(f"  @{creator.username:<15} {kind:<8} key={creator.open_id}", flush=True)
    # A stop asked by the quick start (SIGTERM) is as clean as Ctrl-C: the state is saved.
    signal.signal(signal.SIGTERM, _interrupt)
    if saver is not None:
        saver.start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        # A second signal (Ctrl-C reaches the whole process group, then the quick start sends
        # SIGTERM) must not cut the last save short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.server_close()
        if saver is not None:
            saver.stop()
            print(f"Simulator state saved to {args.state_file}", flush=True)


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
