"""Sealbox settings and instance initialisation."""

from config.instance import InstanceExists, init_instance
from config.settings import MIB, ConfigError, Settings, load_settings

__all__ = ["MIB", "ConfigError", "InstanceExists", "Settings", "init_instance", "load_settings"]
