-- Models the alias table does not know, with their token usage in one billing period: kept
-- under the name the bill gives them (never 'Amazon Bedrock'), listed so the catalog learns them.
SELECT model, SUM(cost_usd) AS cost_usd, SUM(tokens) AS tokens
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage AND NOT model_known AND usage_kind <> 'other'
GROUP BY model
ORDER BY cost_usd DESC, model
