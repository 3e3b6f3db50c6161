-- Effective unit prices of one billing period (USD per 1M tokens as billed), per model,
-- kind, scope and tier: the estimator's CUR calibration and the HTML report's price table.
SELECT billing_period, provider, model, usage_kind, scope, tier, tokens, cost_usd, usd_per_million
FROM {{database}}.bedrock_unit_prices
WHERE billing_period = :period
ORDER BY provider, model, usage_kind, scope, tier
