from app.errors import Conflict, NotFound


class UsernameTaken(Conflict):
    code = "USERNAME_TAKEN"
    message = "该用户名已被使用"


class RoleGrantNotFound(NotFound):
    code = "ROLE_GRANT_NOT_FOUND"
    message = "该角色授权不存在"


class LastAdmin(Conflict):
    code = "LAST_ADMIN"
    message = "这是最后一位在用的管理员：请先为他人授予管理员角色，再撤销或停用本账号"
