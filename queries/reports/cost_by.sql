-- The billed cost report behind `bedrock-cost report --by KEY`: usage cost and tokens
-- of one billing period grouped by an allow-listed expression.
SELECT
  {{group_expr}} AS group_key,
  {{usage_sums}}
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage
GROUP BY 1
ORDER BY cost_usd DESC, group_key
