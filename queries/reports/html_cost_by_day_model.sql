-- HTML report: billed usage cost per day and model (the stacked daily chart).
SELECT usage_date, model, SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_cost_by_model_day
WHERE billing_period = :period
GROUP BY usage_date, model
ORDER BY usage_date, model
