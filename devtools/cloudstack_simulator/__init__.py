"""A CloudStack API simulator for tests and demos: signed requests, JSON responses, async
jobs and the resources the ngine_io.cloudstack modules manage, kept in SQLite.

Not part of the dinfra.chain collection (galaxy.yml build_ignore); see README.md."""

__version__ = "1.0.0"
