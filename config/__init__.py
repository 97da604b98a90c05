"""Sealbox settings and instance initialisation."""

from config.instance import InstanceExists, ensure_signing_key, init_instance
from config.settings import MIB, ConfigError, Settings, load_settings

__all__ = [
    "MIB",
    "ConfigError",
    "InstanceExists",
    "Settings",
    "ensure_signing_key",
    "init_instance",
    "load_settings",
]
