-- HTML report: token usage of models the alias table does not know. Billed, but the
-- estimator cannot price it: shown loudly so the catalog learns the model.
SELECT model, usage_type, SUM(cost_usd) AS cost_usd, SUM(tokens) AS tokens
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage AND NOT model_known AND usage_kind <> 'other'
GROUP BY model, usage_type
ORDER BY cost_usd DESC, model, usage_type
LIMIT 20
