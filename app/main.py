"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from app import wiring as _wiring  # noqa: F401 - every domain's handlers registered
from app.accounts.router import password_router as accounts_password_router
from app.accounts.router import router as accounts_router
from app.accounts.router import unit_router as accounts_unit_router
from app.activities.router import router as activities_router
from app.attendance.router import router as attendance_router
from app.auth.cache import principal_cache, revocation_feed
from app.auth.router import dev_router as dev_auth_router
from app.auth.router import router as auth_router
from app.auth.security import configure_hashing
from app.auth.throttle import LoginThrottle
from app.auth.wechat_router import router as wechat_auth_router
from app.catalogue.router import router as catalogue_router
from app.config import Settings, get_settings
from app.console.router import router as console_router
from app.db import Admission, Database, make_engine
from app.delivery.engine import Deliverer
from app.delivery.router import router as delivery_router
from app.dispatch.batch.router import router as batch_dispatch_router
from app.dispatch.candidates_router import router as candidates_router
from app.errors import error_body, install_error_handlers
from app.exports.router import router as exports_router
from app.heavy import HeavyWork
from app.imports.router import UPLOAD_PATH
from app.imports.router import router as imports_router
from app.jobs.scheduler import Scheduler
from app.logging import configure_logging
from app.middleware import BodySizeLimit, RequestContext, SettingsInUse
from app.notifications.router import router as notifications_router
from app.openapi import install_openapi, operation_id
from app.org_units.router import router as org_units_router
from app.pairings.router import router as pairings_router
from app.privacy.router import router as privacy_router
from app.push.router import router as push_router
from app.records.certificates.router import router as certificates_router
from app.records.honour.router import router as honour_router
from app.records.hours.router import router as records_router
from app.records.points.router import router as points_router
from app.records.stars.router import router as stars_router
from app.rights.router import router as rights_router
from app.routing import make_router
from app.rules.router import router as rules_router
from app.seasons.router import router as seasons_router
from app.stats.ranking_router import router as ranking_router
from app.stats.router import router as stats_router
from app.teams.router import router as teams_router
from app.volunteers.router import router as volunteers_router
from app.webhooks.router import router as webhooks_router
from app.wechat.client import WechatClient
from app.wishes.me_router import router as wishes_me_router
from app.wishes.router import router as wishes_router

API_PREFIX = "/api/v1"
UPLOAD_FRAMING_BYTES = 64_000

DESCRIPTION = """
新时代文明实践志愿服务派单系统：**群众点单 → 中心派单 → 志愿者接单 → 群众评单**。

- 错误统一为 `{"error": {"code", "message", "details"}}`，`code` 稳定，`message` 为中文。
- 认证：`Authorization: Bearer <access_token>`。居民与志愿者在小程序中以微信登录
  （`/auth/wechat/login`），协调员与管理员以用户名密码登录（`/auth/login`）；access_token 短期有效，
  以 `/auth/refresh` 换新。开发环境另有 `/auth/dev-login`（正式环境没有）。
- 派单只是邀请：只有志愿者本人接单，心愿才成为其任务（《志愿服务条例》第二十五条）。
- **坐标系**：所有响应中的经纬度均为 **GCJ-02**（国测局坐标，国内地图与小程序 `map` 组件所用）。
  凡带经纬度的请求（点单、志愿者注册与修改、签到签退、按位置查找站点、单位新增与修改）
  都有 `coord_system` 字段（查询参数同名）：`gcj02`（默认）或 `wgs84`（`wx.getLocation`
  默认返回、GPS 原始坐标）；服务端把 WGS-84 换算为 GCJ-02 后保存。两者在安吉一带相差约
  500 米，与签到范围相当：用 `wx.getLocation` 默认结果时务必传 `"coord_system": "wgs84"`，
  或调用时指定 `type: 'gcj02'`。
- **位置隐私**：志愿者在接单前只看到心愿所在约 1 公里网格的中心点和距离档位（`distance.band`：
  `lt_1km`、`km_1_3`、`km_3_5`、`km_5_10`、`gt_10km`），能否看到、能否抢单、列表顺序也只按该点计算；
  接单后才可见确切位置。志愿者修改常住地点有次数限制并留有记录（超出时 `429` 与 `Retry-After`）。
- 文本字段拒绝控制字符和不可见的格式控制字符（文字方向控制符、零宽字符等），组合表情符号除外。
"""


