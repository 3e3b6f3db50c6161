-- HTML report: how the bill splits across input, output, cache read, cache write and other usage.
SELECT usage_kind, SUM(cost_usd) AS cost_usd, SUM(tokens) AS tokens
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage
GROUP BY usage_kind
ORDER BY cost_usd DESC, usage_kind
