-- Alerts: billed Bedrock usage cost per day of a billing period (replayed burn-rate forecast).
SELECT usage_date, SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_cost_by_model_day
WHERE billing_period = :period
GROUP BY usage_date
ORDER BY usage_date
