"""`offramp-console serve`: the console on its port (OFFRAMP_HTTP_PORT, 8000 by default)."""

import argparse

import uvicorn

from console.bootstrap import create_app
from console.settings import ConsoleSettings
from servicekit.log import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="offramp-console", description=__doc__)
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    settings = ConsoleSettings()
    configure_logging("console", settings.log_level, as_json=settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
