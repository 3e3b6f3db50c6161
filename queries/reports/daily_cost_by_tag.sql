-- Billed Bedrock usage cost per day and value of one tag key, untagged rows included as
-- NULL: the per-tag-value series of the month-end forecast (``bedrock-cost forecast``).
SELECT usage_date, {{tag_column}} AS tag_value, CAST(SUM(cost_usd) AS DECIMAL(38, 10)) AS cost_usd
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage
GROUP BY usage_date, {{tag_column}}
ORDER BY usage_date, tag_value
