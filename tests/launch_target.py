"""A stand-in for ``python -m sprawl_audit`` in the launcher's tests: run as ``__main__``
by either launcher, it does what its arguments say and exits with a chosen status.

    env FILE     write this process's environment (and its initial one) to FILE as JSON
    say TEXT     print TEXT on stdout and on stderr
    sleep N      sleep N seconds
    exit N       exit with status N
    crash        raise an exception (Python exits 1 with a traceback)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(args: list[str]) -> int:
    code = 0
    while args:
        verb, value, args = args[0], (args[1] if len(args) > 1 else ""), args[2:]
        if verb == "env":
            initial = Path(f"/proc/{os.getpid()}/environ")
            Path(value).write_text(json.dumps({
                "environ": dict(os.environ),
                "initial": initial.read_bytes().decode("utf-8", "replace")
                if initial.exists() else None,
                "stdin": sys.stdin.read(),
            }))
        elif verb == "say":
            print(value, flush=True)
            print(value, file=sys.stderr, flush=True)
        elif verb == "sleep":
            time.sleep(float(value))
        elif verb == "exit":
            code = int(value)
        elif verb == "crash":
            raise RuntimeError("launch target crashed on purpose")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
