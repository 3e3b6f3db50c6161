"""The catalog's rows that are not per-token model usage: capacity billed against Bedrock
(reserved tier, provisioned throughput, AgentCore), non-usage lines (credits, refunds,
tax) and other services' usage a Bedrock report must leave out.

They are built from the shapes and helpers of ``_cur_catalog``, which assembles them
with the model rows in ``catalog()``.
"""

from __future__ import annotations

from bedrock_cost.sample_data._cur_catalog import (
    _MP_COUNT,
    _REGION_BY_PREFIX,
    _REGION_SHARE,
    ACCOUNTS,
    LineTemplate,
    _bedrock_template,
    _fixed_unit,
    _model,
    marketplace_product_code,
    short_id,
)


def capacity_templates() -> list[LineTemplate]:
    """Reserved tier, provisioned throughput and AgentCore: billed, but not per token."""
    sonnet45 = _model("Claude Sonnet 4.5")
    nova_pro = _model("Nova Pro")
    llama70 = _model("Llama 3.3 70B")
    templates: list[LineTemplate] = []
    for direction, median, price in (("input", 100.0, 0.25), ("output", 20.0, 0.50)):
        usage_type = f"EU-Claude4.5Sonnet-reserved-1-month-{direction}-tokens-per-minute-cross-region-global"
        templates.append(
            _bedrock_template(
                sonnet45,
                region="eu-central-1",
                feature=f"{direction}-tokens",
                inference_type="reserved",
                product_name="Amazon Bedrock",
                product_code="AmazonBedrockFoundationModels",
                entity="AWS",
                usage_type=usage_type,
                line_item_type="DiscountedUsage",
                operations=("ReservedThroughput",),
                units=_fixed_unit("1K TPM-Hours"),
                price=price,
                quantity_median=median,
                quantity_sigma=0.0,
                integer_quantity=True,
                weight=0.0015,
                description=f"${price} per 1K {direction} tokens per minute reserved (1 month) for Claude4.5Sonnet",
                discountable=True,
            )
        )
    for model, prefix, price in ((nova_pro, "USE1", 18.25), (llama70, "USW2", 21.18)):
        region, region_name = _REGION_BY_PREFIX[prefix]
        assert model.billing_name is not None
        templates.append(
            _bedrock_template(
                model,
                region=region,
                feature="model-units",
                inference_type="provisioned",
                product_name="Amazon Bedrock",
                product_code=("AmazonBedrock" if model is nova_pro else "AmazonBedrockService"),
                servicecode="AmazonBedrock",
                entity="AWS",
                usage_type=f"{prefix}-{model.billing_name}-ProvisionedThroughput-NoCommit-ModelUnits",
                operations=("ProvisionedThroughput",),
                units=_fixed_unit("Hrs"),
                price=price,
                quantity_median=1,
                quantity_sigma=0.4,
                integer_quantity=True,
                weight=0.004,
                description=f"${price} per model unit hour of provisioned throughput for {model.billing_name} "
                f"in {region_name}",
                model_arn=f"arn:aws:bedrock:{region}:{ACCOUNTS[1][0]}:provisioned-model/{short_id(model.name)}",
                discountable=True,
            )
        )
    agentcore = (
        ("Runtime-vCPU-Hours", "vCPU-Hours", 0.0895, 20.0, "runtime", "InvokeAgentRuntime"),
        ("Runtime-Memory-GB-Hours", "GB-Hours", 0.00945, 40.0, "runtime", "InvokeAgentRuntime"),
        ("Gateway-ToolInvocations", "Requests", 0.000005, 20_000.0, "gateway", "InvokeGateway"),
    )
    for prefix in ("USE1", "USW2"):
        region, region_name = _REGION_BY_PREFIX[prefix]
        for suffix, unit, price, median, feature, operation in agentcore:
            templates.append(
                _bedrock_template(
                    None,
                    region=region,
                    feature=feature,
                    inference_type="on-demand",
                    product_name="Amazon Bedrock AgentCore",
                    product_code="AmazonBedrockAgentCore",
                    entity="AWS",
                    usage_type=f"{prefix}-AgentCore-{suffix}",
                    operations=(operation,),
                    units=_fixed_unit(unit),
                    price=price,
                    quantity_median=median,
                    quantity_sigma=0.9,
                    integer_quantity=unit == "Requests",
                    weight=0.01 * _REGION_SHARE[prefix],
                    description=f"${price:.7g} per {unit} for Amazon Bedrock AgentCore {feature} in {region_name}",
                    fixed_resources=(
                        f"arn:aws:bedrock-agentcore:{region}:{ACCOUNTS[1][0]}:runtime/"
                        f"support_agent-{short_id(region, 10)}",
                    ),
                    discountable=True,
                )
            )
    return templates


