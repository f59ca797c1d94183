"""SMS as an interface: carriers in China send only pre-approved templates, filled with variables.

``SmsChannel`` picks the template code configured for the event kind, fills its variables from the
notification's facts (each cut to the provider's length limit) and hands them to an ``SmsProvider``
for every recipient's mobile. ``HttpSmsProvider`` is a generic JSON-over-HTTP provider signed like our
webhook (used by the tests and by gateways that speak it); a vendor SDK would be another provider in
an optional extra. The generic answer codes follow the common pattern of Chinese SMS gateways: ``OK``;
``isv.BUSINESS_LIMIT_CONTROL`` (throttled) retries later; a bad signature, template or number is permanent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .config import ConfigError, Settings
from .message import Notification
from .outcome import Delivered, Outcome, Permanent, RetryLater
from .transport import Transport, classify_status, json_bytes
from .webhook import signature_header

SIGNATURE_HEADER = "X-Sms-Signature"
RETRY_CODES = {"isv.BUSINESS_LIMIT_CONTROL": "throttled", "SYSTEM_BUSY": "provider busy"}
VARIABLES = ("case_id", "process", "state", "deadline", "role", "due", "step")


class SmsProvider(Protocol):
    def send_template(
        self,
        phone_numbers: Sequence[str],
        sign_name: str,
        template_code: str,
        variables: Mapping[str, str],
        delivery_id: str,
    ) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class SmsConfig:
    sign_name: str  # the approved signature shown in the text, e.g. 【某物业】
    templates: dict[str, str]  # event kind -> pre-approved template code
    max_variable_chars: int = 20
    variables: tuple[str, ...] = VARIABLES

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> SmsConfig:
        s = Settings(name, raw, env)
        templates = s.mapping("templates")
        if not templates:
            raise ConfigError(f"channel {name}: templates must map event kinds to approved template codes")
        config = cls(
            sign_name=s.text("sign_name"),
            templates=templates,
            max_variable_chars=int(s.number("max_variable_chars", 20)),
        )
        s.done()
        return config


def template_variables(n: Notification, config: SmsConfig) -> dict[str, str]:
    cut = config.max_variable_chars
    return {k: (v if len(v) <= cut else v[: cut - 1] + "…") for k, v in n.facts.items() if k in config.variables}


class SmsChannel:
    kind = "sms"

    def __init__(self, config: SmsConfig, provider: SmsProvider) -> None:
        self.config, self._provider = config, provider

    def send(self, notification: Notification) -> Outcome:
        template = self.config.templates.get(notification.kind)
        if template is None:
            return Permanent(f"no approved SMS template for {notification.kind}")
        phones = notification.contacts("mobile")
        if not phones:
            return Permanent("no recipient has a mobile number")
        variables = template_variables(notification, self.config)
        return self._provider.send_template(
            phones, self.config.sign_name, template, variables, notification.delivery_id
        )


@dataclass(frozen=True, slots=True)
class HttpSmsConfig:
    url: str
    api_key: str

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> HttpSmsConfig:
        s = Settings(name, raw, env)
        config = cls(url=s.text("url"), api_key=s.secret("api_key") or "")
        s.done()
        return config


class HttpSmsProvider:
    """POST ``{sign_name, template_code, template_param, phone_numbers}``, signed with the API key."""

    def __init__(self, config: HttpSmsConfig, transport: Transport, clock: Callable[[], float]) -> None:
        self.config, self._transport, self._clock = config, transport, clock

    def send_template(
        self,
        phone_numbers: Sequence[str],
        sign_name: str,
        template_code: str,
        variables: Mapping[str, str],
        delivery_id: str,
    ) -> Outcome:
        body = json_bytes(
            {
                "sign_name": sign_name,
                "template_code": template_code,
                "template_param": dict(variables),
                "phone_numbers": list(phone_numbers),
                "out_id": delivery_id,
            }
        )
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(self.config.api_key, int(self._clock()), body),
        }
        reply = self._transport.post(self.config.url, body, headers)
        if isinstance(reply, RetryLater):
            return reply
        status = classify_status(reply)
        answer = reply.json()
        if answer is None or "code" not in answer:
            return status if not isinstance(status, Delivered) else RetryLater("answer has no code")
        code = answer.get("code")
        if code == "OK":
            return Delivered(str(answer.get("biz_id", "")))
        reason = f"code {code}: {answer.get('message', '')}"
        if code in RETRY_CODES:
            return RetryLater(reason, reply.retry_after or 60.0)
        return Permanent(reason)
