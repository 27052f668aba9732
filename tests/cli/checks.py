"""Shared by the CLI test scripts: count checks, run the npio binary, report.

    from checks import check, npio, finish
    NPIO is sys.argv[1] of the script that imports this module.
"""
import subprocess
import sys

NPIO = sys.argv[1]
passed = failed = 0


def check(name, cond, detail=""):
    """Counts one check; prints it when it fails."""
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def npio(*args, cwd=None, text=False):
    """Runs npio with args; returns the CompletedProcess (output captured, as
    bytes or, with text=True, as str)."""
    return subprocess.run([NPIO, *args], capture_output=True, cwd=cwd, text=text)


def finish():
    """Prints the tally and exits 1 when any check failed."""
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
