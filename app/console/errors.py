from __future__ import annotations

from app.errors import NotFound


class AssetNotFound(NotFound):
    code = "ASSET_NOT_FOUND"
    message = "控制台文件不存在"
