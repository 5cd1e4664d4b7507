"""`switchboard-threads serve | migrate | replay | rotate-secrets | prices set | admin
grant|revoke`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

from observability.logging import configure_logging
from threads.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchboard-threads")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the service (NATS routes and the outbox relay)")
    migrate = sub.add_parser("migrate", help="create the database if missing, upgrade to head")
    migrate.add_argument("revision", nargs="?", default="head")
    replay = sub.add_parser("replay", help="rebuild every read model from the events, online")
    replay.add_argument(
        "--check",
        action="store_true",
        help="rebuild and compare with the live read models; swap nothing",
    )
    sub.add_parser(
        "rotate-secrets", help="re-seal stored provider keys under the active server key"
    )
    prices = sub.add_parser("prices", help="model prices for the usage ledger's cost")
    price_sub = prices.add_subparsers(dest="prices_command", required=True)
    price = price_sub.add_parser(
        "set", help="set a model's price (USD per million tokens), over the built-in one"
    )
    price.add_argument("provider")
    price.add_argument("model", help="matched exactly")
    price.add_argument("--input", type=float, required=True, help="USD per million input tokens")
    price.add_argument("--output", type=float, required=True, help="USD per million output")
    price.add_argument(
        "--reasoning", type=float, help="USD per million reasoning (default: --output)"
    )
    admin = sub.add_parser("admin", help="make a user an admin, or a user again")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    for verb, what in (("grant", "make EMAIL's account an admin"), ("revoke", "a user again")):
        admin_sub.add_parser(verb, help=what).add_argument("email")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging("threads", level=settings.log_level, json=settings.log_json)

    if args.command == "serve":
        import uvloop

        from threads.entrypoints.serve import serve

        uvloop.run(serve(settings))
    elif args.command == "migrate":
        from threads.migrations.runner import ensure_database, upgrade

        asyncio.run(ensure_database(settings.database_url))
        upgrade(settings.database_url, args.revision)
    elif args.command == "replay":
        from threads.entrypoints.replay_cli import run_replay

        return asyncio.run(run_replay(settings, check=args.check))
    elif args.command == "rotate-secrets":
        from threads.entrypoints.rotate_secrets import run_rotate

        return asyncio.run(run_rotate(settings))
    elif args.command == "admin":
        from threads.entrypoints.admin_cli import run_set_role

        role = "admin" if args.admin_command == "grant" else "user"
        return asyncio.run(run_set_role(settings, args.email, role))
    elif args.command == "prices":
        from pydantic import ValidationError

        from threads.entrypoints.prices_cli import run_set_price

        try:
            return asyncio.run(
                run_set_price(
                    settings, args.provider, args.model, args.input, args.output, args.reasoning
                )
            )
        except ValidationError as exc:
            parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
