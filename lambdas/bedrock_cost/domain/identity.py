"""Name the person or workload behind an IAM principal ARN: one rule for every clock.

Invocation logs (``identity.arn``, seconds late) and CUR 2.0 (``line_item_iam_principal``,
hours late) both carry the caller's ARN. Both reports group by ``user``; if each clock
derived ``user`` its own way, the same developer would show up under two names and the
per-user numbers could never be reconciled. So both call :func:`identify` and nothing else.

Usage::

    from bedrock_cost.domain.identity import identify

    who = identify("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0a1b/ana@example.com")
    who.user       # "ana@example.com"   -> the ``--by user`` key
    who.kind       # "person"
    who.account    # "111122223333"
    who.principal  # the ARN as given    -> the ``--by principal`` key

The rule, in order (first match wins):

==============================================  ===========  ===============================
principal                                       ``kind``     ``user``
==============================================  ===========  ===============================
NULL, empty, unparseable                        ``unknown``  ``(unknown)``
``arn:…:iam::<acct>:root``                      ``root``     ``root``
``arn:…:iam::<acct>:user/…/BedrockAPIKey-…``    ``api-key``  the IAM user name
``arn:…:iam::<acct>:user/…/<name>``             ``iam-user`` ``<name>``
``arn:…:sts::<acct>:federated-user/<name>``     ``person``   ``<name>``
``assumed-role/AWSReservedSSO_<set>_<h>/<s>``   ``person``   ``<s>`` (SSO user name/e-mail)
``assumed-role/<role>/<s>`` with ``<s>`` an     ``person``   ``<s>`` (Claude Code guidance
e-mail address                                               sets the session to the e-mail)
``assumed-role/<role>/<anything else>``         ``role``     ``<role>``
``arn:…:iam::<acct>:role/…/<role>``             ``role``     ``<role>``
``<service>.amazonaws.com``                     ``role``     the service principal
==============================================  ===========  ===============================

Why a non-SSO role with a non-e-mail session is named by its role: such sessions are
chosen by software, not people (``botocore-session-1712…``, EC2 instance ids
``i-0abc…``, Lambda function names, ECS task ids, UUIDs, numbers). Naming them by session
would split one workload into thousands of "users" (every Lambda cold start, every
instance replacement). The session is kept in :attr:`Identity.session` for drill-down.
E-mail addresses are lower-cased (they are case-insensitive and SSO and hand-set session
names disagree on case); every other name keeps its case, as IAM names are case-sensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

IdentityKind = Literal["person", "role", "iam-user", "api-key", "root", "unknown"]

UNKNOWN_USER: Final = "(unknown)"
"""The one bucket for records whose principal is missing or not an IAM ARN."""

API_KEY_USER_PREFIX: Final = "BedrockAPIKey-"
"""Bedrock long-term API keys are IAM users whose name starts with this."""

SSO_ROLE_PREFIX: Final = "AWSReservedSSO_"

_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$",
)
_EMAIL: Final = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")
_SERVICE_PRINCIPAL: Final = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is behind one principal ARN.

    ``user`` is the grouping key of ``--by user`` in every report; ``principal`` is the
    ARN exactly as the source gave it (``""`` when it gave none), the ``--by principal``
    key; ``account`` is the 12-digit account id or ``""`` when it cannot be read;
    ``session`` is the assumed-role session name (``""`` for other kinds).
    """

    user: str
    kind: IdentityKind
    account: str
    principal: str
    session: str = ""


def _unknown(principal: str, account: str = "") -> Identity:
    return Identity(user=UNKNOWN_USER, kind="unknown", account=account, principal=principal)


def _person_name(name: str) -> str:
    return name.lower() if _EMAIL.match(name) else name


def identify(principal: str | None) -> Identity:
    """Apply the rule in the module docstring; never raises, whatever the input."""
    if principal is None:
        return _unknown("")
    raw = principal.strip()
    if not raw:
        return _unknown("")
    if _SERVICE_PRINCIPAL.match(raw):
        return Identity(user=raw, kind="role", account="", principal=raw)
    match = _ARN.match(raw)
    if match is None:
        return _unknown(raw)
    account = match["account"]
    service = match["service"]
    parts = match["resource"].split("/")
    head, tail = parts[0], [p for p in parts[1:] if p]
    if service == "iam":
        if head == "root" and not tail:
            return Identity(user="root", kind="root", account=account, principal=raw)
        if head == "user" and tail:
            name = tail[-1]
            kind: IdentityKind = "api-key" if name.startswith(API_KEY_USER_PREFIX) else "iam-user"
            return Identity(user=name, kind=kind, account=account, principal=raw)
        if head == "role" and tail:
            return Identity(user=tail[-1], kind="role", account=account, principal=raw)
        return _unknown(raw, account)
    if head == "federated-user" and len(tail) == 1:
        return Identity(user=_person_name(tail[0]), kind="person", account=account, principal=raw)
    if head == "assumed-role" and len(tail) == 2:
        role, session = tail
        if role.startswith(SSO_ROLE_PREFIX) or _EMAIL.match(session):
            return Identity(user=_person_name(session), kind="person", account=account, principal=raw, session=session)
        return Identity(user=role, kind="role", account=account, principal=raw, session=session)
    return _unknown(raw, account)
