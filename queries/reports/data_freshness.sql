-- The newest usage hour and the row count of one billing period: how fresh the bill is.
SELECT MAX(usage_start) AS latest_usage_start, COUNT(*) AS line_items
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period
