-- HTML report: credits, refunds and tax of the period, shown apart from usage cost.
SELECT line_item_type, SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_adjustments
WHERE billing_period = :period
GROUP BY line_item_type
ORDER BY line_item_type
