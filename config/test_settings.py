"""Settings for the test suite: safe defaults for what production must set explicitly."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("PROVIDER_TOKEN", "test-provider-token")

from config.settings import *  # noqa: F403

# Hashing test users' passwords quickly keeps the suite fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