def api_router(settings: Settings) -> APIRouter:
    api = make_router(prefix=API_PREFIX)
    if settings.dev_login_enabled:
        api.include_router(dev_auth_router)
    for router in (
        auth_router,
        wechat_auth_router,
        accounts_password_router,
        accounts_router,
        org_units_router,
        accounts_unit_router,
        catalogue_router,
        seasons_router,
        volunteers_router,
        wishes_router,
        attendance_router,
        wishes_me_router,
        activities_router,
        notifications_router,
        candidates_router,
        rules_router,
        batch_dispatch_router,
        records_router,
        stars_router,
        honour_router,
        points_router,
        certificates_router,
        privacy_router,
        rights_router,
        push_router,
        delivery_router,
        webhooks_router,
        exports_router,
        imports_router,
        stats_router,
        ranking_router,
        teams_router,
        pairings_router,
    ):
        api.include_router(router)
    return api


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(json=settings.log_json)
    owns_database = database is None
    database = database or Database(make_engine(settings.database_url, settings))

    # The embedded default runs the timers and the deliveries in threads of this process.
    scheduler = (
        Scheduler(database, interval=settings.scheduler_interval_seconds, settings=settings)
        if settings.scheduler_enabled
        else None
    )
    deliverers = (
        [Deliverer(database, settings=settings) for _ in range(settings.delivery_concurrency)]
        if settings.scheduler_enabled
        else []
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.wechat = WechatClient(settings)
        if scheduler is not None:
            scheduler.start()
        for deliverer in deliverers:
            deliverer.start()
        yield
        for deliverer in deliverers:
            deliverer.request_stop()
        if scheduler is not None:
            scheduler.stop()
        for deliverer in deliverers:
            deliverer.stop()
        app.state.wechat.close()
        if owns_database:
            database.engine.dispose()

    # Swagger UI and ReDoc from the package's own files: county intranets often have no internet.
    app = FastAPIOffline(
        title="文明实践志愿服务派单 API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.admission = Admission(sessions=settings.db_sessions)
    app.state.heavy = HeavyWork(
        slots=settings.heavy_requests, per_user=settings.heavy_requests_per_user
    )
    app.state.api_prefix = API_PREFIX
    app.state.throttle = LoginThrottle(settings)
    configure_hashing(settings.password_hash_concurrency)
    principal_cache.configure(settings.principal_cache_seconds)
    revocation_feed.configure(settings.revocation_poll_seconds)
    install_error_handlers(app)
    app.include_router(api_router(settings))
    app.include_router(console_router)
    install_openapi(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers. Touches nothing else."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Readiness: the database answers and its schema is at the migrations' head."""
        report = readiness(app.state.database)
        if report["ready"]:
            return JSONResponse({"status": "ready", **report["checks"]})
        return JSONResponse(
            status_code=503,
            content=error_body("NOT_READY", "服务尚未就绪", report["checks"]),
        )

    # An uploaded sheet may be larger than any other body (multipart framing on top).
    uploads = [(API_PREFIX + UPLOAD_PATH, settings.import_max_bytes + UPLOAD_FRAMING_BYTES)]
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes, larger=uploads)
    app.add_middleware(RequestContext)
    app.add_middleware(SettingsInUse, settings=settings)
    return app


def readiness(database: Database) -> dict[str, Any]:
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from app.migrate import alembic_config

    checks: dict[str, Any] = {}
    try:
        heads = sorted(
            ScriptDirectory.from_config(alembic_config(str(database.engine.url))).get_heads()
        )
    except Exception as exc:
        checks["migrations"] = f"unknown: {type(exc).__name__}"
        heads = None
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                current = sorted(
                    conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
                )
            except Exception:
                current = []
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        return {"ready": False, "checks": checks}
    if heads is not None:
        checks["migrations"] = {"current": current, "head": heads}
    ready = heads is not None and current == heads
    return {"ready": ready, "checks": checks}
