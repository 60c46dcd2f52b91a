"""Process-wide settings `songbot run` makes before anything else starts.

Why here and not in each module: a descriptor limit and a umask belong to the process; setting
them once, first, covers every file, socket and child process the bot opens afterwards.
"""

from __future__ import annotations

import logging
import os
import resource

log = logging.getLogger(__name__)

# Files 0600, folders 0700: temp audio holds users' voices, the database their lyrics and ids.
PRIVATE_UMASK = 0o077
# RLIM_INFINITY cannot be the soft limit of RLIMIT_NOFILE on Linux (nr_open caps it).
NOFILE_CEILING = 1 << 20


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit and return the soft limit now in force.

    Why (#24.3): the common default soft limit of 1,024 is what a slowloris exhausted; the hard
    limit (often 524,288 or more) is ours to take, and the HTTP port's connection cap is derived
    from the result (bot/ops/http_limits.py), leaving a reserve for the engine.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = NOFILE_CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-files limit from %d to %d: %s", soft, wanted, exc)
            return soft
        return wanted
    return soft


def private_umask() -> None:
    """Everything the process creates from now on is its owner's alone (#24.8): temp and kept
    audio, converted references, cover art, backups, and what ffmpeg writes for us. The
    modules that create long-lived files set their modes explicitly as well."""
    os.umask(PRIVATE_UMASK)
