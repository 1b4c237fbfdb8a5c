"""The WeChat mini-program server APIs this service calls, with httpx2.

- `code_to_session`: `GET /sns/jscode2session` exchanges the one-time code of `wx.login` for
  the user's openid (and unionid when the mini-program is bound to an open-platform account).
  The `session_key` it also returns is dropped at once: nothing here needs it, and it is
  never stored or logged.
- `stable_token`: `POST /cgi-bin/stable_token`, the server's access token (see `tokens.py`
  for how every process shares one).
- `phone_number`: `POST /wxa/business/getuserphonenumber`, the phone number behind the code of
  the mini-program's phone-number button.
- `send_subscribe_message`: `POST /cgi-bin/message/subscribe/send`, one subscription message
  (one of the user's one-time subscriptions to that template is used up by it).

Every call is bounded by `WECHAT_TIMEOUT_SECONDS` (connect: `WECHAT_CONNECT_TIMEOUT_SECONDS`).
Requests and responses are logged by event name and errcode only: codes, secrets, tokens and
session keys never reach a log line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx2
import structlog

from app.config import Settings
from app.wechat.errors import (
    BY_ERRCODE,
    TOKEN_REJECTED,
    AccessTokenRejected,
    PhoneNotMainland,
    SubscribeMessageFailed,
    WechatBadResponse,
    WechatNotConfigured,
    WechatUnavailable,
)

log = structlog.get_logger()

MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True)
class WechatIdentity:
    openid: str
    unionid: str | None


@dataclass(frozen=True)
class StableToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class PhoneInfo:
    phone: str  # mainland number without the country code, e.g. 13812345678


class WechatClient:
    def __init__(self, settings: Settings, transport: httpx2.BaseTransport | None = None) -> None:
        self.app_id = settings.wechat_app_id or ""
        self._secret = settings.wechat_app_secret or ""
        self.configured = settings.wechat_configured
        self._http = httpx2.Client(
            base_url=settings.wechat_api_base.rstrip("/"),
            timeout=httpx2.Timeout(
                settings.wechat_timeout_seconds, connect=settings.wechat_connect_timeout_seconds
            ),
            transport=transport,
            headers={"User-Agent": "wenming-dispatch"},
        )

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ the APIs

    def code_to_session(self, code: str) -> WechatIdentity:
        body = self._call(
            "jscode2session",
            "GET",
            "/sns/jscode2session",
            params={
                "appid": self.app_id,
                "secret": self._secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
        )
        self._raise_for_errcode("jscode2session", body)
        openid, unionid = body.get("openid"), body.get("unionid")
        body.pop("session_key", None)
        if not isinstance(openid, str) or not 0 < len(openid) <= 64:
            raise WechatBadResponse()
        if unionid is not None and (not isinstance(unionid, str) or not 0 < len(unionid) <= 64):
            raise WechatBadResponse()
        return WechatIdentity(openid=openid, unionid=unionid or None)

    def stable_token(self, *, force_refresh: bool = False) -> StableToken:
        body = self._call(
            "stable_token",
            "POST",
            "/cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": self.app_id,
                "secret": self._secret,
                "force_refresh": force_refresh,
            },
        )
        self._raise_for_errcode("stable_token", body)
        token, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WechatBadResponse()
        if len(token) > 1024 or expires_in <= 0:
            raise WechatBadResponse()
        return StableToken(access_token=token, expires_in=expires_in)

    def phone_number(self, code: str, *, access_token: str) -> PhoneInfo:
        body = self._call(
            "getuserphonenumber",
            "POST",
            "/wxa/business/getuserphonenumber",
            params={"access_token": access_token},
            json={"code": code},
        )
        if body.get("errcode") in TOKEN_REJECTED:
            raise AccessTokenRejected()
        self._raise_for_errcode("getuserphonenumber", body)
        info = body.get("phone_info")
        if not isinstance(info, dict):
            raise WechatBadResponse()
        watermark = info.get("watermark")
        if not isinstance(watermark, dict) or watermark.get("appid") != self.app_id:
            log.error("wechat.watermark_mismatch")
            raise WechatBadResponse()
        # The documentation shows countryCode as a number; WeChat sends a string. Take both.
        country = str(info.get("countryCode", "")).lstrip("+")
        pure = info.get("purePhoneNumber")
        if country != "86":
            raise PhoneNotMainland()
        if not isinstance(pure, str) or not MAINLAND_MOBILE.match(pure):
            raise PhoneNotMainland()
        return PhoneInfo(phone=pure)

    def send_subscribe_message(
        self,
        *,
        access_token: str,
        openid: str,
        template_id: str,
        data: dict[str, str],
        page: str | None,
        state: str = "formal",
        lang: str = "zh_CN",
    ) -> str | None:
        """Send one subscription message; WeChat's `msgid` on success. Raises
        `AccessTokenRejected` (refresh and retry), `SubscribeMessageFailed` (an errcode) or a
        `WechatError` (unreachable, timeout, unreadable answer)."""
        request: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
            "miniprogram_state": state,
            "lang": lang,
        }
        if page:
            request["page"] = page
        body = self._call(
            "subscribe_send",
            "POST",
            "/cgi-bin/message/subscribe/send",
            params={"access_token": access_token},
            json=request,
        )
        errcode = body.get("errcode", 0)
        if errcode in TOKEN_REJECTED:
            raise AccessTokenRejected()
        if errcode not in (0, None):
            log.warning("wechat.errcode", api="subscribe_send", errcode=errcode)
            raise SubscribeMessageFailed(errcode if isinstance(errcode, int) else 0)
        msgid = body.get("msgid")
        return str(msgid) if isinstance(msgid, int | str) and str(msgid) else None

    # ------------------------------------------------------------ plumbing

    def _call(self, api: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if not self.configured:
            raise WechatNotConfigured()
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx2.TimeoutException:
            log.warning("wechat.timeout", api=api)
            raise WechatUnavailable() from None
        except httpx2.HTTPError as exc:
            log.warning("wechat.unreachable", api=api, error=type(exc).__name__)
            raise WechatUnavailable() from None
        if response.status_code != 200:
            log.warning("wechat.http_error", api=api, status=response.status_code)
            raise WechatUnavailable()
        try:
            # WeChat answers JSON, sometimes labelled text/plain.
            body = response.json()
        except ValueError:
            log.warning("wechat.unreadable_body", api=api)
            raise WechatUnavailable() from None
        if not isinstance(body, dict):
            raise WechatUnavailable()
        return body

    @staticmethod
    def _raise_for_errcode(api: str, body: dict[str, Any]) -> None:
        errcode = body.get("errcode", 0)
        if errcode in (0, None):
            return
        log.warning("wechat.errcode", api=api, errcode=errcode)
        known = BY_ERRCODE.get(errcode) if isinstance(errcode, int) else None
        if known is not None:
            raise known()
        # 40013 invalid appid, 40125 invalid secret, 41002…: our configuration, not the user.
        log.error("wechat.unexpected_errcode", api=api, errcode=errcode)
        raise WechatUnavailable()
