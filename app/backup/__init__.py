"""Backups that restore: one archive (tar.gz) holding a consistent copy of the database, the
instance files that matter (secret key, connection key, config.py, attachments), a manifest and
checksums; ``flask backup``, the scheduler's daily backup, and ``flask restore`` into an empty
instance.

- :mod:`.database`: the copy of the database (SQLite's online backup API, ``pg_dump``) and its
  way back (file copy, ``pg_restore``), with the row counts of the same snapshot.
- :mod:`.archive`: writing, checking and restoring archives; pruning old ones.
- :mod:`.runs`: a backup as a ``JobRun`` (Monitor Jobs) and the scheduler's daily job.
- :mod:`.cli`: the ``backup`` and ``restore`` commands.
"""


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what was left unchanged."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
