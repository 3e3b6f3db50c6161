-- Usage spend lacking at least one configured tag key, per resource, principal and
-- model, with the keys that are missing. Rank by cost_usd to see where tagging pays off.
CREATE OR REPLACE VIEW {{database}}.bedrock_untagged_spend AS
SELECT
  billing_period,
  COALESCE(resource_id, '(no resource)') AS resource_id,
  COALESCE(principal, '(unknown)') AS principal,
  model,
  missing_tag_keys,
  SUM(cost_usd) AS cost_usd
FROM (
  SELECT
    billing_period,
    resource_id,
    principal,
    model,
    cost_usd,
    {{missing_tag_keys_expr}} AS missing_tag_keys
  FROM {{database}}.bedrock_line_items
  WHERE is_usage
) AS u
WHERE missing_tag_keys <> ''
GROUP BY
  billing_period, COALESCE(resource_id, '(no resource)'), COALESCE(principal, '(unknown)'), model, missing_tag_keys
