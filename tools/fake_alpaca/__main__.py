"""``python -m tools.fake_alpaca --port 8765``: a fake Alpaca trading API for a person to use.

Point the gateway at it with ``APCA_API_BASE_URL=http://127.0.0.1:8765`` and the key id and
secret it prints; steer it with ``curl -d '{"action": ...}' http://127.0.0.1:8765/_control``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from decimal import Decimal

from tools.fake_alpaca.broker import FakeSettings
from tools.fake_alpaca.runner import FakeAlpaca


def _arguments() -> argparse.Namespace:
    defaults = FakeSettings()
    parser = argparse.ArgumentParser(
        prog="python -m tools.fake_alpaca", description="A fake Alpaca trading API for testing."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--key-id", default=defaults.key_id, help="accepted APCA-API-KEY-ID")
    parser.add_argument("--secret-key", default=defaults.secret_key, help="accepted secret")
    parser.add_argument(
        "--buying-power", type=Decimal, default=defaults.buying_power, help="starting cash"
    )
    parser.add_argument(
        "--price", type=Decimal, default=defaults.reference_price, help="reference price"
    )
    parser.add_argument("--fill-slices", type=int, default=defaults.fill_slices)
    parser.add_argument("--fill-delay", type=float, default=defaults.fill_delay_s)
    parser.add_argument(
        "--no-auto-fill", action="store_true", help="rest every order until told to fill it"
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = FakeSettings(
        key_id=args.key_id,
        secret_key=args.secret_key,
        buying_power=args.buying_power,
        reference_price=args.price,
        fill_slices=args.fill_slices,
        fill_delay_s=args.fill_delay,
        auto_fill=not args.no_auto_fill,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake = FakeAlpaca(settings, host=args.host, port=args.port).start()
    print(
        f"fake Alpaca listening on {fake.base_url} (stream {fake.stream_url})\n"
        f"  export APCA_API_BASE_URL={fake.base_url}\n"
        f"  export APCA_API_KEY_ID={fake.key_id} APCA_API_SECRET_KEY={fake.secret_key}\n"
        f'  control: curl -d \'{{"action": "drop_stream"}}\' {fake.base_url}/_control',
        flush=True,
    )
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
