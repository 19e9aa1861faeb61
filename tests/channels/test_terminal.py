"""The terminal chat as a real process: `buurtbot chat`, killed with -9 and started again."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, select

from bot import outbox
from bot.app import build
from bot.storage.db import sync_url
from bot.storage.models import Answer, OutboxMessage, Participant, RunningProcess, utcnow
from tests.conftest import make_settings
from tests.helpers import town_today
from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
BUURTBOT = Path(sys.executable).parent / "buurtbot"


class Chat:
    """A `buurtbot chat` process, read until its prompt."""

    def __init__(
        self,
        database_url: str,
        tmp_path: Path,
        user: str = "ada",
        language: str = "en",
        command: tuple[str, ...] | None = None,
    ):
        env = {
            **os.environ,
            "BUURTBOT_DATABASE_URL": database_url,
            "BUURTBOT_DATA_DIR": str(tmp_path / "data"),
            "BUURTBOT_SECRET_KEY": "test",
            # What is due shows at any hour of the test run (quiet hours hold it), and
            # `run`'s dashboard takes a free port, not 8000, beside other test runs.
            "BUURTBOT_QUIET_HOURS": "",
            "BUURTBOT_DASHBOARD_LISTEN": f"127.0.0.1:{free_port()}",
        }
        self.process = subprocess.Popen(
            [str(BUURTBOT), *(command or ("chat", "--user", user, "--language", language))],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.chunks: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout
        while chunk := os.read(self.process.stdout.fileno(), 65536):
            self.chunks.put(chunk)

    def until_prompt(self, timeout: float = 30) -> str:
        seen = b""
        deadline = time.monotonic() + timeout
        while not seen.endswith(b"> "):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no prompt; got {seen.decode(errors='replace')!r}"
            try:
                seen += self.chunks.get(timeout=remaining)
            except queue.Empty:
                continue
        return seen.decode()

    def until(self, wanted: str, timeout: float = 30) -> str:
        """Everything shown until `wanted` appears (it may come between prompts), and
        on to the prompt after it."""
        seen = b""
        deadline = time.monotonic() + timeout
        while wanted.encode() not in seen or not seen.endswith(b"> "):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{wanted!r} never shown; got {seen.decode(errors='replace')!r}"
            try:
                seen += self.chunks.get(timeout=remaining)
            except queue.Empty:
                continue
        return seen.decode()

    def send(self, line: str) -> str:
        assert self.process.stdin
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()
        return self.until_prompt()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def quit(self) -> int:
        assert self.process.stdin
        self.process.stdin.close()
        return self.process.wait(20)


def test_chat_survives_kill_9_in_the_middle_of_a_flow(database_url: str, tmp_path: Path) -> None:
    chat = Chat(database_url, tmp_path)
    first = chat.until_prompt()
    assert "1. English" in first and "العربية" in first
    assert "This chat is from Welzijn Almelo" in chat.send("1")  # English
    assert "Which neighbourhood" in chat.send("1")  # yes, I agree
    asked = chat.send("7606 AB")
    assert (
        "This postcode is in Kerkelanden. Do you live there?\n\n1. Yes\n2. No, choose another"
        in (asked)
    )
    assert "1. Centrum" not in asked  # not the list again: 1 would pick Centrum
    assert "How old are you?" in chat.send("1")  # 1: yes, Kerkelanden
    chat.kill()

    chat = Chat(database_url, tmp_path)
    resumed = chat.until_prompt()
    assert "Welcome back" in resumed and 'You did not finish "Welcome"' in resumed
    assert "How old are you?" in chat.send("2")  # go on
    assert "What do you care about?" in chat.send("2")
    assert "What is good about your neighbourhood?" in chat.send("1, 3")
    chat.kill()

    chat = Chat(database_url, tmp_path)
    assert "Welcome back" in chat.until_prompt()  # nothing answered yet in this flow
    assert "What would you like to change?" in chat.send("De markt")
    assert chat.quit() == 0

    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(select(Answer.flow_id, Answer.step_key, Answer.value)).all()
    engine.dispose()
    assert sorted((f, s) for f, s, _ in rows) == sorted(
        [
            ("onboarding", "neighbourhood"),
            ("onboarding", "age_group"),
            ("onboarding", "interests"),
            ("what-matters", "good"),
        ]
    )
    values = {s: v for _, s, v in rows}
    assert values == {
        "neighbourhood": "kerkelanden",
        "age_group": "18-27",
        "interests": ["green", "sport"],
        "good": "De markt",
    }


def test_no_to_the_postcode_shows_the_list(database_url: str, tmp_path: Path) -> None:
    chat = Chat(database_url, tmp_path, user="bo")
    chat.until_prompt()
    chat.send("1")  # English
    chat.send("1")  # yes, I agree
    assert "Do you live there?" in chat.send("7606 AB")
    listed = chat.send("2")  # no, choose another
    assert "Which neighbourhood do you live in?" in listed and "1. Centrum" in listed
    assert "How old are you?" in chat.send("1")  # now 1 is Centrum
    assert chat.quit() == 0
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(select(Answer.step_key, Answer.value)).all()
    engine.dispose()
    assert dict(rows)["neighbourhood"] == "centrum"


def test_typing_only_in_arabic_in_the_terminal(database_url: str, tmp_path: Path) -> None:
    """#16 point 5: Arabic digits and comma, a date with its vowel mark, an empty line for
    "none of these" on a question that allows nothing."""
    chat = Chat(database_url, tmp_path, language="ar")
    assert "العربية" in chat.until_prompt()
    assert "هل هذا مناسب لك؟" in chat.send("العربية")
    assert "7606" not in chat.send("نعم")
    assert "Kerkelanden" in chat.send("7606 AB")  # said back
    chat.send("نعم")  # yes, that is right
    chat.send("٢")
    chat.send("١، ٣")
    chat.send("/propose")
    chat.send("حفلة شواء")
    chat.send("3، 1")
    chat.send("الحديقة")
    assert "اكتب 0 إذا لم يناسبك أي منها." in chat.send("غدًا")
    assert "هل تريد المساعدة في تنظيمه؟" in chat.send("")  # Enter: nothing is needed
    assert chat.quit() == 0

    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(select(Answer.step_key, Answer.value)).all()
    engine.dispose()
    values = {s: v for s, v in rows}
    assert values["interests"] == ["green", "sport"]
    assert values["for_whom"] == ["youth", "families"]
    assert values["needs"] == []
    assert values["when"] == (town_today() + timedelta(days=1)).isoformat()


def test_run_in_terminal_mode_shows_the_outbox_when_it_is_due(
    database_url: str, tmp_path: Path
) -> None:
    """`make run` is the real bot: what the outbox holds for the terminal person shows."""

    async def prepare() -> None:
        app = build(make_settings(database_url, tmp_path))
        try:
            async with app.database.transaction() as session:
                me = Participant(
                    channel="terminal",
                    channel_user_id="me",
                    language="en",
                    neighbourhood="kerkelanden",
                    consented_at=utcnow(),
                )
                session.add(me)
                await session.flush()
                reminder = outbox.text("Reminder: the barbecue is tomorrow at 14:00.")
                await outbox.enqueue(session, me.id, "reminder", reminder)
                later = utcnow() + timedelta(seconds=3)
                await outbox.enqueue(
                    session, me.id, "followup", outbox.flow("checkin"), due_at=later
                )
        finally:
            await app.close()

    asyncio.run(prepare())
    chat = Chat(database_url, tmp_path, command=("run",))
    shown = chat.until("Reminder: the barbecue is tomorrow at 14:00.")
    if "Hello again" not in shown:  # the outbox may be quicker than the greeting
        shown += chat.until("Hello again")
    assert "Hello again" in shown
    assert "Do you want to join an activity" in chat.until("Do you want to join an activity")
    assert "we will invite you" in chat.send("1")
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        # Registered as a running process (the overview and `health` show it).
        (running,) = connection.execute(select(RunningProcess)).all()
    assert running.pid == chat.process.pid and running.stopped_at is None
    assert running.leads == ["jobs"]
    assert chat.quit() == 0
    with engine.connect() as connection:
        statuses = connection.execute(select(OutboxMessage.status)).scalars().all()
        stopped = connection.execute(select(RunningProcess.stopped_at)).scalar_one()
    engine.dispose()
    assert statuses == ["sent", "sent"]
    assert stopped is not None
