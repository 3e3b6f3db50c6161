-- Untagged usage spend of one billing period, as the view ranks it: one row per resource,
-- principal, model and set of missing report tag keys. The tag-governance ranking sums
-- these rows per resource and per principal, so its totals equal the view's to the cent.
SELECT
  resource_id,
  principal,
  model,
  missing_tag_keys,
  cost_usd
FROM {{database}}.bedrock_untagged_spend
WHERE billing_period = :period
