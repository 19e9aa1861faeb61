"""Quiet hours: no broadcasts, follow-ups or reminders at night, in the deployment's zone.

`BUURTBOT_QUIET_HOURS=21:00-09:00` is read as local times in `BUURTBOT_TIMEZONE`; a
window may wrap midnight (21:00-09:00) or not (13:00-14:00). A non-urgent message due
inside the window is held: its `due_at` moves to the end of the window, so nothing polls
it during the night and `buurtbot outbox status` shows when it will go. Urgent messages
(a proposal notice to a community worker) ignore quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.settings import Settings


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings) -> QuietHours | None:
        window = settings.quiet_window
        if window is None or window[0] == window[1]:
            return None
        return cls(window[0], window[1], ZoneInfo(settings.timezone))

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def until(self, when: datetime) -> datetime | None:
        """The end of the quiet window `when` falls in (UTC), or None outside it."""
        local = when.astimezone(self.zone)
        now, today = local.time().replace(tzinfo=None), local.date()
        if self.start < self.end:
            if self.start <= now < self.end:
                return self._local(today, self.end)
            return None
        # The window wraps midnight: 21:00-09:00 is [21:00, 24:00) and [00:00, 09:00).
        if now >= self.start:
            return self._local(today + timedelta(days=1), self.end)
        if now < self.end:
            return self._local(today, self.end)
        return None

    def release(self, when: datetime) -> datetime:
        """`when`, or the end of the quiet window it falls in."""
        end = self.until(when)
        return end if end is not None else when


def hold(quiet: QuietHours | None, when: datetime, urgent: bool) -> datetime:
    """When a message due at `when` may go: urgent ones at once, others after quiet hours."""
    if quiet is None or urgent:
        return when
    return quiet.release(when)
