-- The billed cost report behind `bedrock-cost report --by KEY`: usage cost and tokens
-- of one billing period grouped by an allow-listed expression. {{source_view}} is
-- bedrock_line_items for model and provider, else bedrock_line_items_base (no joins).
SELECT
  {{group_expr}} AS group_key,
  {{usage_sums}}
FROM {{database}}.{{source_view}}
WHERE billing_period = :period AND is_usage
GROUP BY 1
