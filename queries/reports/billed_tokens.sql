-- Billed Bedrock usage of one billing period per day, model, account, region, usage kind,
-- tier and scope: the billed side of like-for-like reconciliation with the estimate.
--
-- line_class says what the estimate can compare: 'token' rows (input, output, cache
-- read and write of on-demand-style tiers) have a CloudWatch counterpart; provisioned
-- throughput, AgentCore, images, the bedrock-mantle endpoint and every other non-token
-- row do not, and are reported apart as "not estimated". Long-context usage types bill
-- the same tokens at a higher rate: they keep the token kind and carry tier
-- 'long-context' so a drift can be traced to them.
SELECT
  usage_date,
  model,
  usage_account_id AS account_id,
  region,
  usage_kind,
  CASE
    WHEN strpos(lower(usage_type), 'long-context') > 0 OR strpos(lower(usage_type), 'longcontext') > 0
      THEN 'long-context'
    ELSE tier
  END AS tier,
  scope,
  CASE
    WHEN product_code = 'AmazonBedrockAgentCore' THEN 'agentcore'
    WHEN tier = 'provisioned' THEN 'provisioned'
    WHEN strpos(lower(usage_type), 'image') > 0 THEN 'image'
    WHEN strpos(lower(usage_type), 'mantle') > 0 THEN 'mantle'
    WHEN usage_kind IN ('input', 'output', 'cache-read', 'cache-write') THEN 'token'
    ELSE 'other'
  END AS line_class,
  CAST(COALESCE(SUM(tokens), 0) AS BIGINT) AS tokens,
  CAST(COALESCE(SUM(cost_usd), 0) AS DECIMAL(38, 10)) AS cost_usd
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
