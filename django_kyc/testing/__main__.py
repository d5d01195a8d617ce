"""Run a fake provider server from the command line (for the demo or manual testing).

    python -m django_kyc.testing kycaid --port 8101 --option api_token=test-token \
        --auto-decide approved --delay 3
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from django_kyc.testing.server import load_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m django_kyc.testing", description=__doc__)
    parser.add_argument("provider", help="module name under django_kyc.testing, e.g. kycaid, provide, passportreader")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a constructor argument of the fake, e.g. credentials (see the provider's docs page)",
    )
    parser.add_argument("--auto-decide", metavar="OUTCOME", help="decide every new verification this way")
    parser.add_argument("--delay", type=float, default=3.0, help="seconds before the automatic decision")
    parser.add_argument(
        "--response-delay", type=float, default=0.0, help="seconds every answer is held back (a slow provider)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")

    options = dict(item.split("=", 1) for item in args.option)
    server = load_server(args.provider)(host=args.host, port=args.port, **options)
    server.auto_outcome = args.auto_decide
    server.auto_delay = args.delay
    server.response_delay = args.response_delay
    # the handlers come before the ready line: whoever waits for that line may signal at once
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    server.start()
    print(f"fake {server.provider} API at {server.base_url} (Ctrl+C to stop)", flush=True)
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    main()
