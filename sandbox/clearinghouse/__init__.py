"""The sandbox clearinghouse (issue 7 part 5): a faithful local stand-in of a clearinghouse that
takes X12 batches over SFTP and CHC / Stedi JSON over REST, validates them the way a
clearinghouse front end does, adjudicates deterministically and answers with TA1/999/277CA/835
files and JSON reports; it can be told to be slow, fail, throttle or go down (``chaos.py``).

Start it with ``running_clearinghouse`` (tests) or ``facade sandbox`` (REST :8082, SFTP :2222)."""

from sandbox.clearinghouse.accounts import DEFAULT_ACCOUNTS, Account
from sandbox.clearinghouse.chaos import Chaos, ChaosState
from sandbox.clearinghouse.runner import ClearinghouseSandbox, running_clearinghouse

__all__ = [
    "DEFAULT_ACCOUNTS",
    "Account",
    "Chaos",
    "ChaosState",
    "ClearinghouseSandbox",
    "running_clearinghouse",
]
