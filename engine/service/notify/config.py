"""Reading a channel's settings from a plain dict (the service's config file) and its secrets.

A secret is named, never written inline: ``secret_env: NAME`` reads an environment variable and
``secret_file: PATH`` reads a file (trailing newline dropped). An inline ``secret``, a missing variable
or file, or an unknown key is a ``ConfigError`` with one clear line naming the channel and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A channel's settings cannot be used; the message names the channel and the key."""


class Settings:
    """One channel's dict, read key by key; ``done()`` refuses keys nobody asked for (typos)."""

    def __init__(self, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> None:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"channel {name}: settings must be a mapping, got {type(raw).__name__}")
        self.name, self._raw, self._env, self._read = name, raw, env, {"kind"}

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self._raw.get(key)

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key)
        if value is None:
            if default is None:
                raise ConfigError(f"channel {self.name}: {key} is required")
            return default
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"channel {self.name}: {key} must be a non-empty string")
        return value

    def optional(self, key: str) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"channel {self.name}: {key} must be a non-empty string")
        return value

    def number(self, key: str, default: float) -> float:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"channel {self.name}: {key} must be a positive number")
        return float(value)

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(key, default)
        if value not in allowed:
            raise ConfigError(f"channel {self.name}: {key} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def mapping(self, key: str) -> dict[str, str]:
        value = self._get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"channel {self.name}: {key} must map names to strings")
        return {str(k): v for k, v in value.items()}

    def secret(self, prefix: str = "secret", *, required: bool = True) -> str | None:
        """The secret named by ``<prefix>_env`` or ``<prefix>_file``; an inline ``<prefix>`` is refused."""
        if self._get(prefix) is not None:
            raise ConfigError(
                f"channel {self.name}: {prefix} may not be written inline; use {prefix}_env or {prefix}_file"
            )
        env_name, file_name = self._get(f"{prefix}_env"), self._get(f"{prefix}_file")
        if env_name is not None and file_name is not None:
            raise ConfigError(f"channel {self.name}: give {prefix}_env or {prefix}_file, not both")
        if env_name is not None:
            if not isinstance(env_name, str) or not env_name:
                raise ConfigError(f"channel {self.name}: {prefix}_env must name an environment variable")
            value = self._env.get(env_name, "")
            if not value:
                raise ConfigError(f"channel {self.name}: environment variable {env_name} ({prefix}_env) is not set")
            return value
        if file_name is not None:
            try:
                value = Path(str(file_name)).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as e:
                raise ConfigError(f"channel {self.name}: cannot read {prefix}_file {file_name}: {e}") from None
            if not value:
                raise ConfigError(f"channel {self.name}: {prefix}_file {file_name} is empty")
            return value
        if required:
            raise ConfigError(f"channel {self.name}: {prefix}_env or {prefix}_file is required")
        return None

    def done(self) -> None:
        unknown = sorted(set(map(str, self._raw)) - self._read)
        if unknown:
            raise ConfigError(f"channel {self.name}: unknown setting {unknown[0]!r}")