def nonusage_templates() -> list[LineTemplate]:
    """Credits, refunds and tax: billed against Bedrock, never part of usage cost."""
    sonnet = _model("Claude Sonnet 4.6")
    assert sonnet.product_name is not None
    mp_code = marketplace_product_code(sonnet.product_name)
    rows = (
        # line item type, entity, product code, usage type, sign, description, product name, weight
        ("Credit", "AWS", "AmazonBedrock", "USE1-NovaPro-input-tokens", -1.0, "AWS Promotional Credit", None, 0.30),
        ("Credit", "AWS Marketplace", mp_code, "USE1-MP:USE1_InputTokenCount-Units", -1.0,
         f"AWS Marketplace|{sonnet.product_name}|Credit", sonnet.product_name, 0.15),
        ("Refund", "AWS", "AmazonBedrockService", "USE1-Llama3-3-70B-input-tokens", -1.0,
         "Refund for Amazon Bedrock usage", None, 0.10),
        ("Refund", "AWS Marketplace", mp_code, "USW2-MP:USW2_OutputTokenCount-Units", -1.0,
         f"AWS Marketplace|{sonnet.product_name}|Refund", sonnet.product_name, 0.05),
        ("Tax", "AWS", "AmazonBedrock", "", 1.0, "Tax for product code AmazonBedrock", None, 0.25),
        ("Tax", "AWS Marketplace", mp_code, "", 1.0, f"Tax for product code {mp_code}", sonnet.product_name, 0.15),
    )  # fmt: skip
    templates = []
    for line_type, entity, code, usage_type, sign, description, product_name, weight in rows:
        templates.append(
            LineTemplate(
                group="nonusage",
                entity=entity,
                product_code=code,
                usage_type=usage_type,
                line_item_type=line_type,
                operations=("",),
                region="us-east-1",
                units=_fixed_unit(None),
                price=1.0,
                quantity_median=5.0,
                quantity_sigma=0.8,
                integer_quantity=False,
                weight=weight,
                description=description,
                product_name=product_name or "Amazon Bedrock",
                product_family_old=None,
                product_family_new=None,
                servicecode=code,
                product_map_old=None,
                product_map_new=None,
                sign=sign,
                zero_amount=True,
            )
        )
    return templates


def noise_templates() -> list[LineTemplate]:
    """Other services a Bedrock report must exclude, some tagged with the same teams."""
    acct = ACCOUNTS[1][0]
    vendor = "Acme LLM Gateway (SaaS)"
    vendor_code = marketplace_product_code(vendor)
    # A Marketplace SaaS product with "Bedrock" in its name that is not a Bedrock model:
    # only '(Amazon Bedrock Edition)' products (or family 'Amazon Bedrock') are Bedrock spend.
    lookalike = "Guardrail Monitor for Amazon Bedrock (SaaS)"
    lookalike_code = marketplace_product_code(lookalike)
    rows = (
        # entity, code, usage type, line type, op, unit, price, median, sigma, weight, family, product name, resources
        ("AWS", "AmazonEC2", "USE1-BoxUsage:m5.large", "Usage", "RunInstances", "Hrs", 0.096, 1.0, 0.0, 0.30,
         "Compute Instance", "Amazon Elastic Compute Cloud",
         tuple(f"i-0{short_id(f'ec2-{i}', 16)}" for i in range(6))),
        ("AWS", "AmazonEC2", "USE1-BoxUsage:g5.xlarge", "SavingsPlanCoveredUsage", "RunInstances", "Hrs", 1.006,
         1.0, 0.0, 0.10, "Compute Instance", "Amazon Elastic Compute Cloud",
         tuple(f"i-0{short_id(f'gpu-{i}', 16)}" for i in range(3))),
        ("AWS", "AmazonS3", "USE1-TimedStorage-ByteHrs", "Usage", "StandardStorage", "GB-Mo", 0.023, 2.0, 1.0,
         0.20, "Storage", "Amazon Simple Storage Service",
         ("bedrock-prompts-archive", "ml-datasets-prod", "cur-exports")),
        ("AWS", "AmazonS3", "USE1-Requests-Tier1", "Usage", "PutObject", "Requests", 0.000005, 5000.0, 1.0, 0.10,
         "API Request", "Amazon Simple Storage Service", ("ml-datasets-prod",)),
        ("AWS", "AWSLambda", "USE1-Lambda-GB-Second", "Usage", "Invoke", "Lambda-GB-Second", 0.0000166667,
         20_000.0, 1.0, 0.15, "Serverless", "AWS Lambda",
         (f"arn:aws:lambda:us-east-1:{acct}:function:chat-api",
          f"arn:aws:lambda:us-east-1:{acct}:function:rag-indexer")),
        ("AWS", "AWSLambda", "USE1-Request", "Usage", "Invoke", "Requests", 0.0000002, 50_000.0, 1.0, 0.05,
         "Serverless", "AWS Lambda", (f"arn:aws:lambda:us-east-1:{acct}:function:chat-api",)),
        ("AWS Marketplace", vendor_code, "USE1-MP:USE1_InputTokenCount-Units", "Usage", "Usage", "Units", 0.000002,
         100_000.0, 1.0, 0.10, None, vendor, ()),
        ("AWS Marketplace", lookalike_code, "USE1-MP:USE1_input_tokens_standard-Units", "Usage", "Usage", "Units",
         0.000001, 100_000.0, 1.0, 0.03, None, lookalike, ()),
    )  # fmt: skip
    templates = []
    for entity, code, usage_type, line_type, op, unit, price, median, sigma, weight, family, name, resources in rows:
        description = (
            f"AWS Marketplace|{name}|{{unit}}" if entity == "AWS Marketplace" else f"${price:.7g} per {unit} for {name}"
        )
        product_map = {"region": "us-east-1", "servicename": name}
        templates.append(
            LineTemplate(
                group="noise",
                entity=entity,
                product_code=code,
                usage_type=usage_type,
                line_item_type=line_type,
                operations=(op,),
                region="us-east-1",
                units=_MP_COUNT if entity == "AWS Marketplace" else _fixed_unit(unit),
                price=price,
                quantity_median=median,
                quantity_sigma=sigma,
                integer_quantity=unit in {"Requests", "Units"},
                weight=weight,
                description=description,
                product_name=name,
                product_family_old=family,
                product_family_new=family,
                servicecode=code,
                product_map_old=product_map,
                product_map_new=product_map,
                fixed_resources=resources,
                discountable=entity == "AWS",
            )
        )
    return templates
