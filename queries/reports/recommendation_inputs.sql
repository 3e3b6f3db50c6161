-- Inputs of savings recommendations for one billing period: billed usage per model,
-- caller, usage kind, tier and scope, with a flag for one-hour cache writes and the
-- number of days billed (to scale a saving to a month). Effective prices follow from
-- cost / tokens; provisioned throughput and other non-token rows keep their cost.
SELECT
  model,
  provider,
  principal,
  usage_kind,
  tier,
  scope,
  strpos(lower(usage_type), '1h') > 0 AS cache_write_1h,
  CAST(COALESCE(SUM(tokens), 0) AS BIGINT) AS tokens,
  CAST(COALESCE(SUM(cost_usd), 0) AS DECIMAL(38, 10)) AS cost_usd,
  COUNT(DISTINCT usage_date) AS days
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6, 7
