from app.errors import AppError, BadRequest, NotFound


class ImportNotFound(NotFound):
    code = "IMPORT_NOT_FOUND"
    message = "导入记录不存在"


class NotAnXlsx(BadRequest):
    code = "IMPORT_NOT_XLSX"
    message = "文件不是有效的 Excel（.xlsx）文件，请用下载的模板填写后上传"


class ImportFileTooLarge(AppError):
    status_code = 413
    code = "IMPORT_FILE_TOO_LARGE"
    message = "导入文件过大"


class TooManyRows(AppError):
    status_code = 413
    code = "IMPORT_TOO_MANY_ROWS"
    message = "导入文件行数过多，请分成几个文件上传"


class BadHeader(BadRequest):
    code = "IMPORT_BAD_HEADER"
    message = "表头与模板不符：缺少必填列，请使用下载的模板"


class EmptyImport(BadRequest):
    code = "IMPORT_EMPTY"
    message = "文件中没有可导入的数据行"
