"""Errors of star awards and ladders."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, NotFound


class StarAwardNotFound(NotFound):
    code = "STAR_AWARD_NOT_FOUND"
    message = "星级认定记录不存在"


class StarAwardNotInNotice(Conflict):
    code = "STAR_AWARD_NOT_IN_NOTICE"
    message = "该星级认定已过公示期并生效，不能再提出异议"


class StarAwardAlreadyHeld(Conflict):
    code = "STAR_AWARD_ALREADY_HELD"
    message = "该星级认定已有异议正在处理"


class StarAwardRevoked(Conflict):
    code = "STAR_AWARD_REVOKED"
    message = "该星级认定已被撤销"


class StarObjectionDecided(Conflict):
    code = "STAR_OBJECTION_ALREADY_DECIDED"
    message = "该星级认定的异议已有处理结论，不能再次提出"


class StarAwardNotHeld(Conflict):
    code = "STAR_AWARD_NOT_HELD"
    message = "该星级认定没有待处理的异议"


class StarLadderInvalid(BadRequest):
    code = "STAR_LADDER_INVALID"
    message = "星级标准不正确：应为 1–10 个严格递增的正整数小时数，每一星级对应一个认定单位层级"
