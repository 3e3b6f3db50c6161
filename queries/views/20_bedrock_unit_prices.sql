-- Effective unit price as billed, USD per 1M tokens, per model, token kind, scope and
-- tier. This is what a customer with private pricing really pays; the estimator uses it
-- in preference to list prices (after a guard against prices far from the catalog's).
-- One-hour cache writes are priced apart from 5-minute ones (usage_kind 'cache-write-1h')
-- and long-context rows apart from the rest (tier '<tier>+long-context'), so neither
-- blends into the price the estimator applies to ordinary tokens.
CREATE OR REPLACE VIEW {{database}}.bedrock_unit_prices AS
SELECT
  billing_period,
  provider,
  model,
  CASE WHEN cache_ttl = '1h' THEN 'cache-write-1h' ELSE usage_kind END AS usage_kind,
  scope,
  CASE WHEN long_context THEN concat(tier, '+long-context') ELSE tier END AS tier,
  SUM(tokens) AS tokens,
  SUM(cost_usd) AS cost_usd,
  CAST(SUM(cost_usd) * 1000000 / CAST(SUM(tokens) AS DECIMAL(38, 0)) AS DECIMAL(38, 6)) AS usd_per_million
FROM {{database}}.bedrock_line_items
WHERE is_usage AND usage_kind IN ('input', 'output', 'cache-read', 'cache-write')
GROUP BY
  billing_period, provider, model, CASE WHEN cache_ttl = '1h' THEN 'cache-write-1h' ELSE usage_kind END, scope,
  CASE WHEN long_context THEN concat(tier, '+long-context') ELSE tier END
HAVING SUM(tokens) > 0
