"""Argon2 password hashing, with rehash on login and a constant-time miss.

Argon2 is slow and memory-hard on purpose (about 0.2 s and 64 MiB a hash here): on the event
loop, one sign-in would stall every other request of the worker. The server therefore calls the
`*_async` functions, which run the work in a small thread pool of its own (argon2-cffi releases
the GIL, so the loop goes on serving meanwhile). The pool's size bounds how many hashes run at
once, and so the memory a flood of sign-ins can take; the rest wait their turn.

The plain functions stay for code outside a request (the CLI, the demo loader, tests, benches).
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified when the e-mail is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

HASHING_THREADS = max(2, min(8, os.cpu_count() or 2))
"""How many Argon2 computations run at once in a server process."""

THREAD_NAME_PREFIX = "argon2"
_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix=THREAD_NAME_PREFIX)

T = TypeVar("T")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(valid, a new hash when the stored one should be upgraded)."""
    if not password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    return _hasher.verify_and_update(password, password_hash)


async def _off_the_loop(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool, work)


async def hash_password_async(password: str) -> str:
    """`hash_password` in the hashing pool: what request handlers call."""
    # Looked up at call time, so a test can count the calls by replacing the module's function.
    return await _off_the_loop(functools.partial(hash_password, password))


async def verify_password_async(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """`verify_password` in the hashing pool: what request handlers call."""
    return await _off_the_loop(functools.partial(verify_password, password, password_hash))
