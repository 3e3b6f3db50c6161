-- HTML report: effective unit prices as billed (USD per 1M tokens), per model, kind, scope and tier.
SELECT provider, model, usage_kind, scope, tier, tokens, cost_usd, usd_per_million
FROM {{database}}.bedrock_unit_prices
WHERE billing_period = :period
ORDER BY provider, model, usage_kind, scope, tier
