"""Sign-in flows. Each runs synchronously on a worker thread and opens its own short
transactions: nothing slow (password hashing, calls to WeChat) happens while a transaction is
open, so a sign-in never holds the database's write lock (SQLite's) while it hashes or waits.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.errors import (
    AccountDisabled,
    BadCredentials,
    PhoneAccountNotEmpty,
    PhoneTaken,
    RefreshTokenReused,
    WeakPassword,
    WrongCurrentPassword,
)
from app.auth.schemas import PhoneBindOut, TokenOut
from app.auth.security import hash_password, verify_password
from app.auth.sessions import (
    RevokeReason,
    end_user_sessions,
    open_session,
    revoke_session,
    rotate,
)
from app.auth.throttle import LoginThrottle
from app.auth.users import ensure_role, find_or_create_resident, set_password, user_by_phone
from app.auth.views import me_out, token_out
from app.config import Settings
from app.db import Database
from app.models import AuthSession, Consent, User, Volunteer, Wish, WishEventRecord
from app.models.enums import AccountRole, SessionKind
from app.wechat.client import WechatClient, WechatIdentity
from app.wechat.tokens import with_access_token

log = structlog.get_logger()


@contextmanager
def write(database: Database) -> Iterator[Session]:
    with database.session(write=True) as session, session.begin():
        yield session


@contextmanager
def read(database: Database) -> Iterator[Session]:
    with database.session(write=False) as session:
        yield session


# ---------------------------------------------------------------- staff


def staff_login(
    *,
    database: Database,
    settings: Settings,
    throttle: LoginThrottle,
    username: str,
    password: str,
    ip: str,
) -> TokenOut:
    """Check a password (the caller has already passed `throttle.before_password`)."""
    with read(database) as session:
        found = session.execute(
            select(User.id, User.password_hash, User.is_active).where(User.username == username)
        ).one_or_none()
    # Outside any transaction: Argon2 takes tens of milliseconds of CPU.
    ok = verify_password(password, found.password_hash if found else None)
    if not ok or found is None:
        throttle.password_failed(username=username, ip=ip)
        log.info("auth.login_failed", reason="bad_credentials")
        raise BadCredentials()
    if not found.is_active:
        raise AccountDisabled()
    throttle.password_succeeded(username=username, ip=ip)
    with write(database) as session:
        tokens = open_session(
            session=session, user_id=found.id, kind=SessionKind.STAFF, settings=settings
        )
        out = token_out(session, tokens)
    log.info("auth.login", kind="staff", user_id=found.id)
    return out


PASSWORD_RULE = (
    "at least 10 characters, at most 128, letters and digits both, at least 5 different "
    "characters, not containing the username, not the current password"
)


def check_strength(password: str, *, username: str | None, current: str | None) -> None:
    """The house rule for passwords people choose (see PASSWORD_RULE)."""
    weak = (
        len(password) < 10
        or len(password) > 128
        or not re.search(r"[A-Za-z]", password)
        or not re.search(r"\d", password)
        or len(set(password)) < 5
        or (username is not None and username.lower() in password.lower())
        or (current is not None and password == current)
    )
    if weak:
        raise WeakPassword()


def change_password(
    *,
    database: Database,
    user_id: int,
    session_id: int,
    current_password: str,
    new_password: str,
) -> None:
    with read(database) as session:
        found = session.execute(
            select(User.password_hash, User.username).where(User.id == user_id)
        ).one()
    if not verify_password(current_password, found.password_hash):
        raise WrongCurrentPassword()
    check_strength(new_password, username=found.username, current=current_password)
    new_hash = hash_password(new_password)
    with write(database) as session:
        set_password(
            session=session,
            user_id=user_id,
            password_hash=new_hash,
            must_change=False,
            keep_session_id=session_id,
        )
    log.info("auth.password_changed", user_id=user_id)


_TEMPORARY_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def temporary_password() -> str:
    """12 characters from an unambiguous alphabet (about 70 bits), letters and digits both."""
    while True:
        candidate = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
        if re.search(r"[A-Za-z]", candidate) and re.search(r"\d", candidate):
            return candidate


# ---------------------------------------------------------------- sessions


def refresh(*, database: Database, settings: Settings, refresh_token: str) -> TokenOut:
    session = database.session(write=True)
    try:
        try:
            tokens = rotate(session=session, refresh_token=refresh_token, settings=settings)
        except RefreshTokenReused:
            # The revocation must stand although the request fails.
            session.commit()
            log.warning("auth.refresh_reused")
            raise
        out = token_out(session, tokens)
        session.commit()
        return out
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def logout(*, database: Database, session_id: int) -> None:
    with write(database) as session:
        row = session.get(AuthSession, session_id)
        if row is not None:
            revoke_session(session=session, auth_session=row, reason=RevokeReason.LOGOUT)


# ---------------------------------------------------------------- consumers


def dev_login(*, database: Database, settings: Settings, phone: str, name: str | None) -> TokenOut:
    with write(database) as session:
        user = find_or_create_resident(session=session, phone=phone, name=name)
        if not user.is_active:
            raise AccountDisabled()
        tokens = open_session(
            session=session, user_id=user.id, kind=SessionKind.CONSUMER, settings=settings
        )
        return token_out(session, tokens)


def _by_identity(session: Session, identity: WechatIdentity) -> User | None:
    if identity.unionid is not None:
        user = session.scalars(
            select(User).where(User.wechat_unionid == identity.unionid)
        ).one_or_none()
        if user is not None:
            return user
    return session.scalars(select(User).where(User.wechat_openid == identity.openid)).one_or_none()


def _find_or_create_wechat_user(session: Session, identity: WechatIdentity) -> tuple[User, bool]:
    user = _by_identity(session, identity)
    if user is not None:
        # Fill in what WeChat tells now and did not before (a unionid after the mini-program
        # was bound to an open-platform account).
        if user.wechat_openid is None:
            user.wechat_openid = identity.openid
        if identity.unionid is not None and user.wechat_unionid is None:
            user.wechat_unionid = identity.unionid
        session.flush()
        return user, False
    try:
        with session.begin_nested():
            user = User(
                name=f"微信用户{identity.openid[-4:]}",
                wechat_openid=identity.openid,
                wechat_unionid=identity.unionid,
            )
            session.add(user)
            session.flush()
    except IntegrityError:
        # The same person signing in twice at once: the other request created the account.
        found = _by_identity(session, identity)
        assert found is not None
        return found, False
    ensure_role(session=session, user_id=user.id, role=AccountRole.RESIDENT)
    return user, True


def wechat_login(
    *,
    database: Database,
    settings: Settings,
    client: WechatClient,
    code: str,
) -> TokenOut:
    """Sign in with a wx.login code (the caller has already passed `throttle.before_wechat`)."""
    identity = client.code_to_session(code)  # outside any transaction
    with write(database) as session:
        user, created = _find_or_create_wechat_user(session, identity)
        if not user.is_active:
            raise AccountDisabled()
        tokens = open_session(
            session=session, user_id=user.id, kind=SessionKind.CONSUMER, settings=settings
        )
        out = token_out(session, tokens)
    out.is_new_account = created
    log.info("auth.login", kind="consumer", user_id=user.id, new=created)
    return out


def holds_nothing(session: Session, user_id: int) -> bool:
    """An account made by a WeChat sign-in that has done nothing yet."""
    checks = (
        exists().where((Wish.requester_id == user_id) | (Wish.proxy_id == user_id)),
        exists().where(Volunteer.user_id == user_id),
        exists().where(Consent.user_id == user_id),
        exists().where(WishEventRecord.actor_id == user_id),
    )
    return not any(session.scalar(select(check)) for check in checks)


def bind_phone(
    *,
    database: Database,
    settings: Settings,
    client: WechatClient,
    user_id: int,
    code: str,
) -> PhoneBindOut:
    """Bind the phone number behind `code` to the caller's account; when the number belongs
    to an account without a WeChat identity, that account takes this identity instead."""
    phone = with_access_token(
        database, client, lambda token: client.phone_number(code, access_token=token)
    ).phone
    with write(database) as session:
        me = session.get(User, user_id)
        assert me is not None
        if me.phone == phone:
            return PhoneBindOut(merged=False, user=me_out(session, me, SessionKind.CONSUMER))
        holder = user_by_phone(session, phone)
        if holder is None:
            me.phone = phone
            session.flush()
            log.info("auth.phone_bound", user_id=me.id)
            return PhoneBindOut(merged=False, user=me_out(session, me, SessionKind.CONSUMER))
        if holder.wechat_openid is not None or holder.wechat_unionid is not None:
            raise PhoneTaken()
        if not holder.is_active:
            raise AccountDisabled("该手机号所属账号已停用，请联系工作人员")
        if not holds_nothing(session, me.id):
            raise PhoneAccountNotEmpty()
        # The phone's account (made by proxy ordering or the development login) is the
        # person's real account: it takes this WeChat identity, the empty one retires.
        openid, unionid = me.wechat_openid, me.wechat_unionid
        me.wechat_openid = None
        me.wechat_unionid = None
        me.is_active = False
        session.flush()
        holder.wechat_openid = openid
        holder.wechat_unionid = unionid
        session.flush()
        ensure_role(session=session, user_id=holder.id, role=AccountRole.RESIDENT)
        end_user_sessions(session=session, user_id=me.id, reason=RevokeReason.ACCOUNT_MERGED)
        tokens = open_session(
            session=session, user_id=holder.id, kind=SessionKind.CONSUMER, settings=settings
        )
        log.info("auth.account_merged", retired=me.id, into=holder.id)
        out = token_out(session, tokens)
        return PhoneBindOut(merged=True, user=out.user, tokens=out)
