"""Build a channel from its plain config dict: ``{"kind": "wecom", "url": ..., "key_env": ...}``.

The service reads its config file, then calls ``build_channel`` once per configured channel with one
shared ``Transport``, the wall clock (only the CLI may read it) and the environment for secrets.
Unknown kinds and bad settings raise ``ConfigError`` with one line naming the channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .config import ConfigError
from .dingtalk import DingTalkChannel, DingTalkConfig
from .feishu import FeishuChannel, FeishuConfig
from .outcome import Channel
from .sms import HttpSmsConfig, HttpSmsProvider, SmsChannel, SmsConfig
from .smtp import SmtpChannel, SmtpConfig
from .transport import Transport
from .webhook import WebhookChannel, WebhookConfig
from .wecom import WecomChannel, WecomConfig

KINDS = ("webhook", "wecom", "dingtalk", "feishu", "smtp", "sms")


def build_channel(
    name: str,
    raw: Mapping[str, Any],
    *,
    transport: Transport,
    clock: Callable[[], float],
    env: Mapping[str, str],
) -> Channel:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"channel {name}: settings must be a mapping")
    kind = raw.get("kind")
    if kind == "webhook":
        return WebhookChannel(WebhookConfig.from_dict(name, raw, env), transport, clock)
    if kind == "wecom":
        return WecomChannel(WecomConfig.from_dict(name, raw, env), transport)
    if kind == "dingtalk":
        return DingTalkChannel(DingTalkConfig.from_dict(name, raw, env), transport, clock)
    if kind == "feishu":
        return FeishuChannel(FeishuConfig.from_dict(name, raw, env), transport, clock)
    if kind == "smtp":
        return SmtpChannel(SmtpConfig.from_dict(name, raw, env))
    if kind == "sms":
        # the generic HTTP provider's settings sit under "provider"; the template settings beside them
        provider_raw = raw.get("provider")
        if not isinstance(provider_raw, Mapping):
            raise ConfigError(f"channel {name}: provider (url, api_key_env) is required for sms")
        sms_raw = {k: v for k, v in raw.items() if k != "provider"}
        provider = HttpSmsProvider(HttpSmsConfig.from_dict(f"{name}.provider", provider_raw, env), transport, clock)
        return SmsChannel(SmsConfig.from_dict(name, sms_raw, env), provider)
    raise ConfigError(f"channel {name}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
