"""Starts the `ideogram-mock` binary on free loopback ports for a script."""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def binary():
    """The mock binary: $IDEOGRAM_MOCK, else the debug build in the target dir."""
    if os.environ.get("IDEOGRAM_MOCK"):
        return os.environ["IDEOGRAM_MOCK"]
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return str(target / "debug" / "ideogram-mock")


class Mock:
    """A running mock; use as a context manager. `api`, `cdn`, `key` and
    `ledger` (the URL serving the billing ledger as JSON) are set."""

    def __init__(self, *args):
        self.args = ["--listen", "127.0.0.1:0", "--cdn-listen", "127.0.0.1:0", *args]

    def __enter__(self):
        self.process = subprocess.Popen(
            [binary(), *self.args], stdout=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline().split()
        if len(line) != 8 or line[0] != "api":
            self.process.kill()
            raise RuntimeError(f"the mock did not start: {line}")
        self.api, self.cdn, self.key, self.ledger = line[1], line[3], line[5], line[7]
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)


class Results:
    """Counts checks and prints the closing 'N passed, N failed' line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0
