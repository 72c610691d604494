"""Generic helpers every part of Herald uses: logging, environment settings, deployment rules,
the database going away. Imports nothing of Herald's."""
