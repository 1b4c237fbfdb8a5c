"""Errors of service certificates."""

from __future__ import annotations

from app.errors import BadRequest, NotFound


class CertificateNotFound(NotFound):
    code = "CERTIFICATE_NOT_FOUND"
    message = "证明不存在或编号有误"


class NothingToCertify(BadRequest):
    code = "NOTHING_TO_CERTIFY"
    message = "该单位没有记录该志愿者的服务时长，无法出具证明"


class IssuingUnitRequired(BadRequest):
    code = "ISSUING_UNIT_REQUIRED"
    message = "请指定出具证明的单位"
