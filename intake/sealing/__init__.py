"""Sealing in the reporter's browser (issue: the server never sees the report): the
libsodium.js build step (:mod:`intake.sealing.vendor`); the page code is
``intake/static/sealing/sealbox-crypto.mjs``."""
