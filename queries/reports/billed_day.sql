-- Billed Bedrock usage cost of one day, for reconciliation with the estimate.
SELECT CAST(COALESCE(SUM(cost_usd), 0) AS DECIMAL(38, 10)) AS cost_usd
FROM {{database}}.bedrock_cost_by_model_day
WHERE billing_period = :period AND usage_date = CAST(:day AS DATE)
