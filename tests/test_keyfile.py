"""The secret key is made once, atomically and private: two processes starting at once
on an empty data folder end up with the same key; the folder is 0700, the key and the
SQLite file 0600."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from bot import keyfile
from bot.settings import Settings
from bot.storage.db import Database


def _start(
    path: str, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue
) -> None:
    barrier.wait()
    out.put(keyfile.read_or_create(Path(path)))


@pytest.mark.parametrize("run", range(20))
def test_two_processes_on_an_empty_folder_get_the_same_key(tmp_path: Path, run: int) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3)
    out = context.Queue()
    path = tmp_path / "data" / "secret_key"
    workers = [context.Process(target=_start, args=(str(path), barrier, out)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    keys = {out.get(timeout=5) for _ in workers}
    assert len(keys) == 1
    (key,) = keys
    assert path.read_text() == key + "\n" and len(key) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no leftovers


def test_settings_make_the_key_once_and_keep_it(tmp_path: Path) -> None:
    first = Settings(_env_file=None, data_dir=tmp_path / "data").secret  # type: ignore[call-arg]
    again = Settings(_env_file=None, data_dir=tmp_path / "data").secret  # type: ignore[call-arg]
    assert first == again


def test_an_existing_data_folder_is_narrowed(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    keyfile.read_or_create(folder / "secret_key")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_empty_key_file_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("")
    with pytest.raises(ValueError, match="empty"):
        keyfile.read_or_create(path)
    assert path.read_text() == ""


async def test_the_sqlite_file_and_its_folder_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh/buurtbot.db"
    database = Database(url)
    try:
        async with database.transaction() as session:
            from sqlalchemy import text

            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await database.close()
    folder = tmp_path / "fresh"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("buurtbot.db", "buurtbot.db-wal", "buurtbot.db-shm"):
        if (folder / name).exists():
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
