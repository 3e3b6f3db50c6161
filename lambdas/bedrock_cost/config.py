"""Typed deployment configuration (DESIGN §4.3).

The same model is read by ``app.py`` at synth time (from ``cdk.json`` context or a YAML
file named there) and by the CLI. It is strict: unknown fields are errors, so a typo in
a key fails ``cdk synth`` with the field's path instead of being silently ignored.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bedrock_cost.glue_names import GLUE_NAME_PATTERN
from bedrock_cost.tag_key_option import SQL_SAFE_TAG_KEY_RE

CONTEXT_KEY = "bedrock-cost-tracker"
"""Key under ``context`` in ``cdk.json`` holding the config (inline) or ``{"config_file": ...}``."""

_REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_TAG_KEY_RE = re.compile(r"^[A-Za-z0-9_.:/=+\-@ ]{1,128}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")

Percent = Annotated[int, Field(ge=1, le=1000)]


def _aws_region(value: str) -> str:
    if not _REGION_RE.match(value):
        raise ValueError(f"{value!r} is not an AWS region name like 'us-east-1'")
    return value


def _s3_bucket(value: str) -> str:
    if not _BUCKET_RE.match(value):
        raise ValueError("must be a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')")
    return value


AwsRegion = Annotated[str, AfterValidator(_aws_region)]
S3BucketName = Annotated[str, AfterValidator(_s3_bucket)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _reasonable_decimals(self) -> _Strict:
        # "1e400" is a string to YAML and a valid Decimal to pydantic, then inf as a float in
        # the template: no amount, threshold or percentage comes near 1e15.
        for name, value in self:
            if isinstance(value, Decimal) and (not value.is_finite() or abs(value) >= Decimal("1e15")):
                raise ValueError(f"{name}: {value} is not a finite number below 1e15")
        return self


class CurSource(_Strict):
    """Where the CUR 2.0 Data Export lives (or will live, when we create it)."""

    bucket: S3BucketName | None = Field(
        default=None,
        description="Existing bucket holding the export. Omit to let the stack create one.",
    )
    prefix: str = Field(default="cur", description="S3 prefix the export writes under.")
    export_name: str = Field(default="bedrock-cost-tracker", pattern=r"^[A-Za-z0-9_\-]{1,128}$")
    create_export: bool = Field(
        default=False,
        description="Create the AWS::BCMDataExports::Export (with IAM principal data).",
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return value.strip("/")

    @model_validator(mode="after")
    def _bucket_or_create(self) -> CurSource:
        if self.bucket is None and not self.create_export:
            raise ValueError("set 'bucket' to an existing export location, or 'create_export: true'")
        return self


class AthenaSettings(_Strict):
    """Athena workgroup limits: the cutoff is what stops a runaway query costing dollars."""

    database: str = Field(default="bedrock_cost", pattern=GLUE_NAME_PATTERN)
    table: str = Field(default="cur2", pattern=GLUE_NAME_PATTERN)
    bytes_scanned_cutoff_mb: int = Field(default=10_240, ge=10, le=10_000_000)
    results_retention_days: int = Field(default=30, ge=1, le=3650)


class AllowedValues(_Strict):
    """Allowed values for one tag key: a list, a regular expression, or both."""

    values: list[str] = Field(default_factory=list)
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        # Tag values are attacker-controlled: only patterns that cannot backtrack
        # catastrophically (safe_regex.py explains the subset).
        if value is not None:
            from bedrock_cost.safe_regex import UnsafePatternError, check_safe_pattern

            try:
                check_safe_pattern(value)
            except UnsafePatternError as exc:
                raise ValueError(str(exc)) from None
        return value


class TagPolicy(_Strict):
    """Tag rules for Bedrock resources (enforced by the tag-enforcer)."""

    required_keys: list[str] = Field(default_factory=list)
    allowed_values: dict[str, AllowedValues] = Field(default_factory=dict)
    case_sensitive: bool = Field(default=False, description="Compare keys and values case-sensitively.")
    defaults: dict[str, str] = Field(
        default_factory=dict, description="Values added for missing keys in remediate mode."
    )
    mode: Literal["report", "remediate"] = "report"

    @model_validator(mode="after")
    def _keys_known(self) -> TagPolicy:
        for key in list(self.allowed_values) + list(self.defaults):
            if not _TAG_KEY_RE.match(key):
                raise ValueError(f"tag key {key!r} is not a valid AWS tag key")
        # Remediation must never write a value the policy itself rejects.
        for key, value in self.defaults.items():
            if not value.strip():
                raise ValueError(f"defaults.{key}: empty default value")
            rule = self.allowed_values.get(key)
            if rule is None or not (rule.values or rule.pattern):
                continue
            if self.case_sensitive:
                listed = value.strip() in {v.strip() for v in rule.values}
            else:
                listed = value.strip().casefold() in {v.strip().casefold() for v in rule.values}
            flags = 0 if self.case_sensitive else re.IGNORECASE
            matched = rule.pattern is not None and re.fullmatch(rule.pattern, value.strip(), flags) is not None
            if not (listed or matched):
                raise ValueError(f"defaults.{key}: {value!r} is not an allowed value for {key!r}")
        return self


class Budget(_Strict):
    """A monthly budget (and optional daily one) in USD."""

    monthly_usd: Decimal = Field(gt=0)
    daily_usd: Decimal | None = Field(default=None, gt=0)
    thresholds_pct: list[Percent] = Field(default_factory=lambda: [50, 75, 90, 100])
    forecast_pct: Percent | None = 100

    @field_validator("thresholds_pct")
    @classmethod
    def _at_most_four(cls, value: list[int]) -> list[int]:
        # AWS Budgets allows 5 notifications; one is kept for the forecast.
        if not 1 <= len(value) <= 4:
            raise ValueError("give 1 to 4 actual-spend thresholds (AWS allows 5 notifications incl. forecast)")
        if len(set(value)) != len(value):
            raise ValueError("thresholds must be distinct")
        return sorted(value)


class Budgets(_Strict):
    total: Budget | None = None
    per_tag: dict[str, dict[str, Budget]] = Field(
        default_factory=dict,
        description="tag key -> tag value -> budget, e.g. {team: {ml: {monthly_usd: 5000}}}",
    )
    budget_action: Literal["none", "deny"] = Field(
        default="none",
        description="'deny' attaches a deny policy on bedrock:InvokeModel* at 100 % of the total budget.",
    )
    deny_role_names: list[str] = Field(default_factory=list)
    # AWS Budgets filter on service names; Claude & co. bill under "<model> (Amazon Bedrock Edition)".
    extra_service_names: list[str] = Field(
        default_factory=list,
        description="Cost Explorer service names to add to the budgets' Bedrock service filter.",
    )
    # Burn-rate forecast on the near-real-time estimate (docs/alerts.md).
    forecast_schedule_minutes: int = Field(default=60, ge=5, le=1440)
    forecast_trailing_days: int = Field(default=7, ge=1, le=28)
    forecast_min_days: int = Field(default=3, ge=1, le=28)

    @model_validator(mode="after")
    def _deny_needs_roles(self) -> Budgets:
        if self.budget_action == "deny" and (not self.deny_role_names or self.total is None):
            raise ValueError("budget_action 'deny' needs a 'total' budget and at least one of 'deny_role_names'")
        if self.forecast_min_days > self.forecast_trailing_days:
            raise ValueError("forecast_min_days cannot exceed forecast_trailing_days")
        for name in self.extra_service_names:
            if not name.strip() or len(name) > 1024:
                raise ValueError(f"extra_service_names: {name!r} is not a service name")
        return self


class Alerts(_Strict):
    emails: list[str] = Field(default_factory=list)
    slack_webhook_secret_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")
    # AWS allows one services anomaly monitor per account: reuse it instead of creating one.
    service_anomaly_monitor_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor/[0-9a-fA-F-]+$"
    )
    # The customer-managed KMS key encrypting the Slack secret, if not aws/secretsmanager.
    slack_webhook_secret_kms_key_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-fA-F-]+$"
    )
    # The services monitor sees every service; only Bedrock anomalies reach Slack unless set.
    forward_non_bedrock_anomalies: bool = False

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not _EMAIL_RE.match(email):
                raise ValueError(f"{email!r} is not an e-mail address")
        if len(value) > 10:
            raise ValueError("AWS Budgets accepts at most 10 e-mail subscribers")
        return value


class Thresholds(_Strict):
    spike_input_tokens_5min: int = Field(default=100_000, ge=1)
    anomaly_absolute_usd: Decimal = Field(default=Decimal("100"), gt=0)
    anomaly_percent: Decimal = Field(default=Decimal("20"), gt=0)
    anomaly_band_stddevs: Decimal = Field(default=Decimal("2"), gt=0)
    drift_pct: Decimal = Field(default=Decimal("10"), gt=0)
    error_rate_pct: Decimal = Field(default=Decimal("5"), gt=0, le=100)
    # Cost Anomaly Detection: notify when impact >= absolute AND (all) / OR (any) >= percent.
    anomaly_match: Literal["all", "any"] = "all"
    # Cost-pace alarm: 5-minute estimated cost above this multiple of the daily budget's pace.
    daily_pace_multiple: Decimal = Field(default=Decimal("3"), ge=1, le=100)


class Estimator(_Strict):
    schedule_minutes: int = Field(default=5, ge=1, le=60)
    settle_minutes: int = Field(default=3, ge=0, le=60, description="CloudWatch settling delay")
    max_catchup_minutes_per_run: int = Field(default=24 * 60, ge=5, le=15 * 24 * 60)
    profile_cache_ttl_seconds: int = Field(default=900, ge=0, le=86_400)
    metric_detail: Literal["alarms", "full"] = Field(
        default="alarms",
        description="'alarms': only the custom metrics alarms watch (total, budgeted tag values, unpriced); "
        "'full': also cost and tokens per model and per tag value (~5 metrics each, $0.30/month apiece).",
    )


class PriceOverride(_Strict):
    """Override the catalog price of one model/kind, USD per 1M tokens."""

    model: str
    usage_kind: Literal["input", "output", "cache-read", "cache-write"]
    usd_per_million: Decimal = Field(ge=0)
    scope: Literal["global", "regional"] | None = None
    tier: str | None = None


class Pricing(_Strict):
    overrides: list[PriceOverride] = Field(default_factory=list)
    discount_pct: Decimal = Field(default=Decimal("0"), ge=0, lt=100)


class Organization(_Strict):
    """Organisation mode (docs/organizations.md): a central stack plus a collector per member account.

    Present: ``app.py`` also builds the organisation stack (central bucket, event bus, OAM
    sink, StackSets); absent: one account, one stack, as before.
    """

    organization_id: str = Field(
        pattern=r"^o-[a-z0-9]{10,32}$", description="AWS Organizations id (aws:PrincipalOrgID)."
    )
    organizational_unit_ids: list[str] = Field(
        min_length=1, description="OUs (or the root r-...) whose accounts get a collector, now and when added."
    )
    home_region: AwsRegion = Field(description="Region of the central stack and of every member's collector.")
    collector_schedule_minutes: int = Field(
        default=60,
        ge=5,
        le=60,
        description="Estimator schedule in member accounts; GetMetricData is billed per run, per ModelId.",
    )
    call_as: Literal["SELF", "DELEGATED_ADMIN"] = Field(
        default="SELF",
        description="StackSets CallAs: SELF from the management account, DELEGATED_ADMIN from a delegated one.",
    )

    @field_validator("organizational_unit_ids")
    @classmethod
    def _ous(cls, value: list[str]) -> list[str]:
        for ou in value:
            if not re.match(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$", ou):
                raise ValueError(f"{ou!r} is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)")
        return value


class RequestBudget(_Strict):
    """A budget on the per-request ledger: every user (``value: "*"``) or one value."""

    subject: str = Field(pattern=r"^(user|meta:[A-Za-z0-9_.\-]{1,64}|tag:[A-Za-z0-9_.:/=+\-@]{1,128})$")
    value: str = Field(default="*", min_length=1, max_length=256)
    period: Literal["day", "month"]
    limit_usd: Decimal = Field(gt=0)
    enforce: bool = Field(default=False, description="Deny bedrock:InvokeModel* to a user past 100 %.")

    @model_validator(mode="after")
    def _enforce_users_only(self) -> RequestBudget:
        if self.enforce and self.subject != "user":
            raise ValueError("enforce applies to 'user' budgets only (a deny names one principal)")
        return self


class RequestLogs(_Strict):
    """The per-request ledger from Bedrock model invocation logs (docs/requests.md).

    ``logging`` decides who owns the account's invocation-logging configuration (one per
    account and region): ``off`` (default) leaves it untouched and deploys the ledger idle,
    ready for logging pointed at its log group; ``create`` sets it to the stack's log group
    and bucket (data delivery off unless ``keep_prompts``); ``adopt`` subscribes to the log
    group an existing configuration already writes to.
    """

    enabled: bool = True
    logging: Literal["off", "create", "adopt"] = "off"
    log_group_name: str | None = Field(default=None, pattern=r"^[.\-_/#A-Za-z0-9]{1,512}$")
    log_bucket: S3BucketName | None = Field(
        default=None, description="adopt: the bucket the existing configuration writes to."
    )
    log_prefix: str = Field(default="", description="adopt: the S3 key prefix of that configuration.")
    keep_prompts: bool = Field(default=False, description="create: also deliver text, image and embedding data.")
    retention_days: int = Field(default=30, ge=1, le=3653)
    budgets: list[RequestBudget] = Field(default_factory=list)
    slow_burn_sigma: Decimal = Field(
        default=Decimal(3),
        gt=0,
        le=100,
        description="Slow-burn alert when a user's or customer's day is this many standard deviations "
        "above its trailing 14-day, weekday-aware baseline.",
    )
    enforcement: bool = Field(default=False, description="Grant the ingest Lambda the IAM deny (opt-in).")
    enforce_targets: list[str] = Field(
        default_factory=lambda: ["role/*", "user/*"],
        description="IAM resource patterns (after 'arn:aws:iam::<acct>:') the deny may be put on.",
    )

    @model_validator(mode="after")
    def _adopt_names_group(self) -> RequestLogs:
        if self.logging == "adopt" and not self.log_group_name:
            raise ValueError("logging 'adopt' needs 'log_group_name' (the group the existing configuration writes to)")
        if self.logging != "adopt" and (self.log_group_name or self.log_bucket):
            raise ValueError("log_group_name/log_bucket are for logging 'adopt' only")
        for target in self.enforce_targets:
            if not re.fullmatch(r"(role|user)/[A-Za-z0-9+=,.@_/*-]{1,512}", target):
                raise ValueError(f"enforce_targets: {target!r} is not a 'role/<pattern>' or 'user/<pattern>'")
        if any(b.enforce for b in self.budgets) and not self.enforcement:
            raise ValueError("a budget sets 'enforce' but request_logs.enforcement is false")
        return self


class Config(_Strict):
    """The whole deployment configuration."""

    regions: list[str] = Field(default_factory=lambda: ["us-east-1"], min_length=1)
    report_tag_keys: list[str] = Field(
        default_factory=lambda: ["team", "project", "environment"],
        description="User cost-allocation tag keys to report on (without the 'user:' prefix).",
    )
    cur: CurSource
    athena: AthenaSettings = Field(default_factory=AthenaSettings)
    tag_policy: TagPolicy = Field(default_factory=TagPolicy)
    budgets: Budgets = Field(default_factory=Budgets)
    alerts: Alerts = Field(default_factory=Alerts)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    estimator: Estimator = Field(default_factory=Estimator)
    pricing: Pricing = Field(default_factory=Pricing)
    organization: Organization | None = None
    request_logs: RequestLogs = Field(default_factory=RequestLogs)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        # Checked here rather than as list[AwsRegion] so an error names ``regions``, not ``regions.<index>``.
        for region in value:
            _aws_region(region)
        return value

    @field_validator("report_tag_keys")
    @classmethod
    def _tag_keys(cls, value: list[str]) -> list[str]:
        # These keys are rendered into Athena view SQL as quoted literals: keep them to
        # a character set that needs no escaping.
        for key in value:
            if not SQL_SAFE_TAG_KEY_RE.match(key):
                raise ValueError(f"tag key {key!r} must match {SQL_SAFE_TAG_KEY_RE.pattern}")
        if len(set(value)) != len(value):
            raise ValueError("tag keys must be distinct")
        return value

    @model_validator(mode="after")
    def _budget_tags_reported(self) -> Config:
        for key in self.budgets.per_tag:
            if key not in self.report_tag_keys:
                raise ValueError(f"budgets.per_tag key {key!r} is not in report_tag_keys")
        if self.organization is not None and self.organization.home_region not in self.regions:
            raise ValueError(f"organization.home_region {self.organization.home_region!r} is not in regions")
        return self
