-- Billed Bedrock usage cost per day and model of one billing period: the HTML report's
-- stacked daily chart and, summed per day, the demo's replayed burn-rate forecast.
SELECT usage_date, model, SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_cost_by_model_day
WHERE billing_period = :period
GROUP BY usage_date, model
ORDER BY usage_date, model
