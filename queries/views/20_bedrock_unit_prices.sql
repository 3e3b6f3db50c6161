-- Effective unit price as billed, USD per 1M tokens, per model, token kind, scope and
-- tier. This is what a customer with private pricing really pays; the estimator uses it
-- in preference to list prices.
CREATE OR REPLACE VIEW {{database}}.bedrock_unit_prices AS
SELECT
  billing_period,
  provider,
  model,
  usage_kind,
  scope,
  tier,
  SUM(tokens) AS tokens,
  SUM(cost_usd) AS cost_usd,
  CAST(SUM(cost_usd) * 1000000 / CAST(SUM(tokens) AS DECIMAL(38, 0)) AS DECIMAL(38, 6)) AS usd_per_million
FROM {{database}}.bedrock_line_items
WHERE is_usage AND usage_kind IN ('input', 'output', 'cache-read', 'cache-write')
GROUP BY billing_period, provider, model, usage_kind, scope, tier
HAVING SUM(tokens) > 0
