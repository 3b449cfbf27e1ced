"""What every server-side command shares: the settings its service runs with, and plain words
instead of a traceback for what an operator can put right.

`make up` writes the settings it gives the services to `.offramp/offramp.env`; a command run
from the repository reads that file, so `offramp-audit verify` finds the stack `make up` started
on whatever ports it chose. The environment still wins over the file, and production (no such
file) is configured by the environment alone. `OFFRAMP_ENV_FILE` names another file, or turns
the file off when empty.
"""

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from pydantic import ValidationError

from servicekit.event_keys import EventKeyMissing
from servicekit.jetstream import NatsCredentialsError
from servicekit.outages import is_outage
from servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)

ENV_FILE_VARIABLE = "OFFRAMP_ENV_FILE"
DEFAULT_ENV_FILE = Path(".offramp/offramp.env")

# Exit codes a script can tell apart: the command's own "no" (a broken ledger, an unknown id)
# is 1, as each command documents.
EXIT_BAD_SETTINGS = 2
EXIT_UNREACHABLE = 3


class CommandFailed(Exception):
    """What a command tells the operator instead of a traceback: what is wrong, what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def env_file() -> Path | None:
    """The settings file commands read: OFFRAMP_ENV_FILE, else `make up`'s if it is there."""
    named = os.environ.get(ENV_FILE_VARIABLE)
    if named is not None:
        if not named:
            return None
        path = Path(named)
        if not path.is_file():
            raise CommandFailed(
                f"{ENV_FILE_VARIABLE} names {path}, which is not a file; point it at the "
                "settings file `make up` wrote (.offramp/offramp.env), or set it empty",
                EXIT_BAD_SETTINGS,
            )
        return path
    return DEFAULT_ENV_FILE if DEFAULT_ENV_FILE.is_file() else None


def load_settings(settings_type: type[S]) -> S:
    """The service's settings: the environment first, then the settings file, then defaults."""
    path = env_file()
    if path is None:
        return settings_type()
    return settings_type(_env_file=path)


def redacted(url: str) -> str:
    """A connection URL fit to print: the password replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def run_guarded(
    prog: str,
    body: Callable[[], int],
    *,
    settings: Callable[[], ServiceSettings | None] = lambda: None,
    foreseeable: tuple[type[Exception], ...] = (),
) -> int:
    """Run a command; a failure an operator can fix is one line on stderr and an exit code.
    Anything else still raises: a bug should show where it is."""
    try:
        return body()
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        explained = explain(error, _quietly(settings), foreseeable)
        if explained is None:
            raise
        message, code = explained
        print(f"{prog}: {message}", file=sys.stderr)
        return code


def _quietly(settings: Callable[[], ServiceSettings | None]) -> ServiceSettings | None:
    try:
        return settings()
    except Exception:
        return None


def explain(
    error: Exception,
    settings: ServiceSettings | None,
    foreseeable: tuple[type[Exception], ...] = (),
) -> tuple[str, int] | None:
    if isinstance(error, CommandFailed):
        return str(error), error.exit_code
    if isinstance(error, ValidationError):
        fields = "; ".join(
            f"OFFRAMP_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        return f"the settings are not valid: {fields}", EXIT_BAD_SETTINGS
    where = _where(settings)
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return (
            f"{error}; the database does not exist yet. Start the system with `make up` (it "
            f"creates it), or point OFFRAMP_DATABASE_URL at the right one ({where})",
            EXIT_UNREACHABLE,
        )
    if isinstance(
        error, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
    ):
        return (
            f"the database refused the login: {error}; check the user and password in "
            f"OFFRAMP_DATABASE_URL ({where})",
            EXIT_UNREACHABLE,
        )
    if isinstance(error, asyncpg.UndefinedTableError):
        return (
            f"{error}: the service's schema has not been migrated; run the service's "
            "`migrate` command (make up does)",
            EXIT_UNREACHABLE,
        )
    if is_outage(error) or _unreachable(error):
        return (
            f"cannot reach a server this command needs ({_describe(error)}). Is the system up? "
            f"`make status` shows what runs where; this command used {where}. Set "
            "OFFRAMP_DATABASE_URL / OFFRAMP_NATS_URL, or run it from the repository where "
            "`make up` wrote .offramp/offramp.env",
            EXIT_UNREACHABLE,
        )
    if isinstance(error, NatsCredentialsError | EventKeyMissing):
        # Its message names the setting to fix; commands run with the service's own settings.
        return f"{error} ({where})", EXIT_BAD_SETTINGS
    if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError):
        return f"{error.filename}: {error.strerror}", EXIT_BAD_SETTINGS
    if isinstance(error, ValueError | LookupError) or isinstance(error, foreseeable):
        return str(error), EXIT_BAD_SETTINGS if isinstance(error, ValueError) else 1
    return None


def _unreachable(error: BaseException) -> bool:
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    if isinstance(error, OSError) and error.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH):
        return True
    return isinstance(error, OSError) and "Connect call failed" in str(error)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) < 300 else text[:300] + "..."


def _where(settings: ServiceSettings | None) -> str:
    if settings is None:
        return "the default settings"
    return (
        f"OFFRAMP_DATABASE_URL={redacted(settings.database_url)}, "
        f"OFFRAMP_NATS_URL={settings.nats_url}"
    )
