from app.errors import BadRequest, Conflict, NotFound


class OrgUnitNotFound(NotFound):
    code = "ORG_UNIT_NOT_FOUND"
    message = "单位不存在"


class OrgUnitCodeTaken(Conflict):
    code = "ORG_UNIT_CODE_TAKEN"
    message = "该区划代码已存在"


class InvalidOrgUnit(BadRequest):
    code = "INVALID_ORG_UNIT"
    message = "单位信息不符合要求"
