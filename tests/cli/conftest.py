"""Fixtures the command-line tests share with the packages they drive."""

from tests.delivery.conftest import clock  # noqa: F401
from tests.reports.conftest import db_url, flows_dir  # noqa: F401
