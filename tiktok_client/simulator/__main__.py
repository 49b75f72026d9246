"""``python -m tiktok_client.simulator --port 8765``"""

from __future__ import annotations

import argparse
import os

from tiktok_client.simulator.app import create_app
from tiktok_client.simulator.server import build_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local TikTok API simulator")
    parser.add_argument("--host", default=os.environ.get("TIKTOK_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("TIKTOK_SIM_PORT", "8765")))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--token-profile", choices=["A", "B"], default="A")
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
        help="extra redirect URI to register (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    app = create_app(
        seed=args.seed,
        speed=args.speed,
        token_profile=args.token_profile,
        strict_rotation=not args.lenient_rotation,
        moderation_delay=args.moderation_delay,
        public_base_url=args.public_base_url,
    )
    app.faults.latency_seconds = args.latency
    extra = [
        *args.redirect_uri,
        *filter(None, os.environ.get("TIKTOK_SIM_REDIRECT_URIS", "").split(",")),
    ]
    for sim_app in app.state.apps.values():
        sim_app.redirect_uris.extend(extra)
    server = build_server(app, host=args.host, port=args.port, quiet=not args.verbose)
    url = f"http://{args.host}:{server.server_address[1]}"
    print(f"TikTok simulator listening on {url}", flush=True)
    print("  client_key=sim-client-key client_secret=sim-client-secret", flush=True)
    for creator in app.state.creators.values():
        print(f"  @{creator.username:<15} open_id={creator.open_id}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
