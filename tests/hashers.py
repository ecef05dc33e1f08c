"""A cheap Argon2 for the test process.

Argon2 is slow on purpose (about a second per check on this machine under load). Tests in this
process create many accounts and sign in often and need no protection from brute force. The
hashes stay real Argon2 (only the cost parameters are lower, and they are written in the hash),
so the servers the tests start in their own processes verify them with the default hasher.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
