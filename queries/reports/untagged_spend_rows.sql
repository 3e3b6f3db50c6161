-- Untagged usage spend of one billing period, as the view ranks it: one row per resource,
-- principal, model and set of missing report tag keys, largest first, with the total and
-- the count over every row. :top keeps the first N rows (the HTML report's ranking); '0'
-- keeps all of them (the tag-governance ranking sums them per resource and per principal,
-- so its totals equal the view's to the cent).
SELECT resource_id, principal, model, missing_tag_keys, cost_usd, untagged_total_usd, untagged_groups
FROM (
  SELECT
    resource_id,
    principal,
    model,
    missing_tag_keys,
    cost_usd,
    ROW_NUMBER() OVER (ORDER BY cost_usd DESC, resource_id, principal, model, missing_tag_keys) AS spend_rank,
    SUM(cost_usd) OVER () AS untagged_total_usd,
    COUNT(*) OVER () AS untagged_groups
  FROM {{database}}.bedrock_untagged_spend
  WHERE billing_period = :period
) AS ranked
WHERE CAST(:top AS BIGINT) = 0 OR spend_rank <= CAST(:top AS BIGINT)
ORDER BY spend_rank
