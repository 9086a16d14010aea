"""Run the sandbox network in the foreground with live traffic: `python -m sandbox`.

python -m sandbox [--host 127.0.0.1] [--port 8401] [--posts-per-minute 4] [--seed N]
                  [--backlog N] [--networks x,reddit]
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from sandbox.app import available_networks
from sandbox.seeder import Seeder
from sandbox.server import SandboxServer
from sandbox.state import NETWORKS, SandboxState


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="A local stand-in for X, Reddit, Mastodon, Bluesky."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument(
        "--posts-per-minute", type=float, default=4.0, help="live traffic; 0 turns it off"
    )
    parser.add_argument("--seed", type=int, default=None, help="make the traffic repeatable")
    parser.add_argument(
        "--backlog", type=int, default=0, help="posts per network dated over the past 6 hours"
    )
    parser.add_argument(
        "--networks",
        default=None,
        help="comma-separated networks to seed (default: every network the sandbox serves)",
    )
    args = parser.parse_args(argv)
    if args.posts_per_minute < 0 or args.backlog < 0:
        parser.error("--posts-per-minute and --backlog must not be negative")
    if args.networks:
        args.networks = [n.strip() for n in args.networks.split(",") if n.strip()]
        unknown = [n for n in args.networks if n not in NETWORKS]
        if unknown:
            parser.error(f"unknown networks {unknown}; choose from {', '.join(NETWORKS)}")
    else:
        args.networks = available_networks() or ["x", "reddit"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    state = SandboxState()
    seeder = Seeder(state, networks=args.networks, seed=args.seed)
    seeder.setup()
    if args.backlog:
        seeder.backlog(args.backlog)
    try:
        server = SandboxServer(state, host=args.host, port=args.port, seeder=seeder)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    server.start()
    if args.posts_per_minute > 0:
        seeder.start(args.posts_per_minute)
    url = server.url
    print(f"sandbox network on {url}  (networks served: {', '.join(available_networks())})")
    for network in available_networks():
        print(f"  {url}/{network}")
    print(f"seeding {', '.join(args.networks)} at {args.posts_per_minute:g} posts/minute")
    print("admin:")
    print(f"  GET    {url}/_sandbox/state     everything published and every reply received")
    print(f'  POST   {url}/_sandbox/seed      {{"count": 10}} publishes more traffic now')
    print(f'  POST   {url}/_sandbox/publish   {{"network", "author", "text", ...}}')
    print(f'  POST   {url}/_sandbox/faults    {{"network", "kind": "rate_limit", ...}}')
    print(f"  DELETE {url}/_sandbox/faults")
    print(f"  docs   {url}/_sandbox/docs")
    print("Ctrl-C to stop.", flush=True)

    try:
        done.wait()
    finally:
        seeder.stop()
        server.stop()
    print("sandbox stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
