-- HTML report: period totals and freshness (newest usage hour in the data).
SELECT
  COUNT(*) AS line_items,
  MAX(usage_start) AS latest_usage_start,
  SUM(CASE WHEN is_usage THEN cost_usd END) AS usage_cost_usd,
  SUM(CASE WHEN is_usage THEN tokens END) AS usage_tokens
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period
