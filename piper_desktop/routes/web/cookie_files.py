"""Browser sessions from cookies files: one file into one account's stored session, or
a folder of `<username>.json` (Playwright / EditThisCookie JSON) and `<username>.txt`
(Netscape cookies.txt) files matched to accounts by name (domain/name_match.py).

A bad file is one line naming it; the other files go on. Nothing is stored for a file
without a usable cookie, and a stored session keeps its other cookies (a cookie with the
same name, domain and path is replaced).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...browser.cookies import parse_cookies, storage_state_with_cookies
from ...domain.errors import DomainError, ValidationError
from ...domain.name_match import Named, Unmatched, match_by_name
from ...domain.services import Services
from ...domain.textfiles import read_text_file

SUFFIXES = (".json", ".txt")
# Piper's own cookie export suggests `<username>-cookies.json`
ALIASES = ("-cookies", "_cookies")


@dataclass(frozen=True)
class CookieFileResult:
    imported: int
    # "line N: reason" for each cookie left out
    skipped: list[str]
    total: int  # cookies in the session after the import


def import_cookie_text(services: Services, account_id: int, text: str) -> CookieFileResult:
    """Add the cookies of `text` to the account's stored session."""
    parsed = parse_cookies(text)
    merged = storage_state_with_cookies(parsed.cookies, services.accounts.storage_state(account_id))
    if parsed.cookies:
        services.accounts.save_storage_state(account_id, merged)
    return CookieFileResult(
        len(parsed.cookies), [str(e) for e in parsed.errors], len(merged["cookies"])
    )


def cookie_files(folder: Path) -> list[Path]:
    """The folder's cookies files, by name (hidden files and other kinds left out)."""
    if not folder.is_dir():
        raise DomainError(f"{folder}: not a folder")
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


@dataclass(frozen=True)
class FileImport:
    account: Named
    file: Path
    result: CookieFileResult | None = None
    # one line naming the file when nothing of it was stored
    error: str | None = None


@dataclass
class FolderImport:
    imported: list[FileImport] = field(default_factory=list)
    unmatched_files: list[Unmatched[Path]] = field(default_factory=list)
    unmatched_accounts: list[Named] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unmatched_files and all(f.error is None for f in self.imported)


def plan_cookie_folder(folder: Path, accounts: Sequence[Named]) -> FolderImport:
    """Which file goes to which account (nothing read or stored yet)."""
    match = match_by_name(accounts, ((p.stem, p) for p in cookie_files(folder)), aliases=ALIASES)
    return FolderImport(
        imported=[FileImport(account, path) for account, path in match.pairs],
        unmatched_files=match.items,
        unmatched_accounts=match.accounts,
    )


def import_one(services: Services, planned: FileImport) -> FileImport:
    """Read one planned file into its account's session; a bad file is its error line."""
    name = planned.file.name
    try:
        result = import_cookie_text(
            services, planned.account.account_id, read_text_file(planned.file)
        )
    except (DomainError, OSError, ValueError) as exc:
        return FileImport(planned.account, planned.file, error=f"{name}: {_reason(exc)}")
    if not result.imported:
        first = result.skipped[0] if result.skipped else "no cookies in it"
        return FileImport(
            planned.account, planned.file, result, f"{name}: no usable cookie ({first})"
        )
    return FileImport(planned.account, planned.file, result)


def import_cookie_folder(
    services: Services, folder: Path, accounts: Sequence[Named]
) -> FolderImport:
    plan = plan_cookie_folder(folder, accounts)
    plan.imported = [import_one(services, planned) for planned in plan.imported]
    return plan


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, ValidationError):
        return exc.reason
    return str(exc)
