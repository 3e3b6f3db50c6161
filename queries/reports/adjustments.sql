-- Credits, refunds and tax of one billing period, reported apart from usage (the cost
-- report, the daily CUR reporter and the HTML report).
SELECT line_item_type, SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_adjustments
WHERE billing_period = :period
GROUP BY line_item_type
ORDER BY line_item_type
