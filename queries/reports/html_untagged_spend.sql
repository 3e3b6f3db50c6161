-- HTML report: the largest untagged spenders (resource, principal, model), with the totals
-- over every untagged group so the page can say what share the ranking covers.
SELECT
  resource_id,
  principal,
  model,
  missing_tag_keys,
  cost_usd,
  SUM(cost_usd) OVER () AS untagged_total_usd,
  COUNT(*) OVER () AS untagged_groups
FROM {{database}}.bedrock_untagged_spend
WHERE billing_period = :period
ORDER BY cost_usd DESC, resource_id, principal, model
LIMIT 20
