"""Trading-partner accounts of the sandbox clearinghouse: one account is an SFTP user (password
auth, CLEARINGHOUSES.md section 5), a CHC OAuth2 client (client credentials, section 2 "Optum /
CHC") and a Stedi API key (section 2 "Stedi") at once, and names the ISA06 sender id and the
ISA15 usage its files must carry."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sandbox.clearinghouse.model import Submitter

__all__ = ["DEFAULT_ACCOUNTS", "Account", "AccountBook"]


@dataclass(frozen=True, slots=True)
class Account:
    """One trading partner. Secrets are development values of a loopback sandbox; ``repr``
    leaves them out all the same."""

    username: str
    """SFTP user name; also the name of its chroot folder under the SFTP root."""
    password: str = field(repr=False)
    sender_id: str
    """ISA06 / GS02 its files must carry."""
    usage: str
    """ISA15 its account is for: ``T`` test or ``P`` production."""
    client_id: str
    client_secret: str = field(repr=False)
    api_key: str = field(repr=False)
    public_keys: tuple[str, ...] = ()
    """OpenSSH public key lines also accepted for the SFTP login (RFC 4252 section 7)."""

    @property
    def submitter(self) -> Submitter:
        return Submitter(username=self.username, sender_id=self.sender_id, usage=self.usage)


DEFAULT_ACCOUNTS: tuple[Account, ...] = (
    Account(
        username="facade",
        password="sandbox-only",
        sender_id="FACADE",
        usage="T",
        client_id="facade-sandbox",
        client_secret="sandbox-only",
        api_key="sandbox-api-key",
    ),
)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class AccountBook:
    """Look-ups of an account by each of its credentials, in constant time per comparison."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts: tuple[Account, ...] = tuple(accounts)
        names = [a.username for a in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError("account user names must be unique")
        for name in names:
            if not name or name.startswith(".") or "/" in name or name == "..":
                raise ValueError(f"not a usable account user name: {name!r}")

    def __iter__(self) -> Iterator[Account]:
        return iter(self.accounts)

    def by_username(self, username: str) -> Account | None:
        for account in self.accounts:
            if account.username == username:
                return account
        return None

    def by_password(self, username: str, password: str) -> Account | None:
        """The SFTP login (password authentication, RFC 4252 section 8)."""
        account = self.by_username(username)
        if account is None or not account.password or not _same(password, account.password):
            return None
        return account

    def public_keys(self, username: str) -> tuple[str, ...]:
        account = self.by_username(username)
        return account.public_keys if account is not None else ()

    def by_client(self, client_id: str, client_secret: str) -> Account | None:
        """The CHC token endpoint's client credentials (RFC 6749 section 4.4)."""
        for account in self.accounts:
            if account.client_id and account.client_id == client_id:
                return account if _same(client_secret, account.client_secret) else None
        return None

    def by_api_key(self, key: str) -> Account | None:
        """Stedi ``Authorization: <api key>`` (the legacy ``Key <api key>`` form too)."""
        if key.startswith("Key "):
            key = key[4:]
        key = key.strip()
        found = None
        for account in self.accounts:
            if account.api_key and _same(key, account.api_key):
                found = account
        return found
