-- Alerts: billed Bedrock usage cost per day and value of one configured tag key
-- ({{tag_column}} is the base view's column for that key; untagged rows are left out).
SELECT usage_date, {{tag_column}} AS tag_value, SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage AND {{tag_column}} IS NOT NULL
GROUP BY usage_date, {{tag_column}}
ORDER BY usage_date, tag_value
