from app.errors import Conflict, NotFound


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"
    message = "用户不存在"


class UsernameTaken(Conflict):
    code = "USERNAME_TAKEN"
    message = "该用户名已被使用"


class RoleGrantNotFound(NotFound):
    code = "ROLE_GRANT_NOT_FOUND"
    message = "该角色授权不存在"
