-- Effective unit prices of one billing period (USD per 1M tokens as billed), for the
-- estimator's CUR calibration.
SELECT billing_period, provider, model, usage_kind, scope, tier, tokens, cost_usd, usd_per_million
FROM {{database}}.bedrock_unit_prices
WHERE billing_period = :period
ORDER BY model, usage_kind, scope, tier
