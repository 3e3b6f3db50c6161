-- Usage spend of one billing period per resource and principal, with the resource's
-- value for up to 8 tag-policy keys (:key_a ... :key_h; an unused slot gets '' and
-- yields NULL). A value is NULL when the tag is missing or blank. The tag policy
-- (allowed values, patterns, case rules) is then evaluated in Python on each group, with
-- the same code the tag-enforcer runs. Keys travel as parameters, never as SQL text;
-- tag_value(:key) is the one tag-value expression the reports share (billing/sql.py).
SELECT
  COALESCE(resource_id, '(no resource)') AS resource_id,
  COALESCE(principal, '(unknown)') AS principal,
  {{tag_value(:key_a)}} AS tag_0,
  {{tag_value(:key_b)}} AS tag_1,
  {{tag_value(:key_c)}} AS tag_2,
  {{tag_value(:key_d)}} AS tag_3,
  {{tag_value(:key_e)}} AS tag_4,
  {{tag_value(:key_f)}} AS tag_5,
  {{tag_value(:key_g)}} AS tag_6,
  {{tag_value(:key_h)}} AS tag_7,
  SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_line_items
WHERE billing_period = :period AND is_usage
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
