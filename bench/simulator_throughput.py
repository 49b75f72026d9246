"""Throughput of the threaded TikTok simulator, with and without injected latency.

Run: .venv/bin/python bench/simulator_throughput.py [--requests 400] [--workers 16]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tiktok_client import NoRateLimiter, TikTokClient, TikTokConfig
from tiktok_client.simulator import create_app
from tiktok_client.simulator.server import run_in_thread


def measure(requests: int, workers: int, latency: float) -> float:
    app = create_app()
    app.faults.latency_seconds = latency
    base_url, stop = run_in_thread(port=0, app=app)
    try:
        token = httpx.post(
            f"{base_url}/_sim/tokens/issue", json={"open_id": "sim-cafe-business"}
        ).json()["token"]["access_token"]
        client = TikTokClient(TikTokConfig.for_simulator(base_url), rate_limiter=NoRateLimiter())
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(
                pool.map(
                    lambda _: client.get_user_info(access_token=token, fields=["open_id"]),
                    range(requests),
                )
            )
        return requests / (time.perf_counter() - started)
    finally:
        stop()


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench._common import report

    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    rates = {}
    for latency in (0.0, 0.05):
        rates[latency] = measure(args.requests, args.workers, latency)
        print(
            f"latency={latency * 1000:>4.0f} ms  workers={args.workers}  "
            f"{rates[latency]:8.1f} req/s"
        )
    # With 50 ms added per request, N concurrent clients cannot exceed N / 0.05 requests/s.
    report(
        name=f"simulator, 50 ms latency, {args.workers} clients",
        value=rates[0.05],
        unit="req/s",
        baseline_name="ceiling clients/latency",
        baseline_value=args.workers / 0.05,
        note=f"no added latency: {rates[0.0]:.0f} req/s",
    )


if __name__ == "__main__":
    main()
