"""Tencent Cloud SMS (短信, API 3.0, `SendSms` version 2021-01-11), with httpx2.

One POST of JSON to `https://sms.tencentcloudapi.com/`, signed with TC3-HMAC-SHA256 (the
`Authorization` header over the method, path, the `content-type` and `host` headers and the
SHA-256 of the body, keyed by a key derived from the secret key, the UTC date and the
service). The template (TENCENT_SMS_TEMPLATE_ID) takes two parameters: the title and the text.

Answers: `{"Response": {"SendStatusSet": [{"SerialNo", "PhoneNumber", "Code": "Ok", ...}],
"RequestId"}}`; a refused request carries `{"Response": {"Error": {"Code", "Message"}}}`
instead, and a refused number its own `Code` in `SendStatusSet`. Secrets, numbers and texts
never reach a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx2
import structlog

from app.config import Settings
from app.sms.provider import SmsFailed, SmsText

log = structlog.get_logger()

SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
# A parameter of a notification template: longer values are refused by the template review.
PARAM_MAX = 200

# Error codes worth trying again later: Tencent's side or a short-term frequency limit.
RETRYABLE_PREFIXES = ("InternalError", "RequestLimitExceeded")
RETRYABLE_CODES = frozenset(
    {
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.DeliveryFrequencyLimit",
        "FailedOperation.JsonParseFail",
    }
)


def retryable(code: str) -> bool:
    return code in RETRYABLE_CODES or code.startswith(RETRYABLE_PREFIXES)


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    body: bytes,
    timestamp: int,
    service: str = SERVICE,
) -> str:
    """The `Authorization` header of a TC3-HMAC-SHA256 signed POST / with a JSON body."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host"
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )

    def _hmac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), day), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


class TencentSmsProvider:
    name = "tencent"

    def __init__(self, settings: Settings, transport: httpx2.BaseTransport | None = None) -> None:
        self._endpoint = settings.tencent_sms_endpoint.rstrip("/") + "/"
        self._host = urlsplit(self._endpoint).netloc
        self._secret_id = settings.tencent_sms_secret_id or ""
        self._secret_key = settings.tencent_sms_secret_key or ""
        self._app_id = settings.tencent_sms_sdk_app_id or ""
        self._sign_name = settings.tencent_sms_sign_name or ""
        self._template_id = settings.tencent_sms_template_id or ""
        self._region = settings.tencent_sms_region
        self._http = httpx2.Client(
            timeout=httpx2.Timeout(settings.sms_timeout_seconds),
            transport=transport,
            headers={"User-Agent": "wenming-dispatch"},
        )

    def close(self) -> None:
        self._http.close()

    def send(self, text: SmsText) -> str | None:
        request = {
            "PhoneNumberSet": [f"+86{text.phone}"],
            "SmsSdkAppId": self._app_id,
            "SignName": self._sign_name,
            "TemplateId": self._template_id,
            "TemplateParamSet": [text.title[:PARAM_MAX], text.body[:PARAM_MAX]],
            "SessionContext": text.reference[:500],
        }
        body = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Region": self._region,
            "X-TC-Timestamp": str(timestamp),
            "Authorization": tc3_authorization(
                secret_id=self._secret_id,
                secret_key=self._secret_key,
                host=self._host,
                body=body,
                timestamp=timestamp,
            ),
        }
        try:
            response = self._http.post(self._endpoint, content=body, headers=headers)
        except httpx2.TimeoutException:
            log.warning("sms.timeout", provider=self.name)
            raise SmsFailed("timeout", retryable=True) from None
        except httpx2.HTTPError as exc:
            log.warning("sms.unreachable", provider=self.name, error=type(exc).__name__)
            raise SmsFailed("unreachable", retryable=True) from None
        if response.status_code != 200:
            log.warning("sms.http_error", provider=self.name, status=response.status_code)
            raise SmsFailed(f"http_{response.status_code}", retryable=True)
        try:
            answer: Any = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            raise SmsFailed("unreadable_answer", retryable=True) from None
        if not isinstance(answer, dict):
            raise SmsFailed("unreadable_answer", retryable=True)
        error = answer.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code") or "Unknown")
            log.warning("sms.refused", provider=self.name, code=code)
            raise SmsFailed(code, retryable=retryable(code))
        statuses = answer.get("SendStatusSet")
        if (
            not isinstance(statuses, list)
            or len(statuses) != 1
            or not isinstance(statuses[0], dict)
        ):
            raise SmsFailed("unreadable_answer", retryable=True)
        status = statuses[0]
        code = str(status.get("Code") or "Unknown")
        if code != "Ok":
            log.warning("sms.number_refused", provider=self.name, code=code)
            raise SmsFailed(code, retryable=retryable(code))
        serial = status.get("SerialNo")
        return str(serial) if serial else None
