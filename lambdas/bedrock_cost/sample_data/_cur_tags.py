"""Who the synthetic rows belong to: tags, inference-profile tags and IAM callers.

Tags arrive in CUR in many shapes (``user_team`` and ``user:team`` keys, the ``tags``
map's ``resourceTags/user:team``, empty maps, NULL, empty or blank values, padded
values). Reports must treat each one right, so the generator emits all of them, with
weights, from the fixed list built here. A row billed through an application inference
profile carries that profile's tags, as it does once profile tags are activated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

TEAMS: Final[tuple[tuple[str, float], ...]] = (
    ("ml-platform", 0.30),
    ("search", 0.20),
    ("support-bot", 0.15),
    ("data-science", 0.15),
    ("marketing", 0.10),
    ("risk", 0.10),
)
PROJECTS: Final = ("chat-assistant", "doc-summariser", "code-review", "fraud-scoring", "rag-search")
ENVIRONMENTS: Final = ("prod", "staging", "dev")


@dataclass(frozen=True)
class TagVariant:
    """What one row carries in ``resource_tags`` and ``tags``, and why (``kind``)."""

    kind: str
    resource_tags: dict[str, str] | None
    tags: dict[str, str] | None
    weight: float


# kind -> share of rows that are not billed through an inference profile
TAG_KIND_SHARES: Final[dict[str, float]] = {
    "underscore": 0.44,  # user_team / user_project / user_environment
    "principal-only": 0.04,  # no resource tags; tags['iamPrincipal/team'] from the calling role
    "resource-over-principal": 0.02,  # resource tag and a different principal tag: the resource wins
    "resource-tags-bare": 0.01,  # tags['resourceTags/team'] (the table dictionary's spelling)
    "underscore+tags": 0.08,  # same, plus tags['resourceTags/user:team']
    "colon": 0.08,  # user:team style keys
    "team-in-tags-only": 0.05,  # team only under tags['resourceTags/user:team']
    "padded": 0.02,  # ' search ' -> trimmed by reports
    "no-team": 0.04,  # project/environment but no team
    "empty-value": 0.02,  # user_team = ''
    "whitespace-value": 0.02,  # user_team = '   '
    "other-keys": 0.02,  # only keys reports don't group by
    "empty-map": 0.05,  # {}
    "null-map": 0.11,  # NULL
}


def _team_tags(style: str, team: str, project: str, env: str) -> dict[str, str]:
    sep = ":" if style == "colon" else "_"
    return {f"user{sep}team": team, f"user{sep}project": project, f"user{sep}environment": env}


@lru_cache(maxsize=1)
def tag_variants() -> tuple[TagVariant, ...]:
    """Every tag combination a row may carry, with weights summing to 1."""
    variants: list[TagVariant] = []
    combos = [(team, team_w, project, env) for team, team_w in TEAMS for project in PROJECTS for env in ENVIRONMENTS]
    per_combo = 1.0 / (len(PROJECTS) * len(ENVIRONMENTS))
    for kind, share in TAG_KIND_SHARES.items():
        if kind in {"empty-map", "null-map", "other-keys"}:
            resource_tags: dict[str, str] | None = {
                "empty-map": {},
                "null-map": None,
                "other-keys": {"user_cost_center": "cc-4410", "user_owner": "platform@example.com"},
            }[kind]
            variants.append(TagVariant(kind, resource_tags, None, share))
            continue
        for team, team_w, project, env in combos:
            weight = share * team_w * per_combo
            tags: dict[str, str] | None = None
            if kind == "underscore":
                resource_tags = _team_tags("underscore", team, project, env)
            elif kind == "underscore+tags":
                resource_tags = _team_tags("underscore", team, project, env)
                tags = {"resourceTags/user:team": team, "accountTag/cost-center": "cc-4410"}
            elif kind == "colon":
                resource_tags = _team_tags("colon", team, project, env)
            elif kind == "principal-only":
                resource_tags = None
                tags = {"iamPrincipal/team": team, "iamPrincipal/project": project}
            elif kind == "resource-over-principal":
                resource_tags = _team_tags("underscore", team, project, env)
                other = TEAMS[(TEAMS.index((team, team_w)) + 1) % len(TEAMS)][0]
                tags = {"resourceTags/user:team": team, "iamPrincipal/team": other}
            elif kind == "resource-tags-bare":
                resource_tags = None
                tags = {"resourceTags/team": team, "resourceTags/project": project, "resourceTags/environment": env}
            elif kind == "team-in-tags-only":
                resource_tags = {"user_project": project, "user_environment": env}
                tags = {"resourceTags/user:team": team}
            elif kind == "padded":
                resource_tags = _team_tags("underscore", f" {team} ", project, env)
            elif kind == "no-team":
                resource_tags = {"user_project": project, "user_environment": env}
            elif kind == "empty-value":
                resource_tags = _team_tags("underscore", "", project, env)
            else:  # whitespace-value
                resource_tags = _team_tags("underscore", "   ", project, env)
            variants.append(TagVariant(kind, resource_tags, tags, weight))
    return tuple(variants)


def profile_tag_variant_index(profile_number: int) -> int:
    """The tags an inference profile carries: fixed per profile, as in a real account.

    Most profiles carry the three tags; every 11th uses ``user:`` keys and every 13th
    (offset 5) is an untagged profile, the case tag governance exists to catch.
    """
    variants = tag_variants()
    if profile_number % 13 == 5:
        kind = "null-map"
        return next(i for i, v in enumerate(variants) if v.kind == kind)
    kind = "colon" if profile_number % 11 == 0 else "underscore"
    team = TEAMS[profile_number % len(TEAMS)][0]
    project = PROJECTS[(profile_number // 2) % len(PROJECTS)]
    env = ENVIRONMENTS[profile_number % len(ENVIRONMENTS)]
    wanted = _team_tags(kind, team, project, env)
    return next(i for i, v in enumerate(variants) if v.kind == kind and v.resource_tags == wanted)


PRINCIPALS_PER_ACCOUNT: Final = 4


def principals(account: str) -> tuple[str, ...]:
    """IAM callers seen in one account (``PRINCIPALS_PER_ACCOUNT`` of them)."""
    callers = (
        f"arn:aws:iam::{account}:role/bedrock-invoker",
        f"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_Developer_0a1b2c3d4e5f/alice@example.com",
        f"arn:aws:iam::{account}:user/BedrockAPIKey-ci7q",
        f"arn:aws:sts::{account}:assumed-role/chat-api-lambda-role/chat-api",
    )
    assert len(callers) == PRINCIPALS_PER_ACCOUNT
    return callers
